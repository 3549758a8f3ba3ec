package brokertest

import (
	"testing"

	"github.com/heraldhq/herald/internal/broker"
)

// historyIs fails unless ch's history holds exactly offsets from..to and
// the stream stands at top in epoch.
func historyIs(t *testing.T, n *node, ch string, from, to, top uint64, epoch string) {
	t.Helper()
	pubs, pos, err := n.b.Broker.History(ctx(t), ch, broker.HistoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pos != (broker.StreamPosition{Offset: top, Epoch: epoch}) {
		t.Fatalf("position %+v, want %d in %q", pos, top, epoch)
	}
	checkRun(t, pubs, from, to, epoch)
}

// A channel whose history options change (a configuration reload, or
// nodes configured differently) keeps one run of offsets, and its
// history follows the newest options: a smaller size cuts it, a
// publication made without history is never in it, even once the
// channel keeps history again.
func testOptionsChange(t *testing.T, s Setup) {
	a, b := s.pair(t)
	ch := channel("options")
	epoch := publishN(t, a, ch, 6, broker.PublishOptions{HistorySize: 5})[0].Epoch
	historyIs(t, b, ch, 2, 6, 6, epoch)
	for i := 7; i <= 9; i++ {
		if _, err := b.b.Broker.Publish(ctx(t), pub(ch, i), broker.PublishOptions{HistorySize: 2}); err != nil {
			t.Fatal(err)
		}
	}
	historyIs(t, a, ch, 8, 9, 9, epoch)
	if _, err := a.b.Broker.Publish(ctx(t), pub(ch, 10), broker.PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	historyIs(t, b, ch, 11, 10, 10, epoch)
	if _, err := b.b.Broker.Publish(ctx(t), pub(ch, 11), broker.PublishOptions{HistorySize: 10}); err != nil {
		t.Fatal(err)
	}
	historyIs(t, a, ch, 11, 11, 11, epoch)
}

// Removing the history of a channel nobody published to does nothing,
// and creates no stream.
func testRemoveUnknown(t *testing.T, s Setup) {
	a := s.start(t)
	ch := channel("remove-unknown")
	if err := a.b.Broker.RemoveHistory(ctx(t), ch); err != nil {
		t.Fatal(err)
	}
	pubs, pos, err := a.b.Broker.History(ctx(t), ch, broker.HistoryOptions{})
	if err != nil || len(pubs) != 0 || pos != (broker.StreamPosition{}) {
		t.Fatalf("after removing an unknown channel's history: %d publications at %+v, %v", len(pubs), pos, err)
	}
}

// Publications of a channel that keeps no history, or only the newest,
// still reach its subscribers, in order.
func testDeliveryWithoutHistory(t *testing.T, s Setup) {
	a, b := s.pair(t)
	for _, size := range []int{0, 1} {
		ch := channel("unkept")
		subscribe(t, b, ch)
		publishN(t, a, ch, 5, broker.PublishOptions{HistorySize: size})
		b.rec.waitFor(t, "five publications", func() bool { return len(b.rec.pubs[ch]) == 5 })
		for i, p := range b.rec.publications(ch) {
			if p.Offset != uint64(i+1) {
				t.Fatalf("size %d: delivery %d is offset %d", size, i, p.Offset)
			}
		}
	}
}
