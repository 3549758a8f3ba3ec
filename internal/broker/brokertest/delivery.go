package brokertest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/protocol/record"
)

func subscribe(t *testing.T, n *node, ch string) {
	t.Helper()
	if err := n.b.Broker.Subscribe(ctx(t), ch); err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
}

func testSubscribeActive(t *testing.T, s Setup) {
	a, b := s.pair(t)
	for i := 0; i < 30; i++ {
		ch := channel("active")
		subscribe(t, b, ch)
		publishN(t, a, ch, 1, keepAll)
		b.rec.waitFor(t, "a publication made right after Subscribe returned", func() bool { return len(b.rec.pubs[ch]) == 1 })
	}
}

func testConcurrentOrder(t *testing.T, s Setup) {
	a, b := s.pair(t)
	ch := channel("order")
	subscribe(t, b, ch)
	subscribe(t, a, ch)
	const workers, each = 4, 100
	var wg sync.WaitGroup
	errs := make(chan error, 2*workers)
	for _, n := range []*node{a, b} {
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < each; i++ {
					if _, err := n.b.Broker.Publish(ctx(t), pub(ch, i), keepAll); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	total := 2 * workers * each
	for _, n := range []*node{a, b} {
		n.rec.waitFor(t, "every publication", func() bool { return len(n.rec.pubs[ch]) >= total })
		got := n.rec.publications(ch)
		if len(got) != total {
			t.Fatalf("a node received %d publications, want %d", len(got), total)
		}
		for i, p := range got {
			if p.Offset != uint64(i+1) || p.Epoch != got[0].Epoch {
				t.Fatalf("delivery %d is offset %d (epoch %q, first %q): out of order", i, p.Offset, p.Epoch, got[0].Epoch)
			}
		}
	}
}

func testOnlySubscribed(t *testing.T, s Setup) {
	a, b := s.pair(t)
	c := s.start(t)
	ch := channel("routing")
	subscribe(t, b, ch)
	publishN(t, a, ch, 10, keepAll)
	b.rec.waitFor(t, "ten publications", func() bool { return len(b.rec.pubs[ch]) == 10 })
	if err := b.b.Broker.Unsubscribe(ctx(t), ch); err != nil {
		t.Fatal(err)
	}
	// A publication on another channel b still hears marks when the ones
	// before it have arrived, if any were going to.
	after := channel("after")
	subscribe(t, b, after)
	publishN(t, a, ch, 5, keepAll)
	publishN(t, a, after, 1, keepAll)
	b.rec.waitFor(t, "the marker publication", func() bool { return len(b.rec.pubs[after]) == 1 })
	time.Sleep(100 * time.Millisecond)
	if n := len(b.rec.publications(ch)); n != 10 {
		t.Fatalf("a node that unsubscribed received %d publications, want the 10 from before", n)
	}
	for _, n := range []*node{a, c} {
		if got := len(n.rec.publications(ch)); got != 0 {
			t.Fatalf("a node never subscribed to the channel received %d of its publications", got)
		}
	}
}

func testJoinLeave(t *testing.T, s Setup) {
	a, b := s.pair(t)
	ch := channel("joins")
	subscribe(t, b, ch)
	info := &record.ClientInfo{Client: "c9", User: "u9"}
	if err := a.b.Broker.PublishJoin(ctx(t), ch, info); err != nil {
		t.Fatal(err)
	}
	if err := a.b.Broker.PublishLeave(ctx(t), ch, info); err != nil {
		t.Fatal(err)
	}
	b.rec.waitFor(t, "a join and a leave", func() bool { return len(b.rec.joins[ch]) == 2 })
	if got := b.rec.joins[ch]; got[0] != "c9" || got[1] != "-c9" {
		t.Fatalf("joins and leaves arrived as %v, want [c9 -c9]", got)
	}
}

func testUsers(t *testing.T, s Setup) {
	a, b := s.pair(t)
	user := "user-" + unique()
	if err := b.b.Broker.SubscribeUser(ctx(t), user); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		p := &record.Push{User: user, Event: "note", Data: []byte(fmt.Sprintf(`{"n":%d}`, i))}
		if err := a.b.Broker.PublishPush(ctx(t), p); err != nil {
			t.Fatal(err)
		}
	}
	b.rec.waitFor(t, "three pushes", func() bool { return len(b.rec.users[user]) == 3 })
	for i, p := range b.rec.pushes(user) {
		if want := fmt.Sprintf(`{"n":%d}`, i+1); p.Event != "note" || !bytes.Equal(p.Data, []byte(want)) || p.User != user {
			t.Fatalf("push %d arrived as %+v, want data %s", i, p, want)
		}
	}
	if !s.MultiNode {
		return
	}
	if n := len(a.rec.pushes(user)); n != 0 {
		t.Fatalf("a node without the user's connections received %d of its pushes", n)
	}
	if err := b.b.Broker.UnsubscribeUser(ctx(t), user); err != nil {
		t.Fatal(err)
	}
	marker := "marker-" + unique()
	if err := b.b.Broker.SubscribeUser(ctx(t), marker); err != nil {
		t.Fatal(err)
	}
	_ = a.b.Broker.PublishPush(ctx(t), &record.Push{User: user, Event: "late", Data: []byte(`1`)})
	_ = a.b.Broker.PublishPush(ctx(t), &record.Push{User: marker, Event: "marker", Data: []byte(`1`)})
	b.rec.waitFor(t, "the marker", func() bool { return len(b.rec.users[marker]) == 1 })
	time.Sleep(100 * time.Millisecond)
	if n := len(b.rec.pushes(user)); n != 3 {
		t.Fatalf("after UnsubscribeUser the node has %d of the user's pushes, want the 3 from before", n)
	}
}

func testControl(t *testing.T, s Setup) {
	a, b := s.pair(t)
	if err := a.b.Broker.Control(ctx(t), b.id, []byte("to-b")); err != nil {
		t.Fatal(err)
	}
	if err := b.b.Broker.Control(ctx(t), "", []byte("to-all")); err != nil {
		t.Fatal(err)
	}
	want := map[*node][]string{b: {"to-b", "to-all"}}
	if s.MultiNode {
		want[a] = []string{"to-all"}
	}
	for n, w := range want {
		n.rec.waitFor(t, "control messages", func() bool { return len(n.rec.control) >= len(w) })
		time.Sleep(50 * time.Millisecond)
		n.rec.mu.Lock()
		got := n.rec.control
		n.rec.mu.Unlock()
		if len(got) != len(w) {
			t.Fatalf("node %s got %d control messages, want %v", n.id, len(got), w)
		}
		for i := range w {
			if string(got[i]) != w[i] {
				t.Fatalf("node %s got control %q, want %q", n.id, got[i], w[i])
			}
		}
	}
	err := a.b.Broker.Control(ctx(t), "no-such-node-"+unique(), []byte("x"))
	if err != nil && !errors.Is(err, broker.ErrNoSuchNode) {
		t.Fatalf("control to a node that is not there: %v, want nil or ErrNoSuchNode", err)
	}
}
