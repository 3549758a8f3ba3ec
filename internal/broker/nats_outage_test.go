package broker_test

import (
	"context"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/protocol/record"
	"github.com/heraldhq/herald/internal/testservices"
)

// publishWhenBack publishes on a channel of its own until n is connected
// again, which also means its subscriptions were sent again: nats.go
// resubscribes before it takes publishes.
func publishWhenBack(t *testing.T, n broker.Backend) {
	t.Helper()
	probe := "probe-" + uniqueName()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := n.Broker.Publish(ctx, &record.Publication{Channel: probe, Data: []byte(`1`)}, broker.PublishOptions{})
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("NATS not back: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// natsNodesOneCut runs two nodes on the shared NATS, the second, b,
// through a proxy that can cut it off.
func natsNodesOneCut(t *testing.T) (a, b broker.Backend, evB *events, proxy *cutProxy) {
	url := testservices.NATS(t)
	proxy = newCutProxy(t, testservices.NATSAddr)
	prefix := natsPrefix(t, url)
	a, _ = natsNode(t, broker.NATSOptions{URL: url, Prefix: prefix})
	b, evB = natsNode(t, broker.NATSOptions{URL: "nats://" + proxy.addr(), Prefix: prefix, ReconnectWait: 50 * time.Millisecond})
	return a, b, evB, proxy
}

// A node cut off from NATS fails its publishes at once, and once back
// it receives what it missed meanwhile, in order: the next publication
// shows the gap and the node fills it from the stream.
func TestNATSCutNodeRefillsWhatItMissed(t *testing.T) {
	a, b, evB, proxy := natsNodesOneCut(t)
	ctx := testCtx(t)
	ch := "gap-" + uniqueName()
	if err := b.Broker.Subscribe(ctx, ch); err != nil {
		t.Fatal(err)
	}
	keep := broker.PublishOptions{HistorySize: 100}
	publish := func(n broker.Backend) error {
		_, err := n.Broker.Publish(ctx, &record.Publication{Channel: ch, Data: []byte(`1`)}, keep)
		return err
	}
	for i := 0; i < 3; i++ {
		if err := publish(a); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the first three", func() bool { return len(evB.publications()) == 3 })

	proxy.setCut(true)
	start := time.Now()
	_, err := b.Broker.Publish(ctx, &record.Publication{Channel: "elsewhere", Data: []byte(`1`)}, keep)
	if err == nil || time.Since(start) > time.Second {
		t.Fatalf("a publish as NATS went away returned %v after %v, want an error at once", err, time.Since(start))
	}
	start = time.Now()
	if err := publish(b); err == nil || time.Since(start) > time.Second {
		t.Fatalf("a publish while NATS is away returned %v after %v, want an error at once", err, time.Since(start))
	}
	for _, fn := range []func() error{
		func() error { return b.Broker.PublishPush(ctx, &record.Push{User: "u", Data: []byte(`1`)}) },
		func() error { return b.Broker.PublishJoin(ctx, ch, &record.ClientInfo{Client: "c"}) },
		func() error { return b.Broker.Control(ctx, "", []byte("x")) },
		func() error { return b.Broker.Subscribe(ctx, "other-"+uniqueName()) },
	} {
		if err := fn(); err == nil {
			t.Fatal("a call while NATS is away succeeded: it must fail, not be dropped")
		}
	}
	for i := 0; i < 5; i++ {
		if err := publish(a); err != nil {
			t.Fatal(err)
		}
	}
	proxy.setCut(false)
	publishWhenBack(t, b)
	if err := publish(a); err != nil {
		t.Fatal(err)
	}
	eventually(t, "all nine", func() bool { return len(evB.publications()) == 9 })
	for i, p := range evB.publications() {
		if p.Offset != uint64(i+1) {
			t.Fatalf("delivery %d is offset %d: the gap was not filled in order", i, p.Offset)
		}
	}
}

// A server that dies and comes back: publishes fail while it is away,
// then the node's subscriptions work again, the channel's offsets go on
// in the same epoch (the stream is on disk), and presence and the
// registry take entries again.
func TestNATSServerRestart(t *testing.T) {
	srv := testservices.OwnNATS(t)
	opts := broker.NATSOptions{URL: srv.URL(), Prefix: "restart", ReconnectWait: 50 * time.Millisecond}
	a, evA := natsNode(t, opts)
	ctx := testCtx(t)
	ch, user := "restart-"+uniqueName(), "user-"+uniqueName()
	if err := a.Broker.Subscribe(ctx, ch); err != nil {
		t.Fatal(err)
	}
	if err := a.Broker.SubscribeUser(ctx, user); err != nil {
		t.Fatal(err)
	}
	keep := broker.PublishOptions{HistorySize: 10}
	first, err := a.Broker.Publish(ctx, &record.Publication{Channel: ch, Data: []byte(`1`)}, keep)
	if err != nil {
		t.Fatal(err)
	}

	srv.Stop()
	start := time.Now()
	_, err = a.Broker.Publish(ctx, &record.Publication{Channel: ch, Data: []byte(`2`)}, keep)
	if err == nil || time.Since(start) > 6*time.Second {
		t.Fatalf("a publish to a dead server returned %v after %v", err, time.Since(start))
	}
	srv.Start()
	publishWhenBack(t, a)

	pos, err := a.Broker.Publish(ctx, &record.Publication{Channel: ch, Data: []byte(`3`)}, keep)
	if err != nil || pos.Offset != 2 || pos.Epoch != first.Epoch {
		t.Fatalf("after the restart the channel went on at %+v (%v), want 2 in %q", pos, err, first.Epoch)
	}
	if err := a.Broker.PublishPush(ctx, &record.Push{User: user, Event: "e", Data: []byte(`1`)}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the publication and the push after the restart", func() bool {
		evA.mu.Lock()
		defer evA.mu.Unlock()
		return len(evA.pubs) == 2 && len(evA.pushes) == 1
	})
	if err := a.Presence.AddPresence(ctx, ch, &record.ClientInfo{Client: "c"}); err != nil {
		t.Fatalf("presence after the restart: %v", err)
	}
	if err := a.Registry.Announce(ctx, broker.NodeInfo{ID: "n"}); err != nil {
		t.Fatalf("registry after the restart: %v", err)
	}
	if m, err := a.Presence.Presence(ctx, ch); err != nil || len(m) != 1 {
		t.Fatalf("presence after the restart: %v, %v", m, err)
	}
}

// A stream and buckets the server lost (here deleted) are made again by
// the next call: the channel starts a new epoch, presence and the
// registry take entries.
func TestNATSLostStreamIsMadeAgain(t *testing.T) {
	url := testservices.NATS(t)
	prefix := natsPrefix(t, url)
	a, _ := natsNode(t, broker.NATSOptions{URL: url, Prefix: prefix})
	ctx := testCtx(t)
	ch := "lost-" + uniqueName()
	keep := broker.PublishOptions{HistorySize: 10}
	first, err := a.Broker.Publish(ctx, &record.Publication{Channel: ch, Data: []byte(`1`)}, keep)
	if err != nil {
		t.Fatal(err)
	}
	if err := broker.ForgetPrefix(ctx, url, prefix); err != nil {
		t.Fatal(err)
	}
	if _, pos, err := a.Broker.History(ctx, ch, broker.HistoryOptions{}); err != nil || pos.Offset != 0 {
		t.Fatalf("history of a lost stream: %+v, %v", pos, err)
	}
	pos, err := a.Broker.Publish(ctx, &record.Publication{Channel: ch, Data: []byte(`1`)}, keep)
	if err != nil || pos.Offset != 1 || pos.Epoch == first.Epoch {
		t.Fatalf("the publish after the stream was lost landed at %+v (%v), want 1 in a new epoch", pos, err)
	}
	if err := a.Presence.AddPresence(ctx, ch, &record.ClientInfo{Client: "c"}); err != nil {
		t.Fatalf("presence after the bucket was lost: %v", err)
	}
	if err := a.Registry.Announce(ctx, broker.NodeInfo{ID: "n"}); err != nil {
		t.Fatalf("registry after the bucket was lost: %v", err)
	}
	if nodes, err := a.Registry.Nodes(ctx); err != nil || len(nodes) != 1 {
		t.Fatalf("nodes after the bucket was lost: %v, %v", nodes, err)
	}
}
