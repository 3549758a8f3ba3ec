package broker_test

import (
	"bytes"
	"encoding/base64"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/broker/brokertest"
	"github.com/heraldhq/herald/internal/protocol/pbwire"
	"github.com/heraldhq/herald/internal/protocol/record"
	"github.com/heraldhq/herald/internal/testservices"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestNATSBackend(t *testing.T) {
	url := testservices.NATS(t)
	opts := broker.NATSOptions{URL: url, Prefix: natsPrefix(t, url), PresenceTTL: time.Second, RegistryTTL: time.Second}
	brokertest.Run(t, brokertest.Setup{
		NewNode:     func(t *testing.T) broker.Backend { return newNATSBackend(t, opts) },
		MultiNode:   true,
		PresenceTTL: opts.PresenceTTL,
		RegistryTTL: opts.RegistryTTL,
	})
}

// events is an EventHandler that keeps what it was given.
type events struct {
	mu      sync.Mutex
	pubs    []*record.Publication
	joins   []string
	pushes  []*record.Push
	control []string
}

func (e *events) HandlePublication(p *record.Publication) {
	e.mu.Lock()
	e.pubs = append(e.pubs, p)
	e.mu.Unlock()
}
func (e *events) HandleJoin(ch string, info *record.ClientInfo) {
	e.mu.Lock()
	e.joins = append(e.joins, ch+"/"+info.Client)
	e.mu.Unlock()
}
func (e *events) HandleLeave(ch string, info *record.ClientInfo) {
	e.mu.Lock()
	e.joins = append(e.joins, "-"+ch+"/"+info.Client)
	e.mu.Unlock()
}
func (e *events) HandlePush(p *record.Push) {
	e.mu.Lock()
	e.pushes = append(e.pushes, p)
	e.mu.Unlock()
}
func (e *events) HandleControl(data []byte) {
	e.mu.Lock()
	e.control = append(e.control, string(data))
	e.mu.Unlock()
}

func (e *events) publications() []*record.Publication {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.pubs)
}

// eventually fails t unless cond holds within 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// natsNode runs a backend on its own connection.
func natsNode(t *testing.T, opts broker.NATSOptions) (broker.Backend, *events) {
	t.Helper()
	b := newNATSBackend(t, opts)
	ev := &events{}
	if err := b.Broker.Run("node-"+uniqueName(), ev); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Broker.Close() })
	return b, ev
}

// Names are encoded into subject tokens and bucket keys: none may
// escape into another channel's subject, match as a wildcard, or be
// refused by the server.
var oddNames = []string{
	" ", "a b", "a.b", "a.*", "a.>", "*", ">", ".", "..", "a..b", "news:eu.west",
	"ünïcødé 🎉", "tab\there", "line\nbreak", "$JS.API.STREAM.LIST", "_INBOX.x", "=", "-_-",
	string(bytes.Repeat([]byte("long"), 200)),
}

func TestNATSOddChannelNames(t *testing.T) {
	url := testservices.NATS(t)
	opts := broker.NATSOptions{URL: url, Prefix: natsPrefix(t, url)}
	a, _ := natsNode(t, opts)
	b, evB := natsNode(t, opts)
	ctx := testCtx(t)
	for _, ch := range oddNames {
		if err := b.Broker.Subscribe(ctx, ch); err != nil {
			t.Fatalf("Subscribe(%q): %v", ch, err)
		}
	}
	for _, ch := range oddNames {
		for i := 0; i < 2; i++ {
			if _, err := a.Broker.Publish(ctx, &record.Publication{Channel: ch, Data: []byte(`1`)}, broker.PublishOptions{HistorySize: 10}); err != nil {
				t.Fatalf("Publish(%q): %v", ch, err)
			}
		}
	}
	eventually(t, "every publication", func() bool { return len(evB.publications()) == 2*len(oddNames) })
	got := map[string][]uint64{}
	for _, p := range evB.publications() {
		got[p.Channel] = append(got[p.Channel], p.Offset)
	}
	for _, ch := range oddNames {
		if !slices.Equal(got[ch], []uint64{1, 2}) {
			t.Errorf("channel %q received offsets %v, want [1 2]", ch, got[ch])
		}
		pubs, pos, err := b.Broker.History(ctx, ch, broker.HistoryOptions{})
		if err != nil || len(pubs) != 2 || pos.Offset != 2 || pubs[0].Channel != ch {
			t.Errorf("history of %q: %d publications at %+v, err %v", ch, len(pubs), pos, err)
		}
		info := &record.ClientInfo{Client: ch + "#client", User: ch}
		if err := a.Presence.AddPresence(ctx, ch, info); err != nil {
			t.Fatalf("AddPresence(%q): %v", ch, err)
		}
		m, err := b.Presence.Presence(ctx, ch)
		if err != nil || len(m) != 1 || m[info.Client] == nil || m[info.Client].User != ch {
			t.Errorf("presence of %q: %v, %v", ch, m, err)
		}
	}
}

func TestNATSOddUserAndNodeNames(t *testing.T) {
	url := testservices.NATS(t)
	opts := broker.NATSOptions{URL: url, Prefix: natsPrefix(t, url)}
	a, _ := natsNode(t, opts)
	b := newNATSBackend(t, opts)
	evB := &events{}
	const node = "node a.b *>"
	if err := b.Broker.Run(node, evB); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Broker.Close() })
	ctx := testCtx(t)
	users := append([]string{""}, oddNames...)
	for _, u := range users {
		if err := b.Broker.SubscribeUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range users {
		if err := a.Broker.PublishPush(ctx, &record.Push{User: u, Event: "e", Data: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Broker.Control(ctx, node, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "every push and the control message", func() bool {
		evB.mu.Lock()
		defer evB.mu.Unlock()
		return len(evB.pushes) == len(users) && len(evB.control) == 1
	})
	var got []string
	for _, p := range evB.pushes {
		got = append(got, p.User)
	}
	slices.Sort(got)
	slices.Sort(users)
	if !slices.Equal(got, users) {
		t.Errorf("pushes went to %q, want %q", got, users)
	}
	if err := a.Registry.Announce(ctx, broker.NodeInfo{ID: node}); err != nil {
		t.Fatal(err)
	}
	nodes, err := b.Registry.Nodes(ctx)
	if err != nil || !slices.ContainsFunc(nodes, func(n broker.NodeInfo) bool { return n.ID == node }) {
		t.Fatalf("nodes %v, %v: want %q listed", nodes, err, node)
	}
}

// socketIORouting builds a Socket.IO routing extension as docs/record.md
// lays it out (the broker may not import the protocol's package): an
// event, two arguments, a binary attachment holding every byte value,
// an excepted room and the channels of a multi-room broadcast.
func socketIORouting() []byte {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	var b []byte
	b = pbwire.AppendString(b, 1, "chat message")
	b = pbwire.AppendElement(b, 2, []byte(`{"_placeholder":true,"num":0}`))
	b = pbwire.AppendElement(b, 2, []byte(`"second"`))
	b = pbwire.AppendElement(b, 3, all)
	b = pbwire.AppendElement(b, 4, []byte("room with spaces"))
	b = pbwire.AppendTrue(b, 5, true)
	b = pbwire.AppendElement(b, 6, []byte("ns/room.a"))
	return pbwire.AppendElement(b, 6, []byte("ns/room.b"))
}

func TestNATSSocketIOExtensionRoundTrip(t *testing.T) {
	url := testservices.NATS(t)
	opts := broker.NATSOptions{URL: url, Prefix: natsPrefix(t, url)}
	a, _ := natsNode(t, opts)
	b, evB := natsNode(t, opts)
	ctx := testCtx(t)
	ch := "/chat#ns/room.a"
	if err := b.Broker.Subscribe(ctx, ch); err != nil {
		t.Fatal(err)
	}
	routing := socketIORouting()
	in := &record.Publication{Channel: ch, Data: []byte(`[{"_placeholder":true,"num":0},"second"]`),
		Info: &record.ClientInfo{Client: "sid-1", User: "ann"},
		Ext:  record.RawExtension{Kind: record.ExtSocketIO, Value: routing}}
	pos, err := a.Broker.Publish(ctx, in, broker.PublishOptions{HistorySize: 5})
	if err != nil {
		t.Fatal(err)
	}
	want, err := (&record.Publication{Channel: ch, Offset: pos.Offset, Epoch: pos.Epoch, Time: in.Time, Data: in.Data,
		Info: in.Info, Ext: in.Ext}).AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the publication", func() bool { return len(evB.publications()) == 1 })
	hist, _, err := b.Broker.History(ctx, ch, broker.HistoryOptions{})
	if err != nil || len(hist) != 1 {
		t.Fatalf("history: %d, %v", len(hist), err)
	}
	for how, got := range map[string]*record.Publication{"delivered": evB.publications()[0], "from history": hist[0]} {
		raw, ok := got.Ext.(record.RawExtension)
		if !ok || raw.Kind != record.ExtSocketIO || !bytes.Equal(raw.Value, routing) {
			t.Fatalf("%s, the extension reads %#v", how, got.Ext)
		}
		enc, err := got.AppendBinary(nil)
		if err != nil || !bytes.Equal(enc, want) {
			t.Fatalf("%s, the record re-encodes to\n%x\nwant\n%x (%v)", how, enc, want, err)
		}
	}
}

// A second node's publish after the position was read from the stream
// by the first: the first node's cached position is stale, and its next
// publish must still land at the next offset.
func TestNATSStaleCachedPosition(t *testing.T) {
	url := testservices.NATS(t)
	opts := broker.NATSOptions{URL: url, Prefix: natsPrefix(t, url)}
	a, _ := natsNode(t, opts)
	b, _ := natsNode(t, opts)
	ctx := testCtx(t)
	ch := "stale-" + uniqueName()
	for i, n := range []broker.Backend{a, b, a, a, b, a} {
		pos, err := n.Broker.Publish(ctx, &record.Publication{Channel: ch, Data: []byte(`1`)}, broker.PublishOptions{HistorySize: 3})
		if err != nil || pos.Offset != uint64(i+1) {
			t.Fatalf("publish %d landed at %+v (%v)", i+1, pos, err)
		}
	}
	if err := b.Broker.RemoveHistory(ctx, ch); err != nil {
		t.Fatal(err)
	}
	pos, err := a.Broker.Publish(ctx, &record.Publication{Channel: ch, Data: []byte(`1`)}, broker.PublishOptions{HistorySize: 3})
	if err != nil || pos.Offset != 7 {
		t.Fatalf("the publish after another node removed the history landed at %+v (%v)", pos, err)
	}
	pubs, _, err := b.Broker.History(ctx, ch, broker.HistoryOptions{})
	if err != nil || len(pubs) != 1 || pubs[0].Offset != 7 {
		t.Fatalf("history after the removal: %d publications, %v", len(pubs), err)
	}
}

// History reads a long history with a consumer and a short one by
// following each message's predecessor; both give the same run, trimmed
// to the channel's size.
func TestNATSHistoryLongAndShort(t *testing.T) {
	url := testservices.NATS(t)
	opts := broker.NATSOptions{URL: url, Prefix: natsPrefix(t, url)}
	a, _ := natsNode(t, opts)
	ctx := testCtx(t)
	ch := "long-" + uniqueName()
	const size, total = 50, 130
	for i := 0; i < total; i++ {
		if _, err := a.Broker.Publish(ctx, &record.Publication{Channel: ch, Data: []byte(`1`)}, broker.PublishOptions{HistorySize: size}); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []struct {
		opts     broker.HistoryOptions
		from, to uint64
	}{
		{broker.HistoryOptions{}, total - size + 1, total},
		{broker.HistoryOptions{Since: 10}, total - size + 1, total},
		{broker.HistoryOptions{Since: 100, Limit: 7}, 101, 107},
		{broker.HistoryOptions{Since: total - 5}, total - 4, total},
		{broker.HistoryOptions{Since: total - 5, Limit: 2}, total - 4, total - 3},
	} {
		pubs, pos, err := a.Broker.History(ctx, ch, q.opts)
		if err != nil || pos.Offset != total {
			t.Fatalf("%+v: position %+v, %v", q.opts, pos, err)
		}
		var offs []uint64
		for _, p := range pubs {
			offs = append(offs, p.Offset)
		}
		var want []uint64
		for o := q.from; o <= q.to; o++ {
			want = append(want, o)
		}
		if !slices.Equal(offs, want) {
			t.Fatalf("%+v: offsets %v, want %d..%d", q.opts, offs, q.from, q.to)
		}
	}
}

// storedOnSubject counts the messages the history stream holds for ch.
func storedOnSubject(t *testing.T, url, prefix, ch string) uint64 {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	s, err := js.Stream(testCtx(t), prefix+"_history")
	if err != nil {
		t.Fatal(err)
	}
	subject := prefix + ".h." + base64.RawURLEncoding.EncodeToString([]byte(ch))
	info, err := s.Info(testCtx(t), jetstream.WithSubjectFilter(subject))
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Subjects[subject]
}

// The stream holds a channel's history, at most twice its size, and
// only the position of a channel without history.
func TestNATSStorageStaysBounded(t *testing.T) {
	url := testservices.NATS(t)
	prefix := natsPrefix(t, url)
	a, _ := natsNode(t, broker.NATSOptions{URL: url, Prefix: prefix})
	ctx := testCtx(t)
	for _, c := range []struct{ size, most int }{{0, 1}, {1, 1}, {5, 10}} {
		ch := "bounded-" + uniqueName()
		for i := 0; i < 23; i++ {
			if _, err := a.Broker.Publish(ctx, &record.Publication{Channel: ch, Data: []byte(`1`)}, broker.PublishOptions{HistorySize: c.size}); err != nil {
				t.Fatal(err)
			}
		}
		eventually(t, "the trim", func() bool { return storedOnSubject(t, url, prefix, ch) <= uint64(c.most) })
		if n := storedOnSubject(t, url, prefix, ch); n < uint64(max(c.size, 1)) {
			t.Fatalf("size %d: the stream holds %d messages of the channel, fewer than it keeps", c.size, n)
		}
	}
}
