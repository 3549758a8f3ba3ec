// Package broker moves publications between nodes and keeps what a channel
// remembers: its history (with offsets) and who is present in it.
// Publications are records (internal/protocol/record), which a broker
// that crosses processes encodes once and carries unchanged.
//
// The in-memory implementations here serve a single node. Cross-node
// brokers sit beside them and satisfy the same interfaces.
package broker

import (
	"context"
	"errors"
	"time"

	"github.com/heraldhq/herald/internal/protocol/record"
)

// StreamPosition is where a channel's stream stands.
type StreamPosition struct {
	// Offset of the newest publication; 0 when none.
	Offset uint64 `json:"offset"`
	// Epoch of the stream.
	Epoch string `json:"epoch"`
}

// PublishOptions say how a channel keeps its history.
type PublishOptions struct {
	// HistorySize is how many publications to keep; 0 keeps none (the
	// offset still advances).
	HistorySize int
	// HistoryTTL is how long kept publications live; 0 keeps them until
	// pushed out by newer ones.
	HistoryTTL time.Duration
}

// HistoryOptions select publications from a channel's history.
type HistoryOptions struct {
	// Since returns publications with an offset greater than this; 0
	// means from the oldest kept.
	Since uint64
	// Limit caps how many are returned; 0 means all.
	Limit int
}

// ErrClosed is returned by a broker that has been closed.
var ErrClosed = errors.New("broker: closed")

// EventHandler receives what a broker delivers to this node: the node's
// hub. Calls for one channel arrive in publication order.
type EventHandler interface {
	// HandlePublication delivers a publication to local subscribers.
	HandlePublication(pub *record.Publication)
	// HandleJoin tells local subscribers that a client joined ch.
	HandleJoin(ch string, info *record.ClientInfo)
	// HandleLeave tells local subscribers that a client left ch.
	HandleLeave(ch string, info *record.ClientInfo)
}

// Broker publishes to every node and keeps channel history.
type Broker interface {
	// Run starts delivering events to h; it is called once, before any
	// other method.
	Run(h EventHandler) error
	// Subscribe says this node has subscribers on ch and wants its events.
	Subscribe(ctx context.Context, ch string) error
	// Unsubscribe says this node no longer has subscribers on ch.
	Unsubscribe(ctx context.Context, ch string) error
	// Publish assigns pub its offset, epoch and time, keeps it as opts
	// say, and delivers it to every node subscribed to its channel.
	Publish(ctx context.Context, pub *record.Publication, opts PublishOptions) (StreamPosition, error)
	// PublishJoin delivers a join event for ch to every node.
	PublishJoin(ctx context.Context, ch string, info *record.ClientInfo) error
	// PublishLeave delivers a leave event for ch to every node.
	PublishLeave(ctx context.Context, ch string, info *record.ClientInfo) error
	// History returns kept publications of ch and the stream's position.
	History(ctx context.Context, ch string, opts HistoryOptions) ([]*record.Publication, StreamPosition, error)
	// RemoveHistory forgets ch's kept publications and keeps its
	// position, so clients resuming from before learn they missed some.
	RemoveHistory(ctx context.Context, ch string) error
	// Close stops the broker.
	Close() error
}

// PresenceManager keeps who is subscribed to channels that show presence.
type PresenceManager interface {
	// AddPresence records info as present in ch.
	AddPresence(ctx context.Context, ch string, info *record.ClientInfo) error
	// RemovePresence forgets client in ch.
	RemovePresence(ctx context.Context, ch, client string) error
	// Presence returns everyone present in ch, keyed by client id.
	Presence(ctx context.Context, ch string) (map[string]*record.ClientInfo, error)
}
