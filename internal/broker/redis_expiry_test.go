package broker_test

import (
	"context"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/protocol/record"
	"github.com/redis/rueidis"
)

// TestRedisExpiredPublicationsLeaveRedis looks at the keys themselves:
// publications past their HistoryTTL are trimmed by the next publish or
// read, and a stream nobody publishes to leaves Redis when its newest
// publication expires, while its position stays for MetaTTL.
func TestRedisExpiredPublicationsLeaveRedis(t *testing.T) {
	opts := redisOptions(t)
	a, _ := runNode(t, opts)
	raw, err := rueidis.NewClient(rueidis.MustParseURL(opts.URL))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	ch := "expiring " + uniqueName()
	stream, meta := opts.Prefix+":{c:"+ch+"}:s", opts.Prefix+":{c:"+ch+"}:m"
	short := broker.PublishOptions{HistorySize: 100, HistoryTTL: 300 * time.Millisecond}
	publish := func() broker.StreamPosition {
		pos, err := a.Broker.Publish(testCtx(t), &record.Publication{Channel: ch}, short)
		if err != nil {
			t.Fatal(err)
		}
		return pos
	}
	length := func() int64 {
		n, err := raw.Do(context.Background(), raw.B().Xlen().Key(stream).Build()).AsInt64()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for range 3 {
		publish()
	}
	time.Sleep(500 * time.Millisecond)
	publish()
	if n := length(); n != 1 {
		t.Fatalf("after a publish past the others' TTL the stream holds %d entries, want 1", n)
	}
	ttl, _ := raw.Do(context.Background(), raw.B().Pttl().Key(stream).Build()).AsInt64()
	if ttl <= 0 || ttl > 300 {
		t.Fatalf("the stream's TTL is %d ms, want at most the publications' 300", ttl)
	}
	time.Sleep(500 * time.Millisecond)
	if n, _ := raw.Do(context.Background(), raw.B().Exists().Key(stream).Build()).AsInt64(); n != 0 {
		t.Fatal("a stream whose publications all expired is still in Redis")
	}
	_, pos, err := a.Broker.History(testCtx(t), ch, broker.HistoryOptions{})
	if err != nil || pos.Offset != 4 {
		t.Fatalf("the position after the publications left: %+v, %v; want offset 4", pos, err)
	}
	if ttl, _ := raw.Do(context.Background(), raw.B().Pttl().Key(meta).Build()).AsInt64(); ttl < int64(23*time.Hour/time.Millisecond) {
		t.Fatalf("the position's TTL is %d ms, want about MetaTTL (24 h)", ttl)
	}
}
