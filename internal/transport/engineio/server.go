package engineio

import (
	"net/http"
	"strings"
	"sync"
	"time"

	eio "github.com/heraldhq/herald/internal/protocol/eioproto"
	"github.com/heraldhq/herald/internal/transport/websocket"
)

// Handler receives a session's life. Calls for one session never overlap
// (OnClose included), though different sessions are served concurrently.
// Calls may come from an HTTP goroutine or the WebSocket poller, so they
// must not block for long.
type Handler interface {
	// OnOpen is called once the handshake is done, before any OnMessage;
	// it may send.
	OnOpen(s *Session)
	// OnMessage is called for each "message" packet the client sends, in
	// order. data is only valid during the call.
	OnMessage(s *Session, data []byte, binary bool)
	// OnClose is called once, after OnOpen, when the session is gone. The
	// reasons are the reference's: "transport close", "transport error",
	// "ping timeout", "parse error", or the reason given to Session.Close
	// or Server.CloseAll (e.g. "forced close", "server shutting down").
	OnClose(s *Session, reason string)
}

// Server serves Engine.IO v4 sessions over HTTP long-polling and
// WebSocket. Mount it at the Engine.IO path (/socket.io/ for Socket.IO).
type Server struct {
	cfg      Config
	ws       *websocket.Engine
	h        Handler
	sessions registry
	// epoch anchors now(): monotonic time, so a wall-clock jump cannot
	// expire every session at once.
	epoch time.Time
	// tick is the heartbeat scan period.
	tick time.Duration
	// closeTimeout bounds how long a server-closed polling session waits
	// for a GET to carry its close packet; a field so tests can shorten it.
	closeTimeout time.Duration
	// stats count transport failures.
	stats Stats

	done     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

// NewServer returns a Server and starts its heartbeat goroutine. ws serves
// the WebSocket transport; its MaxMessageSize bounds client messages and
// should equal cfg.MaxPayload, and its MaxQueueBytes bounds a WebSocket
// session's unsent bytes and should equal cfg.MaxBufferedBytes. A nil ws
// serves polling only (no upgrades advertised, transport=websocket
// refused as unknown). Call Stop when done.
func NewServer(cfg Config, ws *websocket.Engine, h Handler) *Server {
	cfg = cfg.withDefaults()
	srv := &Server{
		cfg:          cfg,
		ws:           ws,
		h:            h,
		epoch:        time.Now(),
		closeTimeout: pollCloseTimeout,
		done:         make(chan struct{}),
	}
	srv.tick = scanPeriod(cfg)
	srv.sessions.init()
	srv.wg.Add(1)
	go srv.heartbeat()
	return srv
}

// Len is the number of sessions, including those still closing.
func (srv *Server) Len() int { return srv.sessions.len() }

// CloseAll closes every session at once with reason, as the reference's
// server.close() does: WebSocket sessions get close code 1001 (going
// away), a pending polling GET gets a close packet, and no session waits
// for a client's next request.
func (srv *Server) CloseAll(reason string) {
	for _, s := range srv.sessions.snapshot() {
		s.finish(reason, eio.Close, websocket.CloseGoingAway)
	}
}

// Stop stops the heartbeat goroutine and closes any remaining session with
// "server shutting down", so no polling GET stays parked. It is safe to
// call more than once.
func (srv *Server) Stop() {
	srv.stopOnce.Do(func() {
		close(srv.done)
		srv.wg.Wait()
	})
	srv.CloseAll(ReasonShutdown)
}

// now is monotonic nanoseconds since the server started.
func (srv *Server) now() int64 { return int64(time.Since(srv.epoch)) }

// ServeHTTP routes one Engine.IO request: handshakes, polling GETs and
// POSTs, WebSocket handshakes and upgrades. Refusals follow the reference
// (engine.io lib/server.ts verify and handshake) check by check.
func (srv *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	sid := q.Get("sid")
	var s *Session
	if sid != "" {
		if s = srv.sessions.get(sid); s == nil && srv.cfg.Elsewhere != nil {
			if h := srv.cfg.Elsewhere(r, sid); h != nil {
				h.ServeHTTP(w, r) // another node holds it
				return
			}
		}
	}
	upgrade := isUpgrade(r)
	if !upgrade {
		// The reference applies CORS as a middleware, before verify, so
		// refusals carry the headers too and a browser can read them.
		srv.cors(w, r)
		if r.Method == http.MethodOptions {
			srv.preflight(w, r)
			return
		}
	}
	transport := q.Get("transport")
	if len(q["transport"]) != 1 || !(transport == "polling" || transport == "websocket" && srv.ws != nil) {
		srv.refuse(w, upgrade, eio.ErrorUnknownTransport, 0, "")
		return
	}
	if !validHeaderValue(r.Header.Get("Origin")) {
		srv.refuse(w, upgrade, eio.ErrorBadRequest, 0, "")
		return
	}
	if sid != "" {
		srv.serveSession(w, r, s, transport, upgrade)
		return
	}
	if r.Method != http.MethodGet {
		srv.refuse(w, upgrade, eio.ErrorBadHandshakeMethod, 0, "")
		return
	}
	if (transport == "websocket") != upgrade {
		// A WebSocket handshake must be an upgrade; polling never is.
		srv.refuse(w, upgrade, eio.ErrorBadRequest, 0, "")
		return
	}
	if srv.cfg.Admit != nil {
		if status, msg := srv.cfg.Admit(r); status != 0 && status != http.StatusOK {
			srv.refuse(w, upgrade, eio.ErrorForbidden, status, msg)
			return
		}
	}
	if q.Get("EIO") != "4" {
		// The reference treats anything but "4" as protocol 3, which it
		// refuses unless allowEIO3 is set.
		srv.refuse(w, upgrade, eio.ErrorUnsupportedProtocolVersion, 0, "")
		return
	}
	if upgrade {
		srv.handshakeWS(w, r)
		return
	}
	srv.handshakePolling(w, r)
}

// serveSession routes a request for an existing session, s (nil when
// no session has the request's sid).
func (srv *Server) serveSession(w http.ResponseWriter, r *http.Request, s *Session, transport string, upgrade bool) {
	if s == nil {
		srv.refuse(w, upgrade, eio.ErrorUnknownSID, 0, "")
		return
	}
	if upgrade {
		if transport != "websocket" {
			// The reference upgrades, then closes a socket whose transport
			// cannot take upgrades; refusing first is cheaper.
			srv.refuse(w, upgrade, eio.ErrorBadRequest, 0, "")
			return
		}
		srv.serveUpgrade(w, r, s)
		return
	}
	if transport != "polling" || s.Transport() != "polling" {
		// "TRANSPORT_MISMATCH", or a plain HTTP request naming the
		// websocket transport (which the reference leaves unanswered).
		srv.refuse(w, upgrade, eio.ErrorBadRequest, 0, "")
		return
	}
	switch r.Method {
	case http.MethodGet:
		srv.servePoll(w, r, s)
	case http.MethodPost:
		srv.servePost(w, r, s)
	default:
		w.WriteHeader(http.StatusInternalServerError) // reference Polling.onRequest
	}
}

// newSession builds a session for the handshake request r.
func (srv *Server) newSession(r *http.Request) *Session {
	s := &Session{srv: srv, id: newSID(srv.cfg.SIDPrefix), req: newRequest(r)}
	s.nextPing.Store(srv.now() + int64(srv.cfg.PingInterval))
	return s
}

// openPacket appends the open packet for sid to dst.
func (srv *Server) openPacket(dst []byte, sid string, upgrades []string) []byte {
	op := eio.OpenPayload{
		SID:          sid,
		Upgrades:     upgrades,
		PingInterval: int(srv.cfg.PingInterval / time.Millisecond),
		PingTimeout:  int(srv.cfg.PingTimeout / time.Millisecond),
		MaxPayload:   srv.cfg.MaxPayload,
	}
	return op.AppendJSON(append(dst, '0'))
}

// isUpgrade reports whether r asks to switch protocols, the test Node uses
// to route a request to the "upgrade" event.
func isUpgrade(r *http.Request) bool {
	if r.Header.Get("Upgrade") == "" {
		return false
	}
	for _, v := range r.Header.Values("Connection") {
		for tok := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), "upgrade") {
				return true
			}
		}
	}
	return false
}

// validHeaderValue mirrors the reference's checkInvalidHeaderChar: tab,
// visible ASCII and obs-text only.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c != '\t' && (c < 0x20 || c == 0x7f) {
			return false
		}
	}
	return true
}

// refuse answers a request the server will not serve. Polling requests get
// the reference's JSON body (abortRequest): {"code":…,"message":…} with
// 400, or 403 for Forbidden. Upgrade requests get the reference's
// abortUpgrade answer: a plain-text 400 carrying the message. status, when
// non-zero, overrides the status (Admit's choice); msg the message.
func (srv *Server) refuse(w http.ResponseWriter, upgrade bool, code eio.ErrorCode, status int, msg string) {
	h := w.Header()
	if upgrade {
		if status == 0 {
			status = http.StatusBadRequest
		}
		if msg == "" {
			msg = code.Message()
		}
		h.Set("Connection", "close")
		h.Set("Content-Type", "text/html")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(msg))
		return
	}
	if status == 0 {
		status = code.HTTPStatus()
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(eio.AppendErrorBody(make([]byte, 0, 64), code, msg))
}
