package core

import (
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/hub"
	"github.com/heraldhq/herald/internal/protocol/record"
	"golang.org/x/time/rate"
)

// Session is a connection as the core sees it: the protocol adapter that
// owns the Client. Its methods are called without the client's lock held.
type Session interface {
	hub.Subscriber
	// Client is the session's core state.
	Client() *Client
	// RemoteAddr is the peer's address, for the hooks.
	RemoteAddr() string
	// Disconnect ends the connection for the server (the HTTP API, the Go
	// API, an expired token), telling the client code and reason where
	// the protocol has a place for them.
	Disconnect(code int, reason string)
	// Unsubscribed tells the client the server took it off ch.
	Unsubscribed(ch, reason string)
}

// Transport names a protocol in hooks and metrics.
type Transport uint8

// Transports.
const (
	TransportWebSocket Transport = iota // herald's JSON protocol
	TransportSocketIO
)

func (t Transport) String() string {
	if t == TransportSocketIO {
		return "socketio"
	}
	return "websocket"
}

// client states; a client only moves forward.
const (
	stateConnecting int32 = iota // not let in yet
	stateConnected               // serving
	stateClosed                  // ended
)

// Client is one connection's core state: who it is, what it is subscribed
// to and how fast it may go. The adapter embeds it in its own
// per-connection struct (one allocation per connection) and calls Init
// before anything else. A Client is also the connection's context (see
// Context): cancelled when the connection ends.
type Client struct {
	core    *Core
	session Session
	// info is who the client is; presence, join/leave notices and the
	// hub are handed &info, which lives as long as the client.
	info record.ClientInfo
	// claim is the credentials' channel claim; nil allows any channel.
	claim []string
	// expires is when the credentials expire (unix nanoseconds); 0 never.
	expires int64
	// channels is what the client is subscribed to; replaced under mu,
	// read without it.
	channels atomic.Pointer[chanSet]
	// ctx is the context's state, made on first use (see context.go).
	ctx atomic.Pointer[cancelState]
	// flags: flagEnded once the context is cancelled, flagHolding while
	// the client resumes a channel (see Holds).
	flags atomic.Uint32
	// state is where the client is in its life; changed under mu.
	state atomic.Int32
	// strikes counts commands the rate limit refused in a row.
	strikes atomic.Int32
	// transport is the client's protocol; detached is set while a
	// Socket.IO socket waits for its client to come back (its
	// OnDisconnect has run).
	transport Transport
	detached  bool

	// mu serializes what changes the client: connecting, subscribing,
	// unsubscribing and closing, across the hub and broker calls they
	// make. Fan-out never takes it.
	mu sync.Mutex
	// limiter enforces the command rate, made on first command. It is
	// not under mu: Socket.IO checks it on the poller, which must never
	// wait for a hook.
	limiter atomic.Pointer[rate.Limiter]
	// expiry ends the connection when its credentials expire.
	expiry *time.Timer
}

// Client flags.
const (
	flagEnded uint32 = 1 << iota
	flagHolding
)

// Init binds the client to its core and session, with its id. It must be
// called before the session is seen by anyone else.
func (cl *Client) Init(c *Core, s Session, id string, t Transport) {
	cl.core, cl.session, cl.transport = c, s, t
	cl.info.Client = id
	c.live.Add(1)
}

// ID is the connection's id.
func (cl *Client) ID() string { return cl.info.Client }

// User is the authenticated user; empty while anonymous or not yet in.
func (cl *Client) User() string { return cl.info.User }

// Connected reports whether the client has been let in and not closed.
func (cl *Client) Connected() bool { return cl.state.Load() == stateConnected }

// Closed reports whether the client has ended.
func (cl *Client) Closed() bool { return cl.state.Load() == stateClosed }

// ExpiresAt is when the credentials expire; zero is never.
func (cl *Client) ExpiresAt() time.Time {
	if cl.expires == 0 {
		return time.Time{}
	}
	return time.Unix(0, cl.expires)
}

// Expired reports whether the credentials have expired.
func (cl *Client) Expired() bool {
	return cl.expires != 0 && time.Now().UnixNano() >= cl.expires
}

// Subscribed reports whether the client is subscribed to ch.
func (cl *Client) Subscribed(ch string) bool {
	if s := cl.channels.Load(); s != nil {
		return s.has(ch)
	}
	return false
}

// Channels lists the channels the client is subscribed to, sorted; the
// slice is shared and must not be changed.
func (cl *Client) Channels() []string {
	if s := cl.channels.Load(); s != nil {
		return *s
	}
	return nil
}

// NumChannels is how many channels the client is subscribed to.
func (cl *Client) NumChannels() int { return len(cl.Channels()) }

// setChannels replaces the channel set; cl.mu held.
func (cl *Client) setChannels(s chanSet) {
	if s == nil {
		cl.channels.Store(nil)
		return
	}
	cl.channels.Store(&s)
}

func (cl *Client) allowsChannel(ch string) bool {
	return auth.Credentials{Channels: cl.claim}.AllowsChannel(ch)
}

// publisherInfo is a copy of the client's info for a publication, which
// history may keep long after the client is gone.
func (cl *Client) publisherInfo() *record.ClientInfo {
	info := cl.info
	return &info
}

// identify makes the client be creds' user; cl.mu held.
func (cl *Client) identify(creds auth.Credentials) {
	cl.info.User, cl.info.Info, cl.claim = creds.User, json.RawMessage(creds.Info), creds.Channels
	cl.expires = 0
	if !creds.ExpiresAt.IsZero() {
		cl.expires = creds.ExpiresAt.UnixNano()
	}
}

// AllowCommand takes a token from the client's command rate. When it
// refuses, tooMany reports whether the refusals in a row have reached
// the burst, which ends the connection (1008).
func (cl *Client) AllowCommand() (ok, tooMany bool) {
	l := cl.core.cfg.Limits
	lim := cl.limiter.Load()
	if lim == nil {
		cl.limiter.CompareAndSwap(nil, rate.NewLimiter(rate.Limit(l.CommandRate), l.CommandBurst))
		lim = cl.limiter.Load()
	}
	if lim.Allow() {
		cl.strikes.Store(0)
		return true, false
	}
	cl.core.metrics.RateLimited.Inc()
	return false, int(cl.strikes.Add(1)) >= l.CommandBurst
}
