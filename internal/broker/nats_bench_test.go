package broker_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/protocol/record"
	"github.com/heraldhq/herald/internal/testservices"
)

// BenchmarkNATSPublish publishes from many goroutines of one node, each
// to a channel of its own ("channels") or all to one ("one-channel",
// where they take turns), keeping 100 publications per channel:
//
//	go test -run '^$' -bench BenchmarkNATSPublish ./internal/broker/
func BenchmarkNATSPublish(b *testing.B) {
	url := testservices.NATS(b)
	opts := broker.NATSOptions{URL: url, Prefix: natsPrefix(b, url)}
	be := newNATSBackend(b, opts)
	if err := be.Broker.Run("bench", &events{}); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = be.Broker.Close() })
	data := []byte(`{"text":"a message of about sixty-four bytes, as chat sends"}`)
	keep := broker.PublishOptions{HistorySize: 100}
	for _, shared := range []bool{false, true} {
		name := "channels"
		if shared {
			name = "one-channel"
		}
		b.Run(name, func(b *testing.B) {
			var n atomic.Int64
			b.SetParallelism(8)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				ch := "bench-" + name
				if !shared {
					ch += "-" + strconv.FormatInt(n.Add(1), 10)
				}
				for pb.Next() {
					if _, err := be.Broker.Publish(context.Background(), &record.Publication{Channel: ch, Data: data}, keep); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
