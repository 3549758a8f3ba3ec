package broker_test

import (
	"slices"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/protocol/record"
	"github.com/heraldhq/herald/internal/testservices"
)

// catchesUpAfterACut subscribes b, which reaches the broker through
// proxy, cuts it off while a publishes, and checks that once back b
// delivers what was published meanwhile, in order, although nothing
// published later shows it the gap.
func catchesUpAfterACut(t *testing.T, a, b broker.Backend, proxy *cutProxy, got func() []*record.Publication) {
	ctx := testCtx(t)
	ch := "catch-up-" + uniqueName()
	if err := b.Broker.Subscribe(ctx, ch); err != nil {
		t.Fatal(err)
	}
	keep := broker.PublishOptions{HistorySize: 100}
	publish := func(n int) {
		for range n {
			if _, err := a.Broker.Publish(ctx, &record.Publication{Channel: ch, Data: []byte(`1`)}, keep); err != nil {
				t.Fatal(err)
			}
		}
	}
	publish(3)
	eventually(t, "the first three", func() bool { return len(got()) == 3 })
	proxy.setCut(true)
	publish(5)
	proxy.setCut(false)
	eventually(t, "the five published while the node was away", func() bool { return len(got()) >= 8 })
	time.Sleep(100 * time.Millisecond) // for a duplicate to show
	pubs := got()
	for i, p := range pubs {
		if p.Offset != uint64(i+1) {
			t.Fatalf("delivery %d is offset %d (%d delivered): not each once, in order", i, p.Offset, len(pubs))
		}
	}
	if len(pubs) != 8 {
		t.Fatalf("%d delivered, want 8", len(pubs))
	}
}

func TestRedisCatchesUpAfterACut(t *testing.T) {
	t.Parallel()
	opts := redisOptions(t)
	proxy := newCutProxy(t, testservices.RedisAddr)
	a, _ := runNode(t, opts)
	opts.URL, opts.Wait = "redis://"+proxy.addr(), 500*time.Millisecond
	b, got := runNode(t, opts)
	catchesUpAfterACut(t, a, b, proxy, got.publications)
}

func TestNATSCatchesUpAfterACut(t *testing.T) {
	a, b, got, proxy := natsNodesOneCut(t)
	catchesUpAfterACut(t, a, b, proxy, got.publications)
}

func (c *collector) publications() []*record.Publication {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.pubs)
}
