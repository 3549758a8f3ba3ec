package broker

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/protocol/record"
)

type collector struct {
	mu   sync.Mutex
	pubs []*record.Publication
	join []string
}

func (c *collector) HandlePublication(p *record.Publication) {
	c.mu.Lock()
	c.pubs = append(c.pubs, p)
	c.mu.Unlock()
}
func (c *collector) HandleJoin(ch string, _ *record.ClientInfo) {
	c.mu.Lock()
	c.join = append(c.join, ch)
	c.mu.Unlock()
}
func (c *collector) HandleLeave(string, *record.ClientInfo) {}

func (c *collector) HandlePush(*record.Push) {}

func (c *collector) HandleControl([]byte) {}

func newTestBroker(t *testing.T) (*MemoryBroker, *collector, *time.Time) {
	b := NewMemoryBroker(time.Hour, nil)
	now := time.Unix(1000, 0)
	b.now = func() time.Time { return now }
	c := &collector{}
	if err := b.Run("n1", c); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b, c, &now
}

func publish(t *testing.T, b *MemoryBroker, ch string, opts PublishOptions) StreamPosition {
	t.Helper()
	pos, err := b.Publish(context.Background(), &record.Publication{Channel: ch, Data: json.RawMessage("1")}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return pos
}

func TestOffsetsAndHistory(t *testing.T) {
	b, c, _ := newTestBroker(t)
	var epoch string
	for i := 1; i <= 5; i++ {
		pos := publish(t, b, "c", PublishOptions{HistorySize: 3})
		if pos.Offset != uint64(i) || (epoch != "" && pos.Epoch != epoch) {
			t.Fatalf("publish %d: %+v", i, pos)
		}
		epoch = pos.Epoch
	}
	if len(c.pubs) != 5 || c.pubs[4].Offset != 5 {
		t.Fatal("handler not called in order")
	}
	pubs, pos, _ := b.History(context.Background(), "c", HistoryOptions{})
	if len(pubs) != 3 || pubs[0].Offset != 3 || pos.Offset != 5 {
		t.Fatalf("history %v %+v", pubs, pos)
	}
	pubs, _, _ = b.History(context.Background(), "c", HistoryOptions{Since: 3, Limit: 1})
	if len(pubs) != 1 || pubs[0].Offset != 4 {
		t.Fatalf("since/limit %v", pubs)
	}
	publish(t, b, "other", PublishOptions{})
	if pubs, pos, _ := b.History(context.Background(), "other", HistoryOptions{}); len(pubs) != 0 || pos.Offset != 1 {
		t.Fatal("a channel without history still counts offsets")
	}
}

func TestHistoryTTLAndStreamExpiry(t *testing.T) {
	b, _, now := newTestBroker(t)
	first := publish(t, b, "c", PublishOptions{HistorySize: 10, HistoryTTL: time.Minute})
	*now = now.Add(30 * time.Second)
	publish(t, b, "c", PublishOptions{HistorySize: 10, HistoryTTL: time.Minute})
	*now = now.Add(45 * time.Second)
	pubs, _, _ := b.History(context.Background(), "c", HistoryOptions{})
	if len(pubs) != 1 || pubs[0].Offset != 2 {
		t.Fatalf("the first publication should have expired: %v", pubs)
	}
	*now = now.Add(2 * time.Hour) // past the stream's meta TTL
	b.expire(*now)
	pos := publish(t, b, "c", PublishOptions{})
	if pos.Offset != 1 || pos.Epoch == first.Epoch {
		t.Fatalf("a forgotten stream starts again with a new epoch: %+v (was %+v)", pos, first)
	}
}

func TestPresence(t *testing.T) {
	p := NewMemoryPresence()
	ctx := context.Background()
	p.AddPresence(ctx, "c", &record.ClientInfo{Client: "1", User: "a"})
	p.AddPresence(ctx, "c", &record.ClientInfo{Client: "2", User: "b"})
	p.RemovePresence(ctx, "c", "1")
	m, _ := p.Presence(ctx, "c")
	if len(m) != 1 || m["2"].User != "b" {
		t.Fatal(m)
	}
	p.RemovePresence(ctx, "c", "2")
	if len(p.channels) != 0 {
		t.Fatal("empty channel kept")
	}
}

func TestHistoryOfAnUnknownChannelCreatesNothing(t *testing.T) {
	b, _, _ := newTestBroker(t)
	for i := range 100 {
		pubs, pos, err := b.History(context.Background(), fmt.Sprint("made-up-", i), HistoryOptions{})
		if err != nil || pubs != nil || pos != (StreamPosition{}) {
			t.Fatal(pubs, pos, err)
		}
	}
	for i := range b.shards {
		if n := len(b.shards[i].streams); n != 0 {
			t.Fatalf("shard %d holds %d streams", i, n)
		}
	}
}
