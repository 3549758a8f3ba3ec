package core

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrOverloaded is wrapped by refusals of publications and pushes made
// while the node's fan-out backlog is past limits.max_node_queue_bytes.
var ErrOverloaded = errors.New("node overloaded")

// Backoff says what a publication or a push does when the node is behind.
type Backoff uint8

// Backoffs.
const (
	// Refuse answers ErrOverloaded at once (503): clients and the HTTP
	// API, whose callers are told to retry.
	Refuse Backoff = iota
	// Wait waits for room while ctx allows: the Go API, whose caller is
	// slowed down to the pace the node writes at.
	Wait
	// Admitted goes ahead: the rest of a request the backlog check
	// already let in, such as the channels of one broadcast.
	Admitted
)

// A waiting publisher looks at the backlog again after roomPoll, doubling
// up to roomPollMax: quick to resume after a short stall, and thousands
// of waiters do not wake the cores they wait for every few milliseconds.
const (
	roomPoll    = time.Millisecond
	roomPollMax = 50 * time.Millisecond
)

// Backlog is the bytes the node owes its connections: queued or handed to
// the kernel and not taken yet, plus the messages waiting for fan-out.
func (c *Core) Backlog() int64 { return c.cfg.Backlog.Bytes() + c.hub.Pending() }

func (c *Core) behind() bool { return c.Backlog() > c.cfg.Limits.MaxNodeQueueBytes }

// MakeRoom applies back-pressure: nil when the node may take another
// publication now, otherwise after waiting (Wait), or a 503 refusal that
// wraps ErrOverloaded. source labels a refusal in metrics.
func (c *Core) MakeRoom(ctx context.Context, b Backoff, source string) error {
	if e := c.makeRoom(ctx, b, source); e != nil {
		return e
	}
	return nil
}

func (c *Core) makeRoom(ctx context.Context, b Backoff, source string) *Error {
	if b == Admitted || !c.behind() {
		return nil
	}
	if b == Refuse {
		c.metrics.Overloaded.WithLabelValues(source).Inc()
		return refuse(503, ErrOverloaded, "node overloaded: %d bytes wait to be written to connections (limit %d); retry later",
			c.Backlog(), c.cfg.Limits.MaxNodeQueueBytes)
	}
	err := c.waitForRoom(ctx)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrShuttingDown):
		return refuse(503, ErrShuttingDown, "%v", ErrShuttingDown)
	}
	c.metrics.Overloaded.WithLabelValues(source).Inc()
	return &Error{Code: 503, Message: fmt.Sprintf("%v: %v while waiting for fan-out to catch up", ErrOverloaded, err),
		err: fmt.Errorf("%w: %w", ErrOverloaded, err)}
}

// waitForRoom returns once the backlog is back under its bound, or with
// ctx's error (or ErrShuttingDown) when that comes first.
func (c *Core) waitForRoom(ctx context.Context) error {
	t := time.NewTimer(roomPoll)
	defer t.Stop()
	for wait := roomPoll; c.behind(); wait = min(2*wait, roomPollMax) {
		if c.closing.Load() {
			return ErrShuttingDown
		}
		t.Reset(wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}
