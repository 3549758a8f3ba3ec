package broker_test

import (
	"context"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/protocol/record"
	"github.com/heraldhq/herald/internal/testservices"
)

// TestRedisRestart stops the test's own Redis under two nodes: calls
// fail promptly while it is down, and once it is back the nodes have
// their subscriptions again without being told.
func TestRedisRestart(t *testing.T) {
	t.Parallel()
	srv := testservices.OwnRedis(t)
	opts := broker.RedisOptions{URL: srv.URL(), Prefix: "restart", Wait: 500 * time.Millisecond}
	a, _ := runNode(t, opts)
	b, got := runNode(t, opts)
	ch, user := "before the restart", "someone"
	if err := b.Broker.Subscribe(testCtx(t), ch); err != nil {
		t.Fatal(err)
	}
	if err := b.Broker.SubscribeUser(testCtx(t), user); err != nil {
		t.Fatal(err)
	}

	srv.Stop()
	start := time.Now()
	_, err := a.Broker.Publish(testCtx(t), &record.Publication{Channel: ch}, broker.PublishOptions{HistorySize: 10})
	if err == nil || time.Since(start) > 3*time.Second {
		t.Fatalf("publish with Redis down: %v after %v, want an error at once", err, time.Since(start))
	}
	start = time.Now()
	if err := b.Broker.Subscribe(context.Background(), "during the outage"); err == nil || time.Since(start) > 3*time.Second {
		t.Fatalf("subscribe with Redis down: %v after %v, want an error within Wait", err, time.Since(start))
	}

	srv.Start()
	publishUntilDelivered(t, a, got, ch)
	deadline := time.Now().Add(10 * time.Second)
	for n := 0; n == 0; {
		if err := a.Broker.PublishPush(testCtx(t), &record.Push{User: user, Event: "back"}); err != nil && time.Now().After(deadline) {
			t.Fatalf("push after the restart: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
		got.mu.Lock()
		n = len(got.pushes)
		got.mu.Unlock()
		if n == 0 && time.Now().After(deadline) {
			t.Fatal("the user's pushes did not come back after the restart")
		}
	}
	later := "after the restart"
	if err := b.Broker.Subscribe(testCtx(t), later); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Broker.Publish(testCtx(t), &record.Publication{Channel: later}, broker.PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	got.wait(t, "a publication on a channel subscribed after the restart", func() bool {
		return len(got.pubs) > 0 && got.pubs[len(got.pubs)-1].Channel == later
	})
}

// publishUntilDelivered publishes on ch until got receives one: the
// publishing node may reconnect later than the receiving one.
func publishUntilDelivered(t *testing.T, from broker.Backend, got *collector, ch string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := from.Broker.Publish(testCtx(t), &record.Publication{Channel: ch}, broker.PublishOptions{HistorySize: 10})
		time.Sleep(50 * time.Millisecond)
		got.mu.Lock()
		n := len(got.pubs)
		got.mu.Unlock()
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no publication on %q reached the subscribed node after the restart (last publish: %v)", ch, err)
		}
	}
}
