package herald

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/backlog"
	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/core"
	"github.com/heraldhq/herald/internal/heraldws"
	"github.com/heraldhq/herald/internal/httpconn"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/sioboot"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/transport/websocket"
	"github.com/heraldhq/herald/socketio"
	"github.com/prometheus/client_golang/prometheus"
)

// Node is one herald server: it accepts connections, keeps their
// subscriptions and delivers what is published to them.
type Node struct {
	cfg  Config
	log  *slog.Logger
	core *core.Core
	// engine holds herald-protocol (and /echo) WebSocket connections.
	engine *websocket.Engine
	ws     *heraldws.Server
	// sio is the Socket.IO server users program against, and sioHost the
	// node's side of it; both nil when Socket.IO is disabled.
	sio     *socketio.Server
	sioHost sioboot.Host
	// authenticate, hooks and registry come from the options.
	authenticate Authenticator
	hooks        Hooks
	registry     *prometheus.Registry
	// registered are the collectors the node put in registry.
	registered []prometheus.Collector
	started    time.Time
	// stopReducer releases this node's hold on the idle-memory reducer.
	stopReducer func()
	// rates are per-second figures for /stats.
	rates rates
	// stop ends the node's background goroutines.
	stop chan struct{}
	// conns tracks the plain HTTP connections of the servers Serve runs.
	conns *httpconn.Tracker
	// servers are the HTTP servers Serve runs.
	servers servers
	// advertiseOnce announces the first address served on (cluster.url).
	advertiseOnce sync.Once
	// stopping is set when Shutdown begins (before its delay); stopped is
	// closed when it has finished.
	stopping atomic.Bool
	stopped  chan struct{}
}

// New builds a node from cfg. It is ready to serve once New returns. On
// error nothing it started is left running.
func New(cfg Config, opts ...Option) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg.withDefaults(), started: time.Now(), stop: make(chan struct{}), stopped: make(chan struct{})}
	n.conns = httpconn.New(n.cfg.HTTP.MaxConnections)
	for _, opt := range opts {
		if err := opt(n); err != nil {
			return nil, err
		}
	}
	if n.log == nil {
		n.log = newLogger(n.cfg.Log)
	}
	if n.registry == nil {
		n.registry = prometheus.NewRegistry()
	}
	var undo unwind
	if err := n.start(&undo); err != nil {
		undo.run()
		return nil, err
	}
	go n.sampleRates(n.stop)
	if n.cfg.ReleaseIdleMemory {
		n.stopReducer = memory.Start(n.log)
	}
	return n, nil
}

// unwind collects what New has started, to stop it if a later step fails.
type unwind []func()

func (u *unwind) add(f func()) { *u = append(*u, f) }

func (u unwind) run() {
	for i := len(u) - 1; i >= 0; i-- {
		u[i]()
	}
}

// start builds the node's parts in order, recording in undo how to stop
// each.
func (n *Node) start(undo *unwind) error {
	verifier, err := n.verifier()
	if err != nil {
		return err
	}
	metrics := core.NewMetrics()
	cc := n.cfg.coreConfig()
	cc.Backlog = new(backlog.Meter)
	streams, err := n.openStreams()
	if err != nil {
		return err
	}
	backend, err := n.openBackend()
	if err != nil {
		return err
	}
	opts := core.Options{Authenticate: n.authenticate.coreAuthenticator(),
		Verifier: verifier, Hooks: n.hooks.coreHooks(), Log: n.log, Metrics: metrics, Streams: streams,
		Backend: backend, Name: n.nodeName(), Version: Version, Announce: n.cfg.Cluster.NodeTTL / 3,
		AskTimeout: n.cfg.Cluster.AskTimeout}
	if backend.Broker != nil {
		opts.PresenceTTL = n.cfg.Cluster.PresenceTTL // shared presence: refreshed, or it expires
	}
	n.core, err = core.New(cc, opts)
	if err != nil {
		if streams != nil {
			_ = streams.Close()
		}
		if backend.Broker != nil {
			_ = backend.Broker.Close()
		}
		return err
	}
	undo.add(n.core.Stop)
	if n.cfg.Cluster.URL != "" {
		n.core.Advertise(strings.TrimSuffix(n.cfg.Cluster.URL, "/"))
	}
	if n.engine, err = websocket.NewEngine(websocket.Config{MaxMessageSize: n.cfg.Limits.MaxMessageSize,
		MaxQueueBytes: n.cfg.Limits.MaxQueueBytes, PingInterval: n.cfg.Heartbeat.Interval,
		PongTimeout: n.cfg.Heartbeat.Timeout, Backlog: cc.Backlog}); err != nil {
		return fmt.Errorf("herald: starting the WebSocket poller: %w", err)
	}
	undo.add(n.engine.Stop)
	n.ws = heraldws.NewServer(n.core, n.engine, heraldws.Config{ConnectTimeout: n.cfg.ConnectTimeout, Version: Version})
	if err := n.startSocketIO(undo); err != nil {
		return err
	}
	return n.registerMetrics(metrics, undo)
}

// nodeName is cluster.node_name, or the host name.
func (n *Node) nodeName() string {
	if n.cfg.Cluster.NodeName != "" {
		return n.cfg.Cluster.NodeName
	}
	host, _ := os.Hostname()
	return host
}

// openStreams opens the disk store of channel streams, for
// history.store: disk; nil for memory.
func (n *Node) openStreams() (broker.StreamStore, error) {
	if n.cfg.History.Store != StoreDisk {
		return nil, nil
	}
	interval, err := n.cfg.History.fsyncInterval()
	if err != nil {
		return nil, err
	}
	d, err := store.Open(n.cfg.DataDir, store.Options{Fsync: interval})
	if err != nil {
		return nil, fmt.Errorf("herald: history.store disk: %w", err)
	}
	return d, nil
}

// verifier builds the JWT verifier from the token settings.
func (n *Node) verifier() (*auth.Verifier, error) {
	c := n.cfg
	if c.TokenSecret == "" && c.TokenRSAPublicKey == "" && c.TokenECDSAPublicKey == "" {
		if n.authenticate == nil && !c.AllowAnonymous {
			return nil, errors.New("herald: no way to let clients in: set token_secret (or token_rsa_public_key / token_ecdsa_public_key), allow_anonymous, or WithAuthenticator")
		}
		return nil, nil
	}
	v, err := auth.NewVerifier(auth.VerifierConfig{
		HMACSecret: c.TokenSecret, RSAPublicKeyFile: c.TokenRSAPublicKey,
		ECDSAPublicKeyFile: c.TokenECDSAPublicKey, Issuer: c.TokenIssuer, Audience: c.TokenAudience,
	})
	if err != nil {
		return nil, fmt.Errorf("herald: token settings: %w", err)
	}
	return v, nil
}

// startSocketIO starts the Socket.IO server on the node's core.
func (n *Node) startSocketIO(undo *unwind) error {
	if n.cfg.SocketIO.Disabled {
		return nil
	}
	p := sioboot.Params{Core: n.core, Config: n.cfg.SocketIO,
		MaxQueueBytes: n.cfg.Limits.MaxQueueBytes, PingInterval: n.cfg.Heartbeat.Interval,
		PongTimeout: n.cfg.Heartbeat.Timeout}
	if n.cfg.History.Store == StoreDisk {
		p.DataDir = n.cfg.DataDir // recovered sockets need the streams kept too
	}
	host, srv, err := sioboot.Start(p)
	if err != nil {
		return fmt.Errorf("herald: starting Socket.IO: %w", err)
	}
	undo.add(func() {
		_ = host.Shutdown(context.Background())
		host.Stop()
	})
	n.sioHost, n.sio = host, srv.(*socketio.Server)
	n.cfg.SocketIO = n.sio.Config()
	return nil
}

// SocketIO returns the node's Socket.IO server (nil when disabled), for
// registering handlers: OnConnect, OnEvent, BroadcastToRoom, …
func (n *Node) SocketIO() *socketio.Server { return n.sio }

// ID is this node's id; connection ids start with it.
func (n *Node) ID() string { return n.core.ID() }

// Config returns the configuration in effect, defaults filled in.
func (n *Node) Config() Config { return n.cfg }

// Shutdown first makes /readyz answer 503 and keeps serving as before
// (new connections included) for the shutdown delay, so that a load
// balancer can take the node out of rotation. Then it stops accepting
// connections (closing the listeners Serve was given), sends close 1001
// to every connection and waits for them, and for HTTP requests in
// flight, until ctx ends or the shutdown timeout passes, then drops what
// is left. It waits for the application's OnDisconnect calls too. ctx
// ending also ends the delay. The node's metrics leave its registry, so a
// new node can register its own.
func (n *Node) Shutdown(ctx context.Context) error {
	if !n.stopping.CompareAndSwap(false, true) {
		return nil
	}
	defer close(n.stopped)
	n.waitShutdownDelay(ctx)
	ctx, cancel := context.WithTimeout(ctx, n.cfg.ShutdownTimeout)
	defer cancel()
	httpDone := n.stopServing(ctx)
	n.core.BeginShutdown()
	n.engine.CloseAll(websocket.CloseGoingAway, "server shutting down")
	var errs []error
	if n.sioHost != nil {
		errs = append(errs, n.sioHost.Shutdown(ctx))
	}
	errs = append(errs, n.engine.Drain(ctx), n.core.WaitClosed(ctx), <-httpDone)
	close(n.stop)
	n.engine.Stop()
	if n.sioHost != nil {
		n.sioHost.Stop()
	}
	n.core.Stop()
	n.unregisterMetrics()
	if n.stopReducer != nil {
		n.stopReducer()
	}
	return errors.Join(errs...)
}

func newLogger(c LogConfig) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(strings.ToUpper(orDefault(c.Level, "info"))))
	opts := &slog.HandlerOptions{Level: level}
	if strings.EqualFold(c.Format, "json") {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
