package client_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/heraldhq/herald/client"
)

func TestPublishReceive(t *testing.T) {
	s := startServer(t, testConfig(), nil)
	ctx := ctxT(t)
	ra, rb := newRecorder(), newRecorder()
	a := dial(t, ra, client.Options{URL: s.url})
	b := dial(t, rb, client.Options{URL: s.url, Token: token(t, "bob", 0)})

	if a.Info().Node != s.node.ID() || a.Info().User != "" || a.Info().Client == "" {
		t.Fatalf("anonymous connect info = %+v", a.Info())
	}
	if b.Info().User != "bob" {
		t.Fatalf("connect info user = %q, want bob", b.Info().User)
	}
	for _, c := range []*client.Client{a, b} {
		r, err := c.Subscribe(ctx, "chat:lobby")
		if err != nil {
			t.Fatal(err)
		}
		// Nothing published yet: the channel has no stream, so no epoch.
		if r.Channel != "chat:lobby" || r.Offset != 0 || r.Epoch != "" {
			t.Fatalf("subscribe result = %+v", r)
		}
	}
	res, err := b.Publish(ctx, "chat:lobby", map[string]string{"text": "hi"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Offset != 1 {
		t.Fatalf("publish offset = %d, want 1", res.Offset)
	}
	p := waitFor[client.Publication](t, ra, nil)
	if p.Channel != "chat:lobby" || p.Offset != 1 || p.Epoch != res.Epoch || string(p.Data) != `{"text":"hi"}` {
		t.Fatalf("publication = %+v (data %s)", p, p.Data)
	}
	if p.Info == nil || p.Info.User != "bob" || p.Info.Client != b.Info().Client || p.Time.IsZero() {
		t.Fatalf("publication info = %+v, time %v", p.Info, p.Time)
	}

	// Raw JSON passes through untouched (but compacted onto one line).
	if _, err := a.Publish(ctx, "chat:lobby", json.RawMessage("{\n \"n\": 2\n}")); err != nil {
		t.Fatal(err)
	}
	p = waitFor[client.Publication](t, rb, func(p client.Publication) bool { return p.Offset == 2 })
	if string(p.Data) != `{"n":2}` || p.Info == nil || p.Info.Client != a.Info().Client {
		t.Fatalf("publication = %+v (data %s)", p, p.Data)
	}
	// A server publication has no info.
	if _, err := s.node.Publish(ctx, "chat:lobby", json.RawMessage(`"from server"`)); err != nil {
		t.Fatal(err)
	}
	p = waitFor[client.Publication](t, ra, func(p client.Publication) bool { return p.Offset == 3 })
	if p.Info != nil || string(p.Data) != `"from server"` {
		t.Fatalf("server publication = %+v (data %s)", p, p.Data)
	}
	if d, err := a.Ping(ctx); err != nil || d <= 0 {
		t.Fatalf("Ping = %v, %v", d, err)
	}
}

func TestJoinLeave(t *testing.T) {
	s := startServer(t, testConfig(), nil)
	ctx := ctxT(t)
	ra := newRecorder()
	a := dial(t, ra, client.Options{URL: s.url, Token: token(t, "alice", 0)})
	b := dial(t, newRecorder(), client.Options{URL: s.url, Token: token(t, "bob", 0)})
	if _, err := a.Subscribe(ctx, "chat:room"); err != nil {
		t.Fatal(err)
	}
	own := waitFor[joinEvent](t, ra, nil)
	if own != (joinEvent{"chat:room", a.Info().Client, "alice"}) {
		t.Fatalf("own join = %+v", own)
	}
	if _, err := b.Subscribe(ctx, "chat:room"); err != nil {
		t.Fatal(err)
	}
	if j := waitFor[joinEvent](t, ra, nil); j != (joinEvent{"chat:room", b.Info().Client, "bob"}) {
		t.Fatalf("join = %+v", j)
	}
	if err := b.Unsubscribe(ctx, "chat:room"); err != nil {
		t.Fatal(err)
	}
	if l := waitFor[leaveEvent](t, ra, nil); l != (leaveEvent{"chat:room", b.Info().Client, "bob"}) {
		t.Fatalf("leave = %+v", l)
	}
	// Unsubscribing again (not subscribed) succeeds, as documented.
	if err := b.Unsubscribe(ctx, "chat:room"); err != nil {
		t.Fatal(err)
	}
	// A closed connection leaves too.
	if _, err := b.Subscribe(ctx, "chat:room"); err != nil {
		t.Fatal(err)
	}
	waitFor[joinEvent](t, ra, func(j joinEvent) bool { return j.User == "bob" })
	b.Close()
	waitFor[leaveEvent](t, ra, func(l leaveEvent) bool { return l.User == "bob" })
}

func TestPresence(t *testing.T) {
	s := startServer(t, testConfig(), nil)
	ctx := ctxT(t)
	a := dial(t, newRecorder(), client.Options{URL: s.url, Token: token(t, "alice", 0)})
	b := dial(t, newRecorder(), client.Options{URL: s.url})
	for _, c := range []*client.Client{a, b} {
		if _, err := c.Subscribe(ctx, "chat:p"); err != nil {
			t.Fatal(err)
		}
	}
	list, err := b.Presence(ctx, "chat:p")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, ci := range list {
		got[ci.Client] = ci.User
	}
	want := map[string]string{a.Info().Client: "alice", b.Info().Client: ""}
	if len(got) != 2 || got[a.Info().Client] != "alice" || got[b.Info().Client] != "" {
		t.Fatalf("presence = %v, want %v", got, want)
	}
}

func TestHistory(t *testing.T) {
	s := startServer(t, testConfig(), nil)
	ctx := ctxT(t)
	c := dial(t, newRecorder(), client.Options{URL: s.url})
	if _, err := c.Subscribe(ctx, "chat:h"); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if _, err := c.Publish(ctx, "chat:h", map[string]int{"n": i}); err != nil {
			t.Fatal(err)
		}
	}
	all, err := c.History(ctx, "chat:h", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Publications) != 3 || all.Offset != 3 || all.Epoch == "" {
		t.Fatalf("history = %+v", all)
	}
	for i, p := range all.Publications {
		if p.Offset != uint64(i+1) || p.Channel != "chat:h" || p.Info == nil || p.Info.Client != c.Info().Client || p.Time.IsZero() {
			t.Fatalf("history[%d] = %+v", i, p)
		}
	}
	if string(all.Publications[2].Data) != `{"n":3}` {
		t.Fatalf("history[2].Data = %s", all.Publications[2].Data)
	}
	since := uint64(1)
	some, err := c.History(ctx, "chat:h", &since, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(some.Publications) != 1 || some.Publications[0].Offset != 2 {
		t.Fatalf("history since 1 limit 1 = %+v", some)
	}
}

func TestPushReachesEveryConnectionOfUser(t *testing.T) {
	s := startServer(t, testConfig(), nil)
	ctx := ctxT(t)
	r1, r2, r3 := newRecorder(), newRecorder(), newRecorder()
	dial(t, r1, client.Options{URL: s.url, Token: token(t, "alice", 0)})
	dial(t, r2, client.Options{URL: s.url, Token: token(t, "alice", 0)})
	bob := dial(t, r3, client.Options{URL: s.url, Token: token(t, "bob", 0)})
	n, err := s.node.PushToUser(ctx, "alice", "alert", json.RawMessage(`{"level":"high"}`))
	if err != nil || n != 2 {
		t.Fatalf("PushToUser = %d, %v; want 2 connections", n, err)
	}
	for _, r := range []*recorder{r1, r2} {
		p := waitFor[client.Push](t, r, nil)
		if p.Event != "alert" || string(p.Data) != `{"level":"high"}` {
			t.Fatalf("push = %+v (data %s)", p, p.Data)
		}
	}
	// bob got nothing: a ping round trip orders after anything queued.
	if _, err := bob.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-r3.ch:
		if _, ok := e.(client.Push); ok {
			t.Fatalf("bob got alice's push")
		}
	default:
	}
}

func TestReplyErrors(t *testing.T) {
	s := startServer(t, testConfig(), nil)
	ctx := ctxT(t)
	c := dial(t, newRecorder(), client.Options{URL: s.url})
	code := func(err error) int {
		t.Helper()
		var e *client.Error
		if !errors.As(err, &e) {
			t.Fatalf("error %v (%T) is not a *client.Error", err, err)
		}
		return e.Code
	}
	if _, err := c.Subscribe(ctx, "bad channel!"); code(err) != 400 {
		t.Fatalf("invalid channel: %v", err)
	}
	if _, err := c.Subscribe(ctx, "nope:x"); code(err) != 403 {
		t.Fatalf("unknown namespace: %v", err)
	}
	if _, err := c.Publish(ctx, "chat:e", "x"); code(err) != 403 {
		t.Fatalf("publish before subscribing: %v", err)
	}
	if _, err := c.Subscribe(ctx, "chat:e"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Subscribe(ctx, "chat:e"); code(err) != 409 {
		t.Fatalf("second subscribe: %v", err)
	}
	if _, err := c.History(ctx, "lobby", nil, 0); code(err) != 403 {
		t.Fatalf("history off: %v", err)
	}
	if _, err := c.Publish(ctx, "chat:e", json.RawMessage("{oops")); err == nil {
		t.Fatal("invalid raw JSON was accepted")
	}
	// The connection survived every error.
	if _, err := c.Publish(ctx, "chat:e", "still here"); err != nil {
		t.Fatal(err)
	}

	// A refused connect: Dial returns the reply's error.
	_, err := client.Dial(ctx, client.Options{URL: s.url, Token: "not-a-jwt"})
	if code(err) != 401 {
		t.Fatalf("bad token: %v", err)
	}
	// A refused upgrade: the HTTP status.
	_, err = client.Dial(ctx, client.Options{URL: s.url, Header: map[string][]string{"Origin": {"http://evil.example"}}})
	var he *client.HandshakeError
	if !errors.As(err, &he) || he.StatusCode != 403 {
		t.Fatalf("bad origin: %v", err)
	}
}

func TestCloseStopsEverything(t *testing.T) {
	s := startServer(t, testConfig(), nil)
	ctx := ctxT(t)
	r := newRecorder()
	c := dial(t, r, client.Options{URL: s.url, Reconnect: true})
	waitFor[client.ConnectInfo](t, r, nil)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	default:
		t.Fatal("Done not closed after Close")
	}
	if d := waitFor[disconnectEvent](t, r, nil); d.Code != 1000 || d.Again {
		t.Fatalf("disconnect = %+v", d)
	}
	if _, err := c.Subscribe(ctx, "chat:x"); !errors.Is(err, client.ErrClosed) {
		t.Fatalf("call after Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestServerUnsubscribe(t *testing.T) {
	s := startServer(t, testConfig(), nil)
	ctx := ctxT(t)
	r := newRecorder()
	c := dial(t, r, client.Options{URL: s.url, Token: token(t, "alice", 0)})
	if _, err := c.Subscribe(ctx, "chat:u"); err != nil {
		t.Fatal(err)
	}
	if n, err := s.node.Unsubscribe(ctx, "alice", "chat:u"); n != 1 || err != nil {
		t.Fatalf("node.Unsubscribe = %d (%v)", n, err)
	}
	if u := waitFor[unsubEvent](t, r, nil); u.Channel != "chat:u" || u.Reason == "" {
		t.Fatalf("unsubscribe = %+v", u)
	}
	// The server holds no subscription any more, so subscribing works.
	if _, err := c.Subscribe(ctx, "chat:u"); err != nil {
		t.Fatal(err)
	}
}
