package broker_test

import (
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/testservices"
)

func uniqueName() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// testPrefix is a prefix no other run uses; the keys under it are
// deleted when the test ends.
func testPrefix(t testing.TB, url string) string { return testservices.Prefix(t, url, "herald-test-") }

// newRedisBackend is a node's backend on url, closed when the test ends.
func newRedisBackend(t testing.TB, opts broker.RedisOptions) broker.Backend {
	t.Helper()
	b, err := broker.NewRedisBackend(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Broker.Close() })
	return b
}
