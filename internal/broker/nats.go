package broker

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// NATSOptions configure a NATS backend. The server needs JetStream: the
// channels' streams and the presence and node buckets live in it.
type NATSOptions struct {
	// URL is the server, or several of one cluster separated by commas;
	// default nats://127.0.0.1:4222.
	URL string
	// Prefix starts every subject, stream and bucket the backend uses, so
	// several clusters can share a server; letters, digits, '-' and '_'.
	// Default "herald".
	Prefix string
	// MetaTTL is how long a channel's position (offset and epoch)
	// outlives its last publication; default 24 hours.
	MetaTTL time.Duration
	// PresenceTTL is how long a presence entry lives unless refreshed;
	// default 30 s (the core refreshes its own every third of it).
	PresenceTTL time.Duration
	// RegistryTTL is how long a node stays listed without announcing
	// itself; default 15 s, three announcements at the core's 5 s.
	RegistryTTL time.Duration
	// Replicas is how many servers hold each stream and bucket; default
	// 1. A cluster of three wants 3.
	Replicas int
	// Name names the connection, as the server's monitoring shows it.
	Name string
	// ReconnectWait is the pause between reconnection attempts; default
	// 500 ms (nats.go adds jitter).
	ReconnectWait time.Duration
}

// NATS option defaults.
const (
	natsDefaultPrefix      = "herald"
	natsDefaultMetaTTL     = 24 * time.Hour
	natsDefaultPresenceTTL = 30 * time.Second
	natsDefaultRegistryTTL = 15 * time.Second
	natsDefaultReconnect   = 500 * time.Millisecond
	// natsRequestTimeout bounds a call whose context has no deadline.
	natsRequestTimeout = 5 * time.Second
)

var natsPrefixPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func (o NATSOptions) withDefaults() (NATSOptions, error) {
	if o.URL == "" {
		o.URL = LocalNATS
	}
	if o.Prefix == "" {
		o.Prefix = natsDefaultPrefix
	}
	if !natsPrefixPattern.MatchString(o.Prefix) {
		return o, fmt.Errorf("broker: NATS prefix %q: use letters, digits, '-' and '_'", o.Prefix)
	}
	if o.MetaTTL <= 0 {
		o.MetaTTL = natsDefaultMetaTTL
	}
	if o.PresenceTTL <= 0 {
		o.PresenceTTL = natsDefaultPresenceTTL
	}
	if o.RegistryTTL <= 0 {
		o.RegistryTTL = natsDefaultRegistryTTL
	}
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	if o.ReconnectWait <= 0 {
		o.ReconnectWait = natsDefaultReconnect
	}
	return o, nil
}

// NewNATSBackend connects to NATS and returns a broker, presence and
// registry that share the one connection; closing the broker closes it.
// It creates (or updates) the history stream and the two buckets it
// needs, so the server must be reachable now.
func NewNATSBackend(opts NATSOptions) (Backend, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return Backend{}, err
	}
	link := newNATSLink()
	nc, err := natsConnect(opts, link)
	if err != nil {
		return Backend{}, err
	}
	b, err := newNATSBroker(nc, link, opts)
	if err != nil {
		nc.Close()
		return Backend{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*natsRequestTimeout)
	defer cancel()
	bk := Backend{Broker: b}
	bk.Presence, err = newNATSPresence(ctx, b.js, link, opts)
	if err == nil {
		bk.Registry, err = newNATSRegistry(ctx, b.js, link, opts)
	}
	if err == nil {
		bk.Sessions, err = newNATSSessions(ctx, b.js, link, opts)
	}
	if err != nil {
		nc.Close()
		return Backend{}, err
	}
	return bk, nil
}

// natsConnect opens the shared connection. It reconnects for ever, and
// keeps nothing while it is away: a publish during an outage fails at
// once (ReconnectBufSize -1) rather than waiting in a buffer that a
// process exit or a long outage would throw away unreported.
// Subscriptions are sent again by nats.go when it is back.
func natsConnect(opts NATSOptions, link *natsLink) (*nats.Conn, error) {
	nc, err := nats.Connect(opts.URL,
		nats.Name(opts.Name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(opts.ReconnectWait),
		nats.ReconnectBufSize(-1),
		nats.Timeout(natsRequestTimeout),
		nats.DisconnectErrHandler(func(*nats.Conn, error) { link.down() }),
		nats.ReconnectHandler(func(*nats.Conn) { link.up() }),
		// What nats.go reports on the side is a slow consumer (a full
		// dispatcher queue: the gap check brings lost publications back
		// from the stream) or what a call also returns.
		nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}),
	)
	if err != nil {
		return nil, fmt.Errorf("broker: connecting to NATS at %s: %w", opts.URL, err)
	}
	return nc, nil
}

// NATSBroker is the cross-node broker on NATS: core NATS subjects carry
// events to the nodes that asked for them, and a JetStream stream numbers
// and keeps each channel's publications (see nats_history.go).
//
// Subjects, with P the prefix and <x> a name encoded by natsToken:
//
//	P.h.<channel>  publications, captured by the history stream P_history
//	P.c.<channel>  what the stream republishes once it has stored a
//	               publication, and the channel's joins and leaves
//	P.u.<user>     pushes to a user
//	P.n.<node>     control messages to one node
//	P.all          control messages to every node
type NATSBroker struct {
	nc   *nats.Conn
	js   jetstream.JetStream
	link *natsLink
	opts NATSOptions
	subj natsSubjects
	// stream is the history stream.
	stream jetstream.Stream

	node    string
	handler EventHandler
	// mu guards the subscriptions.
	mu       sync.Mutex
	channels map[string]*nats.Subscription
	users    map[string]*nats.Subscription

	dispatch *natsDispatcher
	tails    natsTails
	trims    chan natsTrim

	done chan struct{}
	once sync.Once
}

func newNATSBroker(nc *nats.Conn, link *natsLink, opts NATSOptions) (*NATSBroker, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("broker: NATS JetStream: %w", err)
	}
	b := &NATSBroker{nc: nc, js: js, link: link, opts: opts, subj: natsSubjects{prefix: opts.Prefix},
		channels: map[string]*nats.Subscription{}, users: map[string]*nats.Subscription{},
		trims: make(chan natsTrim, 1024), done: make(chan struct{})}
	b.tails.init()
	ctx, cancel := context.WithTimeout(context.Background(), 2*natsRequestTimeout)
	defer cancel()
	if b.stream, err = js.CreateOrUpdateStream(ctx, b.streamConfig()); err != nil {
		return nil, fmt.Errorf("broker: creating the NATS history stream: %w", err)
	}
	return b, nil
}

// Run implements Broker: it starts the dispatchers and listens to this
// node's control subjects.
func (b *NATSBroker) Run(node string, h EventHandler) error {
	b.node, b.handler = node, h
	b.dispatch = newNATSDispatcher(b)
	// Back from an outage, the dispatchers also look for what was
	// published meanwhile.
	b.nc.SetReconnectHandler(func(*nats.Conn) { b.link.up(); b.dispatch.catchUp() })
	for _, s := range []string{b.subj.node(node), b.subj.all()} {
		if _, err := b.nc.ChanSubscribe(s, b.dispatch.queueFor(s)); err != nil {
			return fmt.Errorf("broker: NATS subscribe %s: %w", s, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), natsRequestTimeout)
	defer cancel()
	if err := b.nc.FlushWithContext(ctx); err != nil {
		return natsError(ctx, "subscribe", err)
	}
	go b.trimLoop()
	go b.tails.expireLoop(b.done)
	return nil
}

// Close implements Broker: it closes the shared connection, so the
// backend's presence and registry stop too.
func (b *NATSBroker) Close() error {
	b.once.Do(func() {
		close(b.done)
		b.nc.Close()
	})
	return nil
}

func (b *NATSBroker) closed() bool {
	select {
	case <-b.done:
		return true
	default:
		return false
	}
}

// natsError says what failed: a closed connection reads as ErrClosed, and
// a call whose context ended as why it ended (its deadline, its caller,
// or errNATSDown).
func natsError(ctx context.Context, what string, err error) error {
	if errors.Is(err, nats.ErrConnectionClosed) {
		return ErrClosed
	}
	if ctx.Err() != nil {
		err = context.Cause(ctx)
	}
	return fmt.Errorf("broker: NATS %s: %w", what, err)
}
