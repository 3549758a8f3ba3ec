package engineio

import (
	"net/http"
	"time"

	"github.com/heraldhq/herald/internal/backlog"
)

// Config tunes a Server. Zero values mean the defaults named on each field,
// which are the reference server's defaults.
type Config struct {
	// PingInterval is how often the server sends a ping packet; it is sent
	// to clients in the open packet. Zero means 25s.
	PingInterval time.Duration
	// PingTimeout is how long a ping may go unanswered before the session
	// closes with "ping timeout"; sent in the open packet. Zero means 20s.
	PingTimeout time.Duration
	// MaxPayload is the largest POST body accepted, in bytes; larger ones
	// are answered 413 and close the session. It is advertised to clients
	// as maxPayload so they batch below it. Zero means 1,000,000.
	MaxPayload int
	// UpgradeTimeout is how long a WebSocket opened to upgrade a polling
	// session may take to send the upgrade packet ("5") before it is
	// closed; the session stays on polling. Zero means 10s.
	UpgradeTimeout time.Duration
	// MaxBufferedBytes bounds a polling session's queued outbound payload;
	// past it the session closes as a slow consumer. Zero means 1 MiB.
	MaxBufferedBytes int
	// AllowedOrigins lists the origins whose polling requests get CORS
	// headers (the request's Origin echoed back). "*" allows any origin.
	// Empty allows only pages served from the same host as the request.
	AllowedOrigins []string
	// CheckOrigin, when set, decides instead of AllowedOrigins which
	// origins get CORS headers, so a server embedding this package can
	// apply one origin policy to every endpoint.
	CheckOrigin func(r *http.Request) bool
	// AllowCredentials adds Access-Control-Allow-Credentials: true, needed
	// by clients created with withCredentials.
	AllowCredentials bool
	// Admit, when set, is asked about every handshake (a request creating a
	// new session, polling or WebSocket). A zero (or 200) status admits; any
	// other status refuses the request with that status and a JSON body
	// {"code":4,"message":msg} ("Forbidden" when msg is empty), the way the
	// reference answers an allowRequest refusal.
	Admit func(r *http.Request) (status int, msg string)
	// SIDPrefix starts every session id this server makes: in a cluster,
	// the node's id, so that any node can tell which one holds a session.
	SIDPrefix string
	// Elsewhere, when set, is asked about a request naming a session this
	// server does not hold: a non-nil handler serves it (forwarding it to
	// the node that holds it); nil answers "Session ID unknown". It is
	// asked before CORS is applied, so the handler answers in full.
	Elsewhere func(r *http.Request, sid string) http.Handler
	// Backlog, when set, counts the bytes polling sessions hold for their
	// clients' next GET: part of the node's fan-out backlog. (WebSocket
	// sessions are counted by their websocket engine's Backlog.)
	Backlog *backlog.Meter
}

// Defaults, as in the reference (engine.io lib/server.ts BaseServer).
const (
	defaultPingInterval     = 25 * time.Second
	defaultPingTimeout      = 20 * time.Second
	defaultMaxPayload       = 1_000_000
	defaultUpgradeTimeout   = 10 * time.Second
	defaultMaxBufferedBytes = 1 << 20
	// pollCloseTimeout is how long a server-initiated close of a polling
	// session waits for the client's next GET to deliver the close packet
	// (the reference Polling transport's closeTimeout).
	pollCloseTimeout = 30 * time.Second
)

func (c Config) withDefaults() Config {
	if c.PingInterval <= 0 {
		c.PingInterval = defaultPingInterval
	}
	if c.PingTimeout <= 0 {
		c.PingTimeout = defaultPingTimeout
	}
	if c.MaxPayload <= 0 {
		c.MaxPayload = defaultMaxPayload
	}
	if c.UpgradeTimeout <= 0 {
		c.UpgradeTimeout = defaultUpgradeTimeout
	}
	if c.MaxBufferedBytes <= 0 {
		c.MaxBufferedBytes = defaultMaxBufferedBytes
	}
	return c
}
