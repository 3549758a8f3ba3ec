package socketio

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/heraldhq/herald/internal/core"
	"github.com/heraldhq/herald/internal/transport/engineio"
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
	// client is the socket's core state: its id, who it is, the channels
	// its rooms map to, its event rate.
	client core.Client
	srv    *Server
	nsp    *Namespace
	// pid is the private id a client presents to recover the socket.
	pid string
	// req is the request the connection started with; auth the CONNECT
	// packet's payload.
	req  *engineio.Request
	auth json.RawMessage
	// recovered is true when the socket came back after a dropped transport.
	recovered atomic.Bool

	state atomic.Int32

	mu sync.Mutex
	// data is what SetContext stored.
	data any
	// acks waits for acknowledgements of emits, by id.
	acks map[uint64]chan ackReply
	// nextAck numbers emits that wait for an acknowledgement.
	nextAck uint32
	// running is true while the handler goroutine exists; tasks are the
	// events waiting for it.
	running bool
	// pinned keeps the log whole while a client recovers (see
	// pinLogAfter); guarded by out.mu, kept here where it costs no space.
	pinned bool
	tasks  []func()
	// disconnectedAt is when a recoverable socket lost its transport
	// (unix nanoseconds).
	disconnectedAt int64

	// out is where what the socket is sent goes: its connection, and the
	// recovery log (whose order is the hub's single fan-out goroutine's).
	out outbox
}

// ID is the socket's public id, also the name of its own room.
func (s *Socket) ID() string { return s.client.ID() }

// Namespace is the namespace's name.
func (s *Socket) Namespace() string { return s.nsp.name }

// User is the authenticated user; empty for anonymous sockets.
func (s *Socket) User() string { return s.client.User() }

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

// Auth is the auth payload the client sent with CONNECT (JSON; "{}" when
// none).
func (s *Socket) Auth() json.RawMessage { return s.auth }

// Rooms lists the rooms the socket is in, its own id room first.
func (s *Socket) Rooms() []string {
	chs := s.client.Channels()
	out := make([]string, 0, 1+len(chs))
	for _, ch := range chs {
		if room, ok := channelRoom(s.nsp.prefix, ch); ok {
			out = append(out, room)
		}
	}
	sort.Strings(out)
	return append([]string{s.ID()}, out...)
}

// inRoom reports whether the socket is in room (its id room included).
func (s *Socket) inRoom(room string) bool {
	if room == s.ID() {
		return true
	}
	ch, err := roomChannel(s.nsp.prefix, room)
	return err == nil && s.client.Subscribed(ch)
}
