// Package poll waits for conditions nothing signals: counters of
// connections or goroutines still winding down that reach zero.
package poll

import (
	"context"
	"time"
)

// Until checks cond every interval until it holds, and returns nil, or
// until ctx ends, and returns ctx's error.
func Until(ctx context.Context, interval time.Duration, cond func() bool) error {
	if cond() {
		return nil
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			if cond() {
				return nil
			}
		}
	}
}
