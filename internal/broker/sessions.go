package broker

import (
	"context"
	"time"
)

// Sessions keeps small records for a while, for another node to take:
// a Socket.IO socket a node saved as it shut down, for the node its
// client comes back through. A record is taken at most once. Only the
// shared backends have one; a single node keeps what it saves on disk.
type Sessions interface {
	// PutSession keeps data under key for ttl.
	PutSession(ctx context.Context, key string, data []byte, ttl time.Duration) error
	// AddSession is PutSession, unless a record is kept under key.
	AddSession(ctx context.Context, key string, data []byte, ttl time.Duration) error
	// TakeSession returns the data kept under key and forgets it; nil
	// when there is none (never put, expired, or taken).
	TakeSession(ctx context.Context, key string) ([]byte, error)
}
