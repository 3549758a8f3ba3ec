package broker_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/redis/rueidis"
)

func uniqueName() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// testPrefix is a prefix no other run uses; the keys under it are
// deleted when the test ends.
func testPrefix(t testing.TB, url string) string {
	prefix := "herald-test-" + uniqueName()
	t.Cleanup(func() { deleteKeys(t, url, prefix) })
	return prefix
}

func deleteKeys(t testing.TB, url, prefix string) {
	c, err := rueidis.NewClient(rueidis.MustParseURL(url))
	if err != nil {
		t.Logf("cleaning up %s: %v", prefix, err)
		return
	}
	defer c.Close()
	ctx := context.Background()
	var cursor uint64
	for {
		e, err := c.Do(ctx, c.B().Scan().Cursor(cursor).Match(prefix+":*").Count(1000).Build()).AsScanEntry()
		if err != nil {
			t.Logf("cleaning up %s: %v", prefix, err)
			return
		}
		for _, k := range e.Elements {
			c.Do(ctx, c.B().Del().Key(k).Build())
		}
		if cursor = e.Cursor; cursor == 0 {
			return
		}
	}
}

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
