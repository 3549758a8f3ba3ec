package testservices

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/broker"
)

// Prefix returns a cluster prefix no other test or run uses, base and
// random characters, and deletes what the cluster kept under it in the
// broker at url when the test ends.
func Prefix(t testing.TB, url, base string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := base + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := broker.ForgetPrefix(ctx, url, prefix); err != nil {
			t.Logf("deleting what the cluster %s kept: %v", prefix, err)
		}
	})
	return prefix
}
