// Package broker moves publications between nodes and keeps what a channel
// remembers: its history (with offsets) and who is present in it.
//
// The in-memory implementations here serve a single node. Cross-node
// brokers sit beside them and satisfy the same interfaces.
package broker

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// ClientInfo says who a connection is; it travels with publications and
// presence so receivers can tell who spoke.
type ClientInfo struct {
	// Client is the connection's id, unique within the cluster.
	Client string `json:"client"`
	// User is the authenticated user; empty for anonymous connections.
	User string `json:"user,omitempty"`
	// Info is public data from the connection's token ("info" claim).
	Info json.RawMessage `json:"info,omitempty"`
}

// Publication is one message on one channel.
type Publication struct {
	// Channel is where it was published.
	Channel string
	// Offset is its position in the channel's stream, starting at 1.
	Offset uint64
	// Epoch names the stream instance; it changes when a stream is lost
	// (for example after every message expired), so offsets from another
	// epoch cannot be compared.
	Epoch string
	// Data is the JSON payload.
	Data json.RawMessage
	// Info names the publishing connection; nil when the server published.
	Info *ClientInfo
	// Event is the event name Socket.IO subscribers receive; empty means
	// "message".
	Event string
	// Args are the Socket.IO event arguments when they are not just
	// [Data]: several arguments, or binary ones (placeholders referring to
	// Attachments). Data then holds the same arguments as JSON for
	// herald-protocol subscribers.
	Args []json.RawMessage
	// Attachments are the binary arguments Args refer to.
	Attachments [][]byte
	// Except lists Socket.IO rooms whose sockets must not receive it.
	Except []string
	// Volatile publications may be dropped for sockets not ready to
	// receive them, and are never kept for recovery.
	Volatile bool
	// Channels lists every channel of a Socket.IO broadcast to several
	// rooms (one publication goes to each); a socket in more than one of
	// them takes it only from the first it is in, so it gets it once.
	Channels []string
	// Time is when it was published, unix milliseconds.
	Time int64
}

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

// EventHandler receives what a broker delivers to this node. Calls for one
// channel arrive in publication order.
type EventHandler interface {
	// HandlePublication delivers a publication to local subscribers.
	HandlePublication(pub *Publication)
	// HandleJoin tells local subscribers that a client joined ch.
	HandleJoin(ch string, info *ClientInfo)
	// HandleLeave tells local subscribers that a client left ch.
	HandleLeave(ch string, info *ClientInfo)
}

// Broker publishes to every node and keeps channel history.
type Broker interface {
	// Run starts delivering events to h; it is called once, before any
	// other method.
	Run(h EventHandler) error
	// Subscribe says this node has subscribers on ch and wants its events.
	Subscribe(ch string) error
	// Unsubscribe says this node no longer has subscribers on ch.
	Unsubscribe(ch string) error
	// Publish assigns pub its offset and epoch, keeps it as opts say, and
	// delivers it to every node subscribed to its channel.
	Publish(ctx context.Context, pub *Publication, opts PublishOptions) (StreamPosition, error)
	// PublishJoin delivers a join event for ch to every node.
	PublishJoin(ctx context.Context, ch string, info *ClientInfo) error
	// PublishLeave delivers a leave event for ch to every node.
	PublishLeave(ctx context.Context, ch string, info *ClientInfo) error
	// History returns kept publications of ch and the stream's position.
	History(ctx context.Context, ch string, opts HistoryOptions) ([]*Publication, StreamPosition, error)
	// Close stops the broker.
	Close() error
}

// PresenceManager keeps who is subscribed to channels that show presence.
type PresenceManager interface {
	// AddPresence records info as present in ch.
	AddPresence(ctx context.Context, ch string, info *ClientInfo) error
	// RemovePresence forgets client in ch.
	RemovePresence(ctx context.Context, ch, client string) error
	// Presence returns everyone present in ch, keyed by client id.
	Presence(ctx context.Context, ch string) (map[string]*ClientInfo, error)
}
