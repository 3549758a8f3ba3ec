// Package broker moves publications between nodes and keeps what a channel
// remembers: its history (with offsets) and who is present in it.
// Publications are records (internal/protocol/record), which a broker
// that crosses processes encodes once and carries unchanged.
//
// The in-memory implementations here serve a single node. Cross-node
// brokers (Redis, NATS) sit beside them and satisfy the same interfaces;
// internal/broker/brokertest holds the behaviour every one must show.
//
// A node receives a channel's events only while it has subscribers to
// it, and a user's only while it has connections of that user: the
// brokers route by channel and by user, never through one stream that
// every node filters.
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

// LocalRedis and LocalNATS are the servers `broker: redis` and `broker:
// nats` name: this machine's, on their standard ports.
const (
	LocalRedis = "redis://127.0.0.1:6379"
	LocalNATS  = "nats://127.0.0.1:4222"
)

// ErrClosed is returned by a broker that has been closed.
var ErrClosed = errors.New("broker: closed")

// EventHandler receives what a broker delivers to this node: the node's
// core. Calls for one channel arrive in publication order, and so do
// calls for one user.
type EventHandler interface {
	// HandlePublication delivers a publication to local subscribers.
	HandlePublication(pub *record.Publication)
	// HandleJoin tells local subscribers that a client joined ch.
	HandleJoin(ch string, info *record.ClientInfo)
	// HandleLeave tells local subscribers that a client left ch.
	HandleLeave(ch string, info *record.ClientInfo)
	// HandlePush delivers a push to every connection of its user on
	// this node.
	HandlePush(push *record.Push)
	// HandleControl delivers a message sent to this node (or to every
	// node) by Broker.Control.
	HandleControl(data []byte)
}

// Broker publishes to every node and keeps channel history.
type Broker interface {
	// Run starts delivering events to h for the node named node; it is
	// called once, before any other method.
	Run(node string, h EventHandler) error
	// Subscribe says this node has subscribers on ch and wants its
	// events. When it returns, every publication made from then on
	// reaches this node: a reader of History that subscribed first misses
	// nothing between the two.
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
	// SubscribeUser says this node has connections of user and wants
	// the pushes for them; like Subscribe, they flow once it returns.
	SubscribeUser(ctx context.Context, user string) error
	// UnsubscribeUser says this node no longer has connections of user.
	UnsubscribeUser(ctx context.Context, user string) error
	// PublishPush delivers push to every node with connections of its
	// user.
	PublishPush(ctx context.Context, push *record.Push) error
	// Control delivers data to the node named node, or to every node
	// (this one included) when node is "".
	Control(ctx context.Context, node string, data []byte) error
	// Close stops the broker.
	Close() error
}

// PresenceManager keeps who is subscribed to channels that show presence.
// A shared one lets entries expire unless refreshed: the node that made
// them adds them again while the clients stay, so a node that dies takes
// its entries with it after the presence TTL.
type PresenceManager interface {
	// AddPresence records info as present in ch, or refreshes it.
	AddPresence(ctx context.Context, ch string, info *record.ClientInfo) error
	// RemovePresence forgets client in ch.
	RemovePresence(ctx context.Context, ch, client string) error
	// Presence returns everyone present in ch, keyed by client id.
	Presence(ctx context.Context, ch string) (map[string]*record.ClientInfo, error)
}

// Registry keeps the cluster's live nodes. A node announces itself
// periodically; one that stops announcing is forgotten after the
// registry's TTL.
type Registry interface {
	// Announce records (or refreshes) info.
	Announce(ctx context.Context, info NodeInfo) error
	// Nodes lists the live nodes, sorted by id.
	Nodes(ctx context.Context) ([]NodeInfo, error)
	// Leave forgets node at once (a clean shutdown).
	Leave(ctx context.Context, node string) error
}

// NodeInfo is one node as the registry shows it.
type NodeInfo struct {
	ID      string `json:"id"`
	Name    string `json:"name,omitempty"`
	Version string `json:"version,omitempty"`
	// URL is where the other nodes reach this node's HTTP server.
	URL         string    `json:"url,omitempty"`
	Started     time.Time `json:"started"`
	Updated     time.Time `json:"updated"`
	Connections int64     `json:"connections"`
	Users       int       `json:"users"`
	Channels    int       `json:"channels"`
	Published   int64     `json:"published"`
	Delivered   int64     `json:"delivered"`
}

// Backend is what a node runs on: a broker, and the presence, node
// registry and sessions that go with it (no sessions on one node).
type Backend struct {
	Broker   Broker
	Presence PresenceManager
	Registry Registry
	Sessions Sessions
}
