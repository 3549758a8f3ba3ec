package core

import (
	"context"
	"errors"
	"time"
)

// ErrNoSessions is the error of a node with no shared broker to keep
// sessions in.
var ErrNoSessions = errors.New("core: no shared broker keeps sessions")

// KeepSession keeps data under key in the shared broker for ttl, for
// another node to take once.
func (c *Core) KeepSession(ctx context.Context, key string, data []byte, ttl time.Duration) error {
	if c.sessions == nil {
		return ErrNoSessions
	}
	if err := c.sessions.PutSession(ctx, key, data, ttl); err != nil {
		return c.brokerFailed("session", "keeping a session", err)
	}
	return nil
}

// AddSession is KeepSession, unless a record is kept under key.
func (c *Core) AddSession(ctx context.Context, key string, data []byte, ttl time.Duration) error {
	if c.sessions == nil {
		return ErrNoSessions
	}
	if err := c.sessions.AddSession(ctx, key, data, ttl); err != nil {
		return c.brokerFailed("session", "keeping a session", err)
	}
	return nil
}

// TakeSession returns what KeepSession kept under key and forgets it;
// nil when there is none.
func (c *Core) TakeSession(ctx context.Context, key string) ([]byte, error) {
	if c.sessions == nil {
		return nil, nil
	}
	b, err := c.sessions.TakeSession(ctx, key)
	if err != nil {
		return nil, c.brokerFailed("session", "taking a session", err)
	}
	return b, nil
}
