package broker_test

import (
	"testing"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/testservices"
)

// natsPrefix is a prefix of the test's own, whose stream and buckets are
// deleted when the test ends.
func natsPrefix(t testing.TB, url string) string { return testservices.Prefix(t, url, "test_") }

func newNATSBackend(t testing.TB, opts broker.NATSOptions) broker.Backend {
	t.Helper()
	b, err := broker.NewNATSBackend(opts)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
