package socketio

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald/internal/core"
	"github.com/heraldhq/herald/internal/poll"
	"github.com/heraldhq/herald/internal/transport/engineio"
	"github.com/heraldhq/herald/internal/transport/websocket"
)

// Server is a Socket.IO server on a herald node. Get it from
// herald.Node.SocketIO; it serves /socket.io/ on the node's listener.
type Server struct {
	cfg     Config
	core    *core.Core
	dynamic *regexp.Regexp
	eio     *engineio.Server
	// ws carries the Socket.IO WebSocket connections; its message limit is
	// MaxPayload rather than the node's limits.max_message_size.
	ws *websocket.Engine

	mu   sync.RWMutex
	nsps map[string]*Namespace
	// open counts connections between OnOpen and OnClose.
	open atomic.Int64

	// recovery keeps sockets whose transport dropped, by private id.
	recovery recoveryStore
	// handovers are the CONNECTs waiting on the cluster (handover.go),
	// and fetches their namespaces by connection.
	handovers chan struct{}
	fetches   fetches
	// fwd forwards requests for sessions other nodes hold.
	fwd *forwarder
	// sessions are the sockets saved for their clients: across a restart
	// (data_dir), or to another node (handover.go).
	sessions sessionStore
	// offsets numbers events for recovery (see number).
	offsets atomic.Uint64
	// closing is set once Shutdown starts: sockets are then closed for
	// good, not kept for recovery.
	closing atomic.Bool
	// closers counts goroutines at work for sockets: winding down closed
	// connections, and running handlers; Shutdown waits for them.
	closers      atomic.Int64
	dynamicCount atomic.Int64 // dynamic namespaces created
	done         chan struct{}
	stopOnce     sync.Once
}

// maxDynamicNamespaces bounds the namespaces clients can create through
// the dynamic pattern.
const maxDynamicNamespaces = 10000

// newServer builds the server of a node (see internal/sioboot).
func newServer(c *core.Core, cfg Config, ws *websocket.Engine, dataDir string) (*Server, error) {
	s := &Server{cfg: cfg.withDefaults(), core: c, ws: ws, nsps: map[string]*Namespace{}, done: make(chan struct{})}
	if s.cfg.DynamicNamespaces != "" {
		re, err := regexp.Compile(s.cfg.DynamicNamespaces)
		if err != nil {
			return nil, fmt.Errorf("socketio.dynamic_namespaces: %w", err)
		}
		s.dynamic = re
	}
	s.recovery.init()
	s.handovers = make(chan struct{}, maxHandovers)
	s.fwd = newForwarder(c)
	if err := s.loadSessions(dataDir); err != nil {
		return nil, fmt.Errorf("socket.io: sockets saved in data_dir: %w", err)
	}
	s.nsps["/"] = newNamespace(s, "/")
	for _, name := range s.cfg.Namespaces {
		s.nsps[name] = newNamespace(s, name)
	}
	s.eio = engineio.NewServer(s.transportConfig(), ws, engineHandler{s})
	s.handleClusterOps()
	go s.expireLoop()
	return s, nil
}

// Config returns the configuration in effect, defaults filled in.
func (s *Server) Config() Config { return s.cfg }

// Len is the number of open Engine.IO connections.
func (s *Server) Len() int { return s.eio.Len() }

// shutdown closes every connection ("server shutting down"), waits for
// their sockets to wind down (OnDisconnect included) until ctx is done,
// and stops the server's timers.
func (s *Server) shutdown(ctx context.Context) {
	s.stopOnce.Do(func() {
		s.closing.Store(true)
		s.eio.CloseAll("server shutting down")
		s.fwd.close()
		s.eio.Stop()
		s.waitClosed(ctx)
		for _, so := range s.recovery.all() {
			so.close("server shutting down")
		}
		s.writeSessions(ctx)
		close(s.sessions.written)
		close(s.done)
	})
}

// waitClosed waits until every connection has reported its close and
// its sockets have wound down, or ctx is done. (Closes are reported
// asynchronously, so a WaitGroup could be added to while it is waited on.)
func (s *Server) waitClosed(ctx context.Context) {
	_ = poll.Until(ctx, 5*time.Millisecond, func() bool { return s.open.Load() == 0 && s.closers.Load() == 0 })
}

// Of returns namespace name, creating it if needed. Names start with "/".
func (s *Server) Of(name string) *Namespace {
	if name == "" || name[0] != '/' {
		panic(fmt.Sprintf("socketio: namespace %q must start with /", name))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.nsps[name]
	if n == nil {
		n = newNamespace(s, name)
		s.nsps[name] = n
	}
	return n
}

// namespace finds the namespace a client asks for: declared, or admitted
// by the dynamic pattern (and then created).
func (s *Server) namespace(name string) *Namespace {
	if n := s.existing(name); n != nil {
		return n
	}
	if s.dynamic != nil && s.dynamic.MatchString(name) && s.dynamicCount.Add(1) <= maxDynamicNamespaces {
		return s.Of(name)
	}
	return nil
}

// existing returns namespace name if it exists.
func (s *Server) existing(name string) *Namespace {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.nsps[name]
}

// namespaces lists every namespace.
func (s *Server) namespaces() []*Namespace {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*Namespace, 0, len(s.nsps))
	for _, n := range s.nsps {
		out = append(out, n)
	}
	return out
}

// OnConnect sets what runs when a socket has connected to nsp (after the
// middlewares let it in). Returning an error disconnects the socket.
func (s *Server) OnConnect(nsp string, f func(*Socket) error) {
	n := s.Of(nsp)
	n.mu.Lock()
	n.onConnect = f
	n.mu.Unlock()
}

// OnDisconnect sets what runs when a socket of nsp disconnects; reason is
// the reference server's ("client namespace disconnect", "transport
// close", "ping timeout", …).
func (s *Server) OnDisconnect(nsp string, f func(*Socket, string)) {
	n := s.Of(nsp)
	n.mu.Lock()
	n.onDisconnect = f
	n.mu.Unlock()
}

// OnError sets what runs when a socket of nsp hits an error: a handler
// that failed or panicked, arguments that did not fit a handler.
func (s *Server) OnError(nsp string, f func(*Socket, error)) {
	n := s.Of(nsp)
	n.mu.Lock()
	n.onError = f
	n.mu.Unlock()
}

// Use adds a connection middleware to nsp: middlewares run in order
// before a socket is connected, and an error refuses it with a
// CONNECT_ERROR carrying the error's message (and Data, for a
// *ConnectError).
func (s *Server) Use(nsp string, f func(*Socket) error) {
	n := s.Of(nsp)
	n.mu.Lock()
	n.middlewares = append(n.middlewares, f)
	n.mu.Unlock()
}

// OnEvent sets the handler of event on nsp. f is a func whose first
// parameter is *Socket and whose other parameters receive the event's
// arguments, decoded from JSON ([]byte parameters receive binary
// arguments; a final variadic ...json.RawMessage or ...any receives the
// rest). Its results are sent as the acknowledgement when the client asked
// for one. OnEvent panics when f has another shape.
func (s *Server) OnEvent(nsp, event string, f any) {
	h, err := newEventHandler(f)
	if err != nil {
		panic(fmt.Sprintf("socketio: OnEvent(%q, %q): %v", nsp, event, err))
	}
	n := s.Of(nsp)
	n.mu.Lock()
	n.events[event] = h
	n.mu.Unlock()
}

// ConnectError refuses a connection with a message and data for the
// client (CONNECT_ERROR {"message":…,"data":…}).
type ConnectError struct {
	Message string
	Data    any
}

func (e *ConnectError) Error() string { return e.Message }

// connectErrorOf turns any refusal into the payload the client gets.
func connectErrorOf(err error) *ConnectError {
	var ce *ConnectError
	if errors.As(err, &ce) {
		return ce
	}
	return &ConnectError{Message: err.Error()}
}
