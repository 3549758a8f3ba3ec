package client

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Options configure a Client. Only URL is required.
type Options struct {
	// URL is the server's WebSocket endpoint, ws://HOST/ws or wss://HOST/ws.
	URL string
	// URLs are more endpoints of the same cluster. Dial tries URL, then
	// each of them in turn, until one connects; a reconnect starts from
	// the endpoint that last worked and moves to the next when it cannot
	// connect, so the clients of a node that died reach another one and
	// resume there from the shared streams.
	URLs []string
	// Token is the JWT sent in the connect command; "" connects
	// anonymously (when the server allows it).
	Token string
	// TokenFunc, if set, is called for a fresh token on every connect, the
	// first and each reconnect, once the WebSocket upgrade succeeded; it
	// wins over Token. A reconnect whose TokenFunc fails is retried after
	// the next backoff.
	TokenFunc func(ctx context.Context) (string, error)
	// Header holds extra handshake headers (Origin, Cookie, ...).
	Header http.Header
	// Dialer dials the WebSocket. nil means DefaultDialer's settings: a
	// 10s handshake timeout, small read buffers and a shared write buffer
	// pool. A custom Dialer (to bind source addresses, say) should set
	// those too when many connections are opened.
	Dialer *websocket.Dialer
	// Reconnect makes the client reconnect after a dropped connection,
	// with exponential backoff and jitter, and resubscribe every channel.
	Reconnect bool
	// MinBackoff and MaxBackoff bound the wait before a reconnect attempt;
	// zero means 200ms and 10s.
	MinBackoff, MaxBackoff time.Duration
	// ReadTimeout is how long the connection may stay silent before it is
	// taken for dead (a half-open TCP connection never reports an error)
	// and dropped, reconnecting when Reconnect is set. herald pings a
	// silent connection every heartbeat interval (25s by default), so a
	// live one is never silent that long. Zero means 60s.
	ReadTimeout time.Duration

	// The callbacks below run on the client's reading goroutine, one at a
	// time, in the order the messages arrived; see the package doc.

	// OnPublication receives publications of subscribed channels.
	OnPublication func(Publication)
	// OnPush receives pushes addressed to this connection's user.
	OnPush func(Push)
	// OnJoin and OnLeave report subscribers coming and going, on channels
	// whose policy has join_leave (a connection sees its own join).
	OnJoin, OnLeave func(channel string, who ClientInfo)
	// OnUnsubscribe reports that the server removed this connection from
	// channel, or refused to subscribe it again after a reconnect.
	OnUnsubscribe func(channel, reason string)
	// OnResume reports how each channel's stream went on after a
	// reconnect: once per channel subscribed again, after OnConnect and
	// before the channel's replayed publications. It also reports a Gap:
	// a publication arriving after ones never delivered. See Resume.
	OnResume func(channel string, r Resume)
	// OnConnect is called after each successful connect: once after Dial,
	// and after each reconnect once its channels are subscribed again. It
	// precedes every other callback about the new connection.
	OnConnect func(ConnectInfo)
	// OnDisconnect is called when a connection ends, with its close code
	// (1006 when it dropped without one) and whether the client will try
	// to reconnect. It is called with willReconnect false once more if a
	// reconnect attempt is refused for good (close 4001, 4003 or 4005).
	OnDisconnect func(code int, reason string, willReconnect bool)
}

// Timing of the connection's life.
const (
	defaultMinBackoff = 200 * time.Millisecond
	defaultMaxBackoff = 10 * time.Second
	// handshakeTimeout bounds the upgrade and each command exchange made
	// while connecting.
	handshakeTimeout = 10 * time.Second
	// writeTimeout bounds one write, so a stuck peer cannot hold a caller
	// (and every caller behind it) forever.
	writeTimeout = 10 * time.Second
	// closeTimeout is how long Close waits for the server to answer its
	// close frame, and how long a refused connect is read for its close code.
	closeTimeout = 2 * time.Second
)

func (o Options) withDefaults() Options {
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = 60 * time.Second
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = defaultMinBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = defaultMaxBackoff
	}
	o.MaxBackoff = max(o.MaxBackoff, o.MinBackoff)
	if o.Dialer == nil {
		o.Dialer = defaultDialer
	}
	return o
}

// writeBuffers is shared by every connection of the default dialer, so an
// idle connection holds no write buffer.
var writeBuffers = &sync.Pool{}

// defaultDialer is shared: a Dialer is safe for concurrent use.
var defaultDialer = DefaultDialer()

// DefaultDialer returns a new Dialer with the settings the client uses
// when Options.Dialer is nil, to adjust (NetDialContext, TLSClientConfig)
// and pass as Options.Dialer.
func DefaultDialer() *websocket.Dialer {
	return &websocket.Dialer{
		Proxy:            http.ProxyFromEnvironment,
		HandshakeTimeout: handshakeTimeout,
		// Herald's messages are small; the read buffer lives as long as
		// the connection, so keep it small for thousands of them. Larger
		// messages still read fine.
		ReadBufferSize:  1024,
		WriteBufferSize: 4096,
		WriteBufferPool: writeBuffers,
	}
}
