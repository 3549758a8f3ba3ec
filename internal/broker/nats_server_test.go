package broker_test

import (
	"context"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// natsPrefix is a prefix of the test's own, whose stream and buckets are
// deleted when the test ends.
func natsPrefix(t testing.TB, url string) string {
	prefix := "test_" + uniqueName()
	t.Cleanup(func() { dropNATSPrefix(url, prefix) })
	return prefix
}

func dropNATSPrefix(url, prefix string) {
	nc, err := nats.Connect(url)
	if err != nil {
		return
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = js.DeleteStream(ctx, prefix+"_history")
	_ = js.DeleteKeyValue(ctx, prefix+"_presence")
	_ = js.DeleteKeyValue(ctx, prefix+"_nodes")
}

func newNATSBackend(t testing.TB, opts broker.NATSOptions) broker.Backend {
	t.Helper()
	b, err := broker.NewNATSBackend(opts)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
