package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/client"
)

// nextEvent is the recorder's next event, join and leave aside (a
// connection sees its own join, once per connect).
func nextEvent(t *testing.T, r *recorder) any {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case e := <-r.ch:
			switch e.(type) {
			case joinEvent, leaveEvent:
				continue
			}
			return e
		case <-timeout:
			t.Fatal("timed out waiting for an event")
			return nil
		}
	}
}

// expectPublications checks that the next events are publications of ch
// with offsets from..to, in order, and nothing else.
func expectPublications(t *testing.T, r *recorder, ch string, from, to uint64) {
	t.Helper()
	for off := from; off <= to; off++ {
		e := nextEvent(t, r)
		p, ok := e.(client.Publication)
		if !ok || p.Channel != ch || p.Offset != off || string(p.Data) != fmt.Sprint(off) {
			t.Fatalf("event %#v, want publication %d of %s", e, off, ch)
		}
	}
}

// publishN has the node publish n publications to ch; each one's data is
// its offset, as the first is want.
func publishN(t *testing.T, node *herald.Node, ch string, want uint64, n int) {
	t.Helper()
	for i := range uint64(n) {
		r, err := node.Publish(context.Background(), ch, json.RawMessage(fmt.Sprint(want+i)))
		if err != nil || r.Offset != want+i {
			t.Fatalf("publish to %s: %+v, %v; want offset %d", ch, r, err, want+i)
		}
	}
}

// away is a subscribed client behind a proxy that the test cuts.
type away struct {
	srv *server
	px  *proxy
	rec *recorder
	c   *client.Client
}

// subscribedAway connects through a proxy to a node built from cfg and
// subscribes to ch, then has `before` publications delivered.
func subscribedAway(t *testing.T, cfg herald.Config, ch string, before int) *away {
	t.Helper()
	s := startServer(t, cfg, nil)
	px := startProxy(t, s.srv.Listener.Addr().String())
	r := newRecorder()
	c := dial(t, r, client.Options{URL: px.url(), Reconnect: true, MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	waitFor[client.ConnectInfo](t, r, nil)
	if _, err := c.Subscribe(ctxT(t), ch); err != nil {
		t.Fatal(err)
	}
	publishN(t, s.node, ch, 1, before)
	expectPublications(t, r, ch, 1, uint64(before))
	return &away{srv: s, px: px, rec: r, c: c}
}

// missing cuts the client off, has n publications made meanwhile, and
// lets it back; it returns the resume reported after the reconnect.
func (a *away) missing(t *testing.T, ch string, first uint64, n int) client.Resume {
	t.Helper()
	a.px.cut()
	if d := waitFor[disconnectEvent](t, a.rec, nil); !d.Again {
		t.Fatalf("disconnect %+v, want a reconnect", d)
	}
	publishN(t, a.srv.node, ch, first, n)
	a.px.restore()
	if e, ok := nextEvent(t, a.rec).(client.ConnectInfo); !ok {
		t.Fatalf("after the reconnect: %#v, want OnConnect first", e)
	}
	e, ok := nextEvent(t, a.rec).(resumeEvent)
	if !ok || e.Channel != ch {
		t.Fatalf("after OnConnect: %#v, want the resume of %s", e, ch)
	}
	return e.R
}

// A client cut off while publications are made gets each of them once,
// in order, after it reconnects, then the live ones.
func TestResumeAfterReconnect(t *testing.T) {
	a := subscribedAway(t, testConfig(), "chat:a", 2)
	res := a.missing(t, "chat:a", 3, 3)
	if !res.Recovered || res.Replayed != 3 || res.Gap || res.Reason != "" ||
		res.From.Offset != 2 || res.To.Offset != 5 || res.From.Epoch == "" || res.To.Epoch != res.From.Epoch {
		t.Fatalf("resume %+v, want recovered with 3 replayed, from 2 to 5", res)
	}
	expectPublications(t, a.rec, "chat:a", 3, 5)
	publishN(t, a.srv.node, "chat:a", 6, 1)
	expectPublications(t, a.rec, "chat:a", 6, 6)

	// It resumes from what it was given last, not from where it first
	// subscribed: a second break replays only what that one missed.
	res = a.missing(t, "chat:a", 7, 2)
	if !res.Recovered || res.Replayed != 2 || res.From.Offset != 6 {
		t.Fatalf("second resume %+v, want recovered with 2 replayed from 6", res)
	}
	expectPublications(t, a.rec, "chat:a", 7, 8)

	// Nothing missed: recovered, nothing replayed.
	a.px.cut()
	waitFor[disconnectEvent](t, a.rec, nil)
	a.px.restore()
	res = waitFor[resumeEvent](t, a.rec, nil).R
	if !res.Recovered || res.Replayed != 0 || res.From.Offset != 8 || res.To.Offset != 8 {
		t.Fatalf("resume after nothing missed %+v", res)
	}
}

func TestResumeNotRecovered(t *testing.T) {
	t.Run("history off", func(t *testing.T) {
		// "lobby" has the default policy: offsets, but nothing kept.
		a := subscribedAway(t, testConfig(), "lobby", 1)
		res := a.missing(t, "lobby", 2, 2)
		if res.Recovered || res.Replayed != 0 || res.Reason != "2 missed, 0 replayed" || res.To.Offset != 3 {
			t.Fatalf("resume %+v, want not recovered, 2 missed", res)
		}
		// The live ones follow, with no gap reported.
		publishN(t, a.srv.node, "lobby", 4, 1)
		expectPublications(t, a.rec, "lobby", 4, 4)
	})
	t.Run("past recovery_max", func(t *testing.T) {
		cfg := testConfig()
		cfg.History.RecoveryMax = 2
		a := subscribedAway(t, cfg, "chat:a", 1)
		res := a.missing(t, "chat:a", 2, 3)
		if res.Recovered || res.Replayed != 0 || res.Reason != "3 missed, 0 replayed" {
			t.Fatalf("resume %+v, want not recovered, nothing replayed", res)
		}
		publishN(t, a.srv.node, "chat:a", 5, 1)
		expectPublications(t, a.rec, "chat:a", 5, 5)
	})
	t.Run("history trimmed", func(t *testing.T) {
		// chat keeps 10: of 12 missed, the last 10 are replayed, and
		// the hole before them is not reported a second time.
		a := subscribedAway(t, testConfig(), "chat:a", 1)
		res := a.missing(t, "chat:a", 2, 12)
		if res.Recovered || res.Replayed != 10 || res.Reason != "12 missed, 10 replayed" {
			t.Fatalf("resume %+v, want not recovered, 10 replayed", res)
		}
		expectPublications(t, a.rec, "chat:a", 4, 13)
		publishN(t, a.srv.node, "chat:a", 14, 1)
		expectPublications(t, a.rec, "chat:a", 14, 14)
	})
}

// A node restarted with history in memory starts every stream again.
func TestResumeEpochChanged(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	s1 := startServer(t, testConfig(), ln)
	r := newRecorder()
	c := dial(t, r, client.Options{URL: s1.url, Reconnect: true, MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	if _, err := c.Subscribe(ctxT(t), "chat:a"); err != nil {
		t.Fatal(err)
	}
	publishN(t, s1.node, "chat:a", 1, 2)
	waitFor[client.Publication](t, r, func(p client.Publication) bool { return p.Offset == 2 })

	s1.stop()
	s2 := startServer(t, testConfig(), relisten(t, addr))
	res := waitFor[resumeEvent](t, r, nil).R
	if res.Recovered || res.Replayed != 0 || res.Reason != "epoch changed" || res.From.Offset != 2 || res.To.Epoch == res.From.Epoch {
		t.Fatalf("resume %+v, want not recovered: epoch changed", res)
	}
	// The new stream's offsets start again at 1, and are delivered with
	// no gap reported.
	publishN(t, s2.node, "chat:a", 1, 1)
	if p, ok := nextEvent(t, r).(client.Publication); !ok || p.Offset != 1 || p.Epoch == res.From.Epoch {
		t.Fatalf("event %#v, want publication 1 of the new stream", p)
	}
}

// An application that kept the position of the last publication it
// handled resumes from it in a new client.
func TestSubscribeFrom(t *testing.T) {
	s := startServer(t, testConfig(), nil)
	ctx := ctxT(t)
	publishN(t, s.node, "chat:a", 1, 4)
	epoch := epochOf(t, s, "chat:a")

	r := newRecorder()
	c := dial(t, r, client.Options{URL: s.url})
	got, err := c.SubscribeFrom(ctx, "chat:a", client.Position{Offset: 2, Epoch: epoch})
	if err != nil {
		t.Fatal(err)
	}
	if got.Offset != 4 || got.Epoch != epoch || got.Resume == nil || !got.Resume.Recovered || got.Resume.Replayed != 2 {
		t.Fatalf("SubscribeFrom = %+v (resume %+v), want recovered with 2 replayed", got, got.Resume)
	}
	waitFor[client.ConnectInfo](t, r, nil)
	expectPublications(t, r, "chat:a", 3, 4)
	publishN(t, s.node, "chat:a", 5, 1)
	expectPublications(t, r, "chat:a", 5, 5)

	// A zero position asks for everything kept.
	got, err = c.SubscribeFrom(ctx, "chat:b", client.Position{})
	if err != nil || got.Resume == nil || !got.Resume.Recovered || got.Resume.Replayed != 0 {
		t.Fatalf("SubscribeFrom an empty channel = %+v, %v", got, err)
	}
	// A position of another stream recovers nothing.
	got, err = c.SubscribeFrom(ctx, "chat:c", client.Position{Offset: 2, Epoch: "gone"})
	if err != nil || got.Resume == nil || got.Resume.Recovered || got.Resume.Reason != "epoch changed" {
		t.Fatalf("SubscribeFrom another epoch = %+v (resume %+v), %v", got, got.Resume, err)
	}
	// An offset without its epoch is refused before anything is sent.
	if _, err := c.SubscribeFrom(ctx, "chat:d", client.Position{Offset: 2}); err == nil || !strings.Contains(err.Error(), "no epoch") {
		t.Fatalf("SubscribeFrom without an epoch: %v", err)
	}
	// Plain Subscribe says nothing of a resume.
	if got, err := c.Subscribe(ctx, "chat:e"); err != nil || got.Resume != nil {
		t.Fatalf("Subscribe = %+v, %v", got, err)
	}
}

// SubscribeFrom position zero replays the whole kept history.
func TestSubscribeFromStart(t *testing.T) {
	s := startServer(t, testConfig(), nil)
	publishN(t, s.node, "chat:a", 1, 3)
	r := newRecorder()
	c := dial(t, r, client.Options{URL: s.url})
	waitFor[client.ConnectInfo](t, r, nil)
	got, err := c.SubscribeFrom(ctxT(t), "chat:a", client.Position{})
	if err != nil || !got.Resume.Recovered || got.Resume.Replayed != 3 {
		t.Fatalf("SubscribeFrom zero = %+v, %v", got, err)
	}
	expectPublications(t, r, "chat:a", 1, 3)
}

// epochOf is ch's stream epoch, read with a history call.
func epochOf(t *testing.T, s *server, ch string) string {
	t.Helper()
	c, err := client.Dial(ctxT(t), client.Options{URL: s.url})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	h, err := c.History(ctxT(t), ch, nil, 1)
	if err != nil || h.Epoch == "" {
		t.Fatalf("history of %s: %+v, %v", ch, h, err)
	}
	return h.Epoch
}
