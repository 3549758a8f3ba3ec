package core

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"hash/maphash"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/backlog"
	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/hub"
	"github.com/heraldhq/herald/internal/poll"
)

// Config is what the core enforces. Every field is set (the herald
// package fills in its defaults).
type Config struct {
	// AllowAnonymous lets connections without credentials in.
	AllowAnonymous bool
	// AllowedOrigins are the browser origins allowed besides the
	// request's own host; "*" allows any.
	AllowedOrigins []string
	// Limits bound what a connection and the node may use.
	Limits Limits
	// DefaultChannel is the policy of channels without a namespace;
	// Namespaces that of each configured namespace.
	DefaultChannel Policy
	Namespaces     map[string]Policy
	// HistoryMetaTTL is how long a channel's offsets outlive its last
	// publication.
	HistoryMetaTTL time.Duration
	// RecoveryMax bounds one resume: a client that missed more
	// publications than this is told it did not recover rather than sent
	// them all. MaxReplayBytes bounds the replay's size the same way (half
	// a connection's queue, so a replay never cuts its client off).
	RecoveryMax    int
	MaxReplayBytes int
	// Backlog counts the bytes the transports have queued for their
	// connections; nil counts none (only the hub's pending messages).
	Backlog *backlog.Meter
}

// Limits bound resources.
type Limits struct {
	// MaxConnections caps the node's connections; MaxConnectionsPerUser
	// one user's (a Socket.IO socket counts as a connection of its user).
	MaxConnections, MaxConnectionsPerUser int
	// MaxSubscriptions caps the channels one connection (or socket) is in.
	MaxSubscriptions int
	// CommandRate and CommandBurst bound what a client sends: commands,
	// or Socket.IO events.
	CommandRate  float64
	CommandBurst int
	// MaxNodeQueueBytes bounds the node's backlog (see Core.Backlog):
	// past it publications and pushes meet back-pressure.
	MaxNodeQueueBytes int64
}

// Authenticator turns a connection token into credentials.
type Authenticator func(ctx context.Context, token string) (auth.Credentials, error)

// Options are what the core is built with besides its Config.
type Options struct {
	// Authenticate checks tokens; when nil, Verifier does.
	Authenticate Authenticator
	// Verifier checks JWTs; nil when the node takes no tokens.
	Verifier *auth.Verifier
	// Hooks are the application's.
	Hooks Hooks
	// Log is where the core logs.
	Log *slog.Logger
	// Metrics are the counters the core and its adapters keep.
	Metrics *Metrics
	// Backend is what the node runs on; a zero Backend is this process's
	// memory (a single node), with Streams keeping its channel streams
	// across restarts (history.store: disk) when set.
	Backend broker.Backend
	Streams broker.StreamStore
	// PresenceTTL is how long a shared presence store keeps an entry the
	// node does not refresh: the node refreshes its own at a third of it.
	// 0 for a memory backend, whose entries need no refresh.
	PresenceTTL time.Duration
	// Announce is how often the node tells the registry its figures; 0
	// means 5 s.
	Announce time.Duration
	// Name and Version are the node's, as the registry shows them.
	Name, Version string
	// AskTimeout bounds a question to every node; 0 means AskTimeout.
	AskTimeout time.Duration
}

// Core is one node's engine.
type Core struct {
	cfg      Config
	id       string
	log      *slog.Logger
	hub      *hub.Hub
	broker   broker.Broker
	presence broker.PresenceManager
	registry broker.Registry
	sessions broker.Sessions // nil on one node
	cluster  *cluster
	addrs    addresses
	routes   routes
	// sharedBroker says publications reach the node through a broker's
	// own connection (Redis, NATS), out of step with history reads.
	sharedBroker bool
	opts         Options
	started      time.Time
	stop         chan struct{}
	stopOnce     sync.Once
	auth         Authenticator
	verifier     *auth.Verifier
	hooks        Hooks
	metrics      *Metrics

	// clientSeq numbers connections for their ids.
	clientSeq atomic.Uint64
	// conns counts admitted connections of every protocol.
	conns atomic.Int64
	// userSlots counts each user's connections for their limit.
	userSlots userSlots
	// live counts clients whose close has not finished, OnDisconnect
	// included, so shutdown can wait for them.
	live atomic.Int64
	// published counts publications accepted.
	published atomic.Int64
	// closing is set once shutdown starts.
	closing atomic.Bool
	// holdings are the live messages held for clients resuming channels,
	// by client (see Client.Holds): here rather than in every Client, as
	// few clients hold anything at once.
	holdings sync.Map
}

// New starts a core: its hub and its broker.
func New(cfg Config, opts Options) (*Core, error) {
	if opts.Metrics == nil || opts.Log == nil {
		return nil, errors.New("core: Options.Metrics and Options.Log are required")
	}
	c := &Core{cfg: cfg, id: randomID(4), log: opts.Log, auth: opts.Authenticate, verifier: opts.Verifier,
		hooks: opts.Hooks, metrics: opts.Metrics, opts: opts, started: time.Now(), stop: make(chan struct{})}
	c.hub = hub.New()
	c.cluster = newCluster(c)
	c.addrs.kick = make(chan struct{}, 1)
	c.routes.seed = maphash.MakeSeed()
	b := opts.Backend
	c.sharedBroker = b.Broker != nil
	if b.Broker == nil {
		b = broker.Backend{Broker: broker.NewMemoryBroker(cfg.HistoryMetaTTL, opts.Streams),
			Presence: broker.NewMemoryPresence(), Registry: broker.NewMemoryRegistry()}
	}
	c.broker, c.presence, c.registry, c.sessions = b.Broker, b.Presence, b.Registry, b.Sessions
	if err := c.broker.Run(c.id, events{c}); err != nil {
		c.hub.Close()
		return nil, err
	}
	c.handleCoreOps()
	go c.announceLoop()
	if opts.PresenceTTL > 0 {
		go c.refreshPresenceLoop(opts.PresenceTTL / 3)
	}
	return c, nil
}

// Clustered says the node shares its broker with other nodes.
func (c *Core) Clustered() bool { return c.sharedBroker }

// ID is the node's id; connection ids start with it.
func (c *Core) ID() string { return c.id }

// Log is the node's logger.
func (c *Core) Log() *slog.Logger { return c.log }

// Metrics are the node's counters.
func (c *Core) Metrics() *Metrics { return c.metrics }

// Limits are the node's limits.
func (c *Core) Limits() Limits { return c.cfg.Limits }

// BacklogMeter is where the node's transports count the bytes they owe
// their connections.
func (c *Core) BacklogMeter() *backlog.Meter { return c.cfg.Backlog }

// NewClientID returns a connection id unique in the cluster.
func (c *Core) NewClientID() string {
	return c.id + "-" + strconv.FormatUint(c.clientSeq.Add(1), 36)
}

// BeginShutdown makes the node refuse new connections and publications.
// It reports false if shutdown had already begun.
func (c *Core) BeginShutdown() bool { return c.closing.CompareAndSwap(false, true) }

// ShuttingDown reports whether shutdown has begun.
func (c *Core) ShuttingDown() bool { return c.closing.Load() }

// WaitClosed waits until every client's close has run to the end,
// OnDisconnect included, or ctx is done.
func (c *Core) WaitClosed(ctx context.Context) error {
	return poll.Until(ctx, 5*time.Millisecond, func() bool { return c.live.Load() == 0 })
}

// Stop ends the hub and the broker, leaving the registry; call it last.
func (c *Core) Stop() {
	c.stopOnce.Do(func() {
		close(c.stop)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := c.registry.Leave(ctx, c.id); err != nil {
			c.log.Warn("leaving the node registry", "err", err)
		}
		c.hub.Close()
		_ = c.broker.Close()
	})
}

// Stats are the node's aggregate figures.
type Stats struct {
	Connections int64
	Users       int
	Channels    int
	Delivered   int64
	Published   int64
}

// Connections is how many connections the node has admitted and not
// released.
func (c *Core) Connections() int64 { return c.conns.Load() }

// Published is how many publications the node has accepted.
func (c *Core) Published() int64 { return c.published.Load() }

// Stats reports the node's aggregate figures; it walks the hub's shards,
// so what needs one figure asks for it alone.
func (c *Core) Stats() Stats {
	return Stats{Connections: c.conns.Load(), Users: c.NumUsers(), Channels: c.hub.NumChannels(),
		Delivered: c.hub.Delivered(), Published: c.published.Load()}
}

// Channels lists the channels with subscribers on this node.
func (c *Core) Channels() []hub.ChannelCount { return c.hub.Channels() }

// Hub is the node's hub, for adapters that send packets of their own
// through it in order with fan-out (Socket.IO's emits to one socket).
func (c *Core) Hub() *hub.Hub { return c.hub }

func randomID(bytes int) string {
	b := make([]byte, bytes)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
