package brokertest

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/protocol/record"
)

func pub(ch string, i int) *record.Publication {
	return &record.Publication{Channel: ch, Data: []byte(fmt.Sprintf(`{"i":%d}`, i))}
}

var keepAll = broker.PublishOptions{HistorySize: 1000}

// publishN publishes n publications i = 1..n and returns their positions.
func publishN(t *testing.T, n *node, ch string, count int, opts broker.PublishOptions) []broker.StreamPosition {
	t.Helper()
	out := make([]broker.StreamPosition, 0, count)
	for i := 1; i <= count; i++ {
		pos, err := n.b.Broker.Publish(ctx(t), pub(ch, i), opts)
		if err != nil {
			t.Fatalf("Publish %d: %v", i, err)
		}
		out = append(out, pos)
	}
	return out
}

// checkRun fails unless pubs are offsets from..to of epoch with the data
// publishN gave them.
func checkRun(t *testing.T, pubs []*record.Publication, from, to uint64, epoch string) {
	t.Helper()
	if want := int(to - from + 1); len(pubs) != want {
		t.Fatalf("got %d publications, want %d (offsets %d..%d)", len(pubs), want, from, to)
	}
	for i, p := range pubs {
		off := from + uint64(i)
		if p.Offset != off || p.Epoch != epoch {
			t.Fatalf("publication %d is offset %d epoch %q, want %d %q", i, p.Offset, p.Epoch, off, epoch)
		}
		if want := fmt.Sprintf(`{"i":%d}`, off); !bytes.Equal(p.Data, []byte(want)) {
			t.Fatalf("publication at offset %d carries %s, want %s", off, p.Data, want)
		}
		if p.Time == 0 {
			t.Fatalf("publication at offset %d has no time", off)
		}
	}
}

func testOffsets(t *testing.T, s Setup) {
	a, b := s.pair(t)
	ch := channel("offsets")
	pos := publishN(t, a, ch, 20, keepAll)
	epoch := pos[0].Epoch
	if epoch == "" {
		t.Fatal("a publication got no epoch")
	}
	for i, p := range pos {
		if p.Offset != uint64(i+1) || p.Epoch != epoch {
			t.Fatalf("publish %d landed at %+v, want offset %d in %q", i+1, p, i+1, epoch)
		}
	}
	pubs, top, err := b.b.Broker.History(ctx(t), ch, broker.HistoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if top != (broker.StreamPosition{Offset: 20, Epoch: epoch}) {
		t.Fatalf("position %+v, want 20 in %q", top, epoch)
	}
	checkRun(t, pubs, 1, 20, epoch)
	pubs, _, _ = b.b.Broker.History(ctx(t), ch, broker.HistoryOptions{Since: 15})
	checkRun(t, pubs, 16, 20, epoch)
	pubs, _, _ = b.b.Broker.History(ctx(t), ch, broker.HistoryOptions{Since: 4, Limit: 3})
	checkRun(t, pubs, 5, 7, epoch)
	pubs, _, _ = b.b.Broker.History(ctx(t), ch, broker.HistoryOptions{Since: 20})
	checkRun(t, pubs, 21, 20, epoch)
}

func testUnknownChannel(t *testing.T, s Setup) {
	a := s.start(t)
	pubs, pos, err := a.b.Broker.History(ctx(t), channel("nobody"), broker.HistoryOptions{})
	if err != nil || len(pubs) != 0 || pos.Offset != 0 {
		t.Fatalf("a channel nobody published to: %d publications at %+v, err %v", len(pubs), pos, err)
	}
}

func testSizeTrim(t *testing.T, s Setup) {
	a, b := s.pair(t)
	ch := channel("size")
	pos := publishN(t, a, ch, 12, broker.PublishOptions{HistorySize: 5})
	pubs, top, err := b.b.Broker.History(ctx(t), ch, broker.HistoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if top.Offset != 12 {
		t.Fatalf("position %+v, want offset 12", top)
	}
	checkRun(t, pubs, 8, 12, pos[0].Epoch)
}

func testTTLTrim(t *testing.T, s Setup) {
	a, b := s.pair(t)
	ch := channel("ttl")
	opts := broker.PublishOptions{HistorySize: 100, HistoryTTL: time.Second}
	pos := publishN(t, a, ch, 3, opts)
	pubs, _, _ := b.b.Broker.History(ctx(t), ch, broker.HistoryOptions{})
	checkRun(t, pubs, 1, 3, pos[0].Epoch)
	time.Sleep(2500 * time.Millisecond)
	pubs, top, err := b.b.Broker.History(ctx(t), ch, broker.HistoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pubs) != 0 {
		t.Fatalf("%d publications outlived their TTL", len(pubs))
	}
	if top != pos[2] {
		t.Fatalf("the position after the publications expired is %+v, want %+v: it outlives them", top, pos[2])
	}
	next := publishN(t, a, ch, 1, opts)[0]
	if next.Offset != 4 || next.Epoch != pos[0].Epoch {
		t.Fatalf("the stream went on at %+v, want offset 4 in %q", next, pos[0].Epoch)
	}
}

func testNoHistory(t *testing.T, s Setup) {
	a, b := s.pair(t)
	ch := channel("nohistory")
	pos := publishN(t, a, ch, 4, broker.PublishOptions{})
	if pos[3].Offset != 4 {
		t.Fatalf("offsets do not advance without history: %+v", pos)
	}
	pubs, top, err := b.b.Broker.History(ctx(t), ch, broker.HistoryOptions{})
	if err != nil || len(pubs) != 0 || top != pos[3] {
		t.Fatalf("history off: %d kept, position %+v (want %+v), err %v", len(pubs), top, pos[3], err)
	}
}

func testRemoveHistory(t *testing.T, s Setup) {
	a, b := s.pair(t)
	ch := channel("remove")
	pos := publishN(t, a, ch, 5, keepAll)
	if err := b.b.Broker.RemoveHistory(ctx(t), ch); err != nil {
		t.Fatal(err)
	}
	pubs, top, err := a.b.Broker.History(ctx(t), ch, broker.HistoryOptions{})
	if err != nil || len(pubs) != 0 || top != pos[4] {
		t.Fatalf("after RemoveHistory: %d kept, position %+v (want %+v), err %v", len(pubs), top, pos[4], err)
	}
	next := publishN(t, a, ch, 1, keepAll)[0]
	if next.Offset != 6 || next.Epoch != pos[0].Epoch {
		t.Fatalf("the stream went on at %+v, want 6 in %q", next, pos[0].Epoch)
	}
}

func testRecordCrosses(t *testing.T, s Setup) {
	a, b := s.pair(t)
	ch := channel("record")
	if err := b.b.Broker.Subscribe(ctx(t), ch); err != nil {
		t.Fatal(err)
	}
	in := &record.Publication{Channel: ch, Data: []byte(`{"x":[1,2]}`),
		Info: &record.ClientInfo{Client: "c1", User: "u1", Info: []byte(`{"name":"Ann"}`)},
		Ext:  record.RawExtension{Kind: record.ExtSocketIO, Value: []byte{0x0a, 0x02, 'h', 'i'}}}
	pos, err := a.b.Broker.Publish(ctx(t), in, keepAll)
	if err != nil {
		t.Fatal(err)
	}
	b.rec.waitFor(t, "the publication", func() bool { return len(b.rec.pubs[ch]) == 1 })
	hist, _, err := b.b.Broker.History(ctx(t), ch, broker.HistoryOptions{})
	if err != nil || len(hist) != 1 {
		t.Fatalf("history: %d, %v", len(hist), err)
	}
	for _, got := range []*record.Publication{b.rec.publications(ch)[0], hist[0]} {
		if got.Offset != pos.Offset || got.Epoch != pos.Epoch || !bytes.Equal(got.Data, in.Data) || got.Time == 0 {
			t.Fatalf("publication arrived as %+v", got)
		}
		if got.Info == nil || got.Info.Client != "c1" || got.Info.User != "u1" || string(got.Info.Info) != `{"name":"Ann"}` {
			t.Fatalf("publisher arrived as %+v", got.Info)
		}
		raw, err := extBytes(got.Ext)
		if err != nil || got.Ext.ExtensionKind() != record.ExtSocketIO || !bytes.Equal(raw, []byte{0x0a, 0x02, 'h', 'i'}) {
			t.Fatalf("extension arrived as %v %x (%v)", got.Ext, raw, err)
		}
	}
}

func extBytes(e record.Extension) ([]byte, error) {
	if e == nil {
		return nil, fmt.Errorf("no extension")
	}
	return e.AppendBinary(nil)
}
