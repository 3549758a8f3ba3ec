package herald

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/hub"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/poll"
	"github.com/heraldhq/herald/internal/transport/websocket"
	"github.com/heraldhq/herald/socketio"
	"github.com/prometheus/client_golang/prometheus"
)

// Node is one herald server: it accepts connections, keeps their
// subscriptions and delivers what is published to them.
type Node struct {
	cfg      Config
	log      *slog.Logger
	id       string
	hub      *hub.Hub
	broker   broker.Broker
	presence broker.PresenceManager
	engine   *websocket.Engine
	// stopReducer releases this node's hold on the idle-memory reducer.
	stopReducer func()
	// sioEngine holds Socket.IO's WebSocket connections; its message
	// limit is socketio.max_payload rather than limits.max_message_size.
	sioEngine    *websocket.Engine
	sio          *socketio.Server
	verifier     *auth.Verifier
	authenticate Authenticator
	hooks        Hooks
	registry     *prometheus.Registry
	metrics      *metrics
	started      time.Time

	// clientSeq numbers connections for their ids.
	clientSeq atomic.Uint64
	// conns counts open connections of every transport.
	conns atomic.Int64
	// closing is set once Shutdown starts.
	closing atomic.Bool
	// windingDown counts herald-protocol connections whose close has not
	// finished (unsubscribing, presence, OnDisconnect), so Shutdown can
	// wait for them: the transport forgets a connection before it reports
	// the close, and the close runs on a goroutine of its own.
	windingDown atomic.Int64
	// rates are per-second figures for /stats.
	rates rates
	// stop ends the node's background goroutines.
	stop chan struct{}
}

// ErrShuttingDown is returned for work refused because the node is
// shutting down.
var ErrShuttingDown = errors.New("herald: node is shutting down")

// New builds a node from cfg. It is ready to serve once New returns.
func New(cfg Config, opts ...Option) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg.withDefaults(), id: randomID(4), started: time.Now(), stop: make(chan struct{})}
	for _, opt := range opts {
		if err := opt(n); err != nil {
			return nil, err
		}
	}
	if n.log == nil {
		n.log = newLogger(n.cfg.Log)
	}
	if err := n.setupAuth(); err != nil {
		return nil, err
	}
	engine, err := websocket.NewEngine(websocket.Config{
		MaxMessageSize: n.cfg.Limits.MaxMessageSize,
		MaxQueueBytes:  n.cfg.Limits.MaxQueueBytes,
		PingInterval:   n.cfg.Heartbeat.Interval,
		PongTimeout:    n.cfg.Heartbeat.Timeout,
	})
	if err != nil {
		return nil, fmt.Errorf("herald: starting the WebSocket poller: %w", err)
	}
	n.engine = engine
	if n.sioEngine, err = websocket.NewEngine(websocket.Config{
		MaxMessageSize: n.cfg.SocketIO.MaxPayload,
		MaxQueueBytes:  n.cfg.Limits.MaxQueueBytes,
		PingInterval:   n.cfg.Heartbeat.Interval,
		PongTimeout:    n.cfg.Heartbeat.Timeout,
	}); err != nil {
		return nil, err
	}
	n.hub = hub.New()
	n.broker = broker.NewMemoryBroker(n.cfg.HistoryMetaTTL)
	n.presence = broker.NewMemoryPresence()
	if err := n.broker.Run(n); err != nil {
		return nil, err
	}
	if n.registry == nil {
		n.registry = prometheus.NewRegistry()
	}
	n.metrics = newMetrics(n, n.registry)
	n.setupSocketIO()
	go n.sampleRates(n.stop)
	if n.cfg.ReleaseIdleMemory {
		n.stopReducer = memory.Start(n.log)
	}
	return n, nil
}

// setupAuth builds the JWT verifier from the token settings.
func (n *Node) setupAuth() error {
	c := n.cfg
	if c.TokenSecret != "" || c.TokenRSAPublicKey != "" || c.TokenECDSAPublicKey != "" {
		v, err := auth.NewVerifier(auth.VerifierConfig{
			HMACSecret: c.TokenSecret, RSAPublicKeyFile: c.TokenRSAPublicKey,
			ECDSAPublicKeyFile: c.TokenECDSAPublicKey, Issuer: c.TokenIssuer, Audience: c.TokenAudience,
		})
		if err != nil {
			return fmt.Errorf("herald: token settings: %w", err)
		}
		n.verifier = v
	}
	if n.verifier == nil && n.authenticate == nil && !c.AllowAnonymous {
		return errors.New("herald: no way to let clients in: set token_secret (or token_rsa_public_key / token_ecdsa_public_key), allow_anonymous, or WithAuthenticator")
	}
	return nil
}

// ID is this node's id; connection ids start with it.
func (n *Node) ID() string { return n.id }

// Config returns the configuration in effect, defaults filled in.
func (n *Node) Config() Config { return n.cfg }

// Shutdown stops accepting connections, sends close 1001 to every
// connection and waits for them to close until ctx ends or the configured
// shutdown timeout passes, then drops what is left.
func (n *Node) Shutdown(ctx context.Context) error {
	if !n.closing.CompareAndSwap(false, true) {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, n.cfg.ShutdownTimeout)
	defer cancel()
	n.engine.CloseAll(websocket.CloseGoingAway, "server shutting down")
	if n.sio != nil {
		n.sio.Shutdown(ctx)
	}
	err := errors.Join(n.engine.Drain(ctx), n.sioEngine.Drain(ctx))
	if werr := n.waitWoundDown(ctx); err == nil {
		err = werr
	}
	close(n.stop)
	n.engine.Stop()
	n.sioEngine.Stop()
	n.hub.Close()
	_ = n.broker.Close()
	if n.stopReducer != nil {
		n.stopReducer()
	}
	return err
}

// waitWoundDown waits until every herald-protocol connection has finished
// closing, OnDisconnect included, or ctx is done.
func (n *Node) waitWoundDown(ctx context.Context) error {
	return poll.Until(ctx, 5*time.Millisecond, func() bool { return n.windingDown.Load() == 0 })
}

// nextClientID returns a connection id unique in the cluster.
func (n *Node) nextClientID() string {
	return n.id + "-" + strconv.FormatUint(n.clientSeq.Add(1), 36)
}

func randomID(bytes int) string {
	b := make([]byte, bytes)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
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
