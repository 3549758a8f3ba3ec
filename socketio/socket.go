package socketio

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/transport/engineio"
	"golang.org/x/time/rate"
)

// socket states; a socket only moves forward, except that a recoverable
// socket goes back to connected when its client comes back in time.
const (
	socketConnecting    int32 = iota // middlewares and hooks still deciding
	socketConnected                  // serving
	socketDisconnecting              // Disconnect called; its packet is on the way
	socketRecoverable                // transport gone; kept for RecoveryWindow
	socketClosed                     // gone for good
)

// Socket is one client connected to one namespace.
type Socket struct {
	srv *Server
	nsp *Namespace
	id  string
	// pid is the private id a client presents to recover the socket.
	pid string
	// info says who the socket is: its id, user and public info. The hub
	// and presence are handed &info, which lives as long as the socket.
	info broker.ClientInfo
	// channels is the token's channel claim; nil allows any.
	channels []string
	// expires is when the token expires (unix nanoseconds); 0 is never.
	expires int64
	// req is the request the connection started with; auth the CONNECT
	// packet's payload.
	req  *engineio.Request
	auth json.RawMessage
	// recovered is true when the socket came back after a dropped transport.
	recovered atomic.Bool

	state atomic.Int32

	mu sync.Mutex
	// rooms are the rooms joined, besides the socket's own id room.
	rooms roomSet
	// data is what SetContext stored.
	data any
	// acks waits for acknowledgements of emits, by id.
	acks map[uint64]chan ackReply
	// nextAck numbers emits that wait for an acknowledgement; strikes
	// counts events the rate limit refused in a row. (Side by side, 32
	// bits each: the struct is one per client.)
	nextAck uint32
	strikes int32
	// tasks are events waiting for the socket's handler goroutine;
	// running is true while that goroutine exists.
	tasks   []func()
	running bool
	// disconnectedAt is when a recoverable socket lost its transport
	// (unix nanoseconds).
	disconnectedAt int64
	// expiry disconnects the socket when its token expires.
	expiry *time.Timer
	// limiter bounds the events the client may send.
	limiter *rate.Limiter

	// roomMu serializes joining and leaving with each other and with
	// close, across the hub calls they make (which s.mu must not span:
	// fan-out takes s.mu while holding hub locks).
	roomMu sync.Mutex

	// out is where what the socket is sent goes: its connection, and the
	// recovery log (whose order is the hub's single fan-out goroutine's).
	out outbox
}

// ID is the socket's public id, also the name of its own room.
func (s *Socket) ID() string { return s.id }

// Namespace is the namespace's name.
func (s *Socket) Namespace() string { return s.nsp.name }

// User is the authenticated user; empty for anonymous sockets.
func (s *Socket) User() string { return s.info.User }

// Recovered reports whether the socket was restored after its transport
// dropped, with its id, rooms and missed events.
func (s *Socket) Recovered() bool { return s.recovered.Load() }

// Connected reports whether the socket is serving.
func (s *Socket) Connected() bool { return s.state.Load() == socketConnected }

// Context returns what SetContext stored.
func (s *Socket) Context() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data
}

// SetContext stores v with the socket; it survives recovery.
func (s *Socket) SetContext(v any) {
	s.mu.Lock()
	s.data = v
	s.mu.Unlock()
}

// RemoteAddr is the client's address.
func (s *Socket) RemoteAddr() string { return s.req.RemoteAddr() }

// RemoteHeader is the header of the connection's first request (less the
// WebSocket handshake's own: Connection, Upgrade, Sec-WebSocket-*), a new
// map on every call.
func (s *Socket) RemoteHeader() http.Header { return s.req.Header() }

// URL is the URL of the connection's first request.
func (s *Socket) URL() url.URL { return s.req.URL() }

// clientInfo is a copy of info for a publication, which history may keep
// long after the socket is gone.
func (s *Socket) clientInfo() *broker.ClientInfo {
	info := s.info
	return &info
}

// identity is who the socket is, as the backend's policy checks take it.
func (s *Socket) identity() Identity {
	id := Identity{User: s.info.User, Channels: s.channels, Info: s.info.Info}
	if s.expires != 0 {
		id.ExpiresAt = time.Unix(0, s.expires)
	}
	return id
}

// Auth is the auth payload the client sent with CONNECT (JSON; "{}" when
// none).
func (s *Socket) Auth() json.RawMessage { return s.auth }

// Rooms lists the rooms the socket is in, its own id room first.
func (s *Socket) Rooms() []string {
	s.mu.Lock()
	out := s.rooms.all()
	s.mu.Unlock()
	sort.Strings(out)
	return append([]string{s.id}, out...)
}

// inRoom reports whether the socket is in room (its id room included).
func (s *Socket) inRoom(room string) bool {
	if room == s.id {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rooms.has(room)
}
