package engineio

import (
	"sync"
	"sync/atomic"

	eio "github.com/heraldhq/herald/internal/protocol/eioproto"
	"github.com/heraldhq/herald/internal/transport/websocket"
)

// Session states; a session only moves forward through them.
const (
	stateOpen int32 = iota
	// stateClosing: the server closed a polling session that had no GET
	// pending; the close packet waits for the client's next GET (or the
	// close timeout), as the reference Polling transport does.
	stateClosing
	stateClosed
)

// Close reasons reported to Handler.OnClose, spelled as the reference
// (engine.io lib/socket.ts) spells them, so the Socket.IO layer can pass
// them on to applications unchanged.
const (
	// ReasonTransportClose: the client closed (a "1" packet, or its
	// WebSocket went away).
	ReasonTransportClose = "transport close"
	// ReasonTransportError: the transport failed: overlapping or aborted
	// polling requests, an oversized POST, a WebSocket protocol error, a
	// slow consumer, a ping from the client.
	ReasonTransportError = "transport error"
	// ReasonPingTimeout: no pong within PingTimeout of a ping.
	ReasonPingTimeout = "ping timeout"
	// ReasonForcedClose is the reference's reason for a server-side close;
	// pass it to Session.Close.
	ReasonForcedClose = "forced close"
	// ReasonParseError: the client sent a packet that does not decode.
	ReasonParseError = "parse error"
	// ReasonShutdown is for closing everything at shutdown; Stop uses it.
	ReasonShutdown = "server shutting down"
)

// Session is one Engine.IO connection, on polling or WebSocket. Its methods
// are safe for concurrent use.
type Session struct {
	srv *Server
	id  string
	req *Request
	// value is the Handler's, set in OnOpen (see SetValue).
	value any

	// state is one of stateOpen, stateClosing, stateClosed. Writes happen
	// under mu; the atomic lets hot paths check it without the lock.
	state atomic.Int32
	// ws is the WebSocket carrying the session, nil while on polling. It
	// is set once (handshake or completed upgrade) under mu, so senders
	// that see it can skip mu entirely.
	ws atomic.Pointer[websocket.Conn]

	// Heartbeat and timer deadlines in Server.now() nanoseconds, 0 when
	// unset. Atomics so the single heartbeat goroutine scans every session
	// without taking per-session locks.
	nextPing        atomic.Int64
	pingDeadline    atomic.Int64
	upgradeDeadline atomic.Int64
	closeDeadline   atomic.Int64

	// inMu serializes every call into the Handler for this session, so
	// OnMessage calls from a POST and from the upgraded WebSocket never
	// overlap, and OnClose never overlaps either (see notifyClose).
	inMu sync.Mutex
	// closePending is set when OnClose is due but inMu was busy; whoever
	// releases inMu next delivers it.
	closePending atomic.Bool
	// closeDelivered is guarded by inMu.
	closeDelivered bool

	mu sync.Mutex
	// The flags and pollReply come first, together: a server holds one
	// session per client, and scattered they would cost 16 bytes of
	// padding each.
	//
	// getActive and postActive detect overlapping requests, which the
	// protocol forbids (400 and the session closes).
	getActive, postActive bool
	// probed is set once the upgrading WebSocket answered "2probe": GETs
	// are then released with noops so the client can pause polling.
	probed bool
	// upgraded is set once the session moved to WebSocket.
	upgraded bool
	// pollReply is the packet type a waiting GET gets when the session
	// closes under it: close ("1"), or noop ("6") when the client closed.
	pollReply eio.PacketType
	// reason is why the session closed or is closing.
	reason string
	// buf is the encoded polling payload waiting for a GET (packets joined
	// by 0x1e); it doubles as the reference's writeBuffer during an upgrade.
	buf []byte
	// poll is the GET waiting for packets, nil when none.
	poll *pollWait
	// upgrading is the WebSocket probing to take over, nil when none.
	upgrading *wsPeer
}

// pollWait is a GET parked until its session has something to send.
type pollWait struct {
	// ch receives one value when the GET should answer; buffered so the
	// waker never blocks.
	ch chan struct{}
	// signaled is guarded by the session's mu; it makes waking idempotent.
	signaled bool
}

// ID is the session id (the "sid" query parameter).
func (s *Session) ID() string { return s.id }

// Transport names the transport currently carrying the session: "polling"
// or "websocket". It changes from polling to websocket when an upgrade
// completes.
func (s *Session) Transport() string {
	if s.ws.Load() != nil {
		return "websocket"
	}
	return "polling"
}

// RemoteAddr is the address of the client that made the handshake.
func (s *Session) RemoteAddr() string { return s.req.RemoteAddr() }

// Request is what the handshake request said.
func (s *Session) Request() *Request { return s.req }

// SetValue stores the Handler's state for the session. Call it in
// OnOpen: OnMessage and OnClose, which the session runs after OnOpen and
// never at the same time, see it through Value without a lock.
func (s *Session) SetValue(v any) { s.value = v }

// Value returns what SetValue stored.
func (s *Session) Value() any { return s.value }

// Closed reports whether the session has closed or started closing;
// nothing more can be sent on it.
func (s *Session) Closed() bool { return s.state.Load() != stateOpen }

// Close closes the session from the server side, as the reference's
// socket.close(): a WebSocket is closed at once (1000); a polling session
// answers its pending GET with a close packet, or, when none is pending,
// sends the queued packets and the close packet on the client's next GET
// (giving up after 30s). OnClose gets reason once the session is gone.
func (s *Session) Close(reason string) {
	if s.ws.Load() != nil {
		s.finish(reason, eio.Close, websocket.CloseNormal)
		return
	}
	s.mu.Lock()
	if s.state.Load() != stateOpen {
		s.mu.Unlock()
		return
	}
	if s.ws.Load() != nil || s.poll != nil {
		s.mu.Unlock()
		s.finish(reason, eio.Close, websocket.CloseNormal)
		return
	}
	s.state.Store(stateClosing)
	s.reason = reason
	s.closeDeadline.Store(s.srv.now() + int64(s.srv.closeTimeout))
	up := s.detachUpgradeLocked()
	s.mu.Unlock()
	closeConn(up)
}

// finish ends the session now: a waiting GET is answered (with pollReply
// after any queued packets), the WebSocket is closed with wsCode, the
// session leaves the server, and OnClose(reason) is delivered once.
func (s *Session) finish(reason string, pollReply eio.PacketType, wsCode int) {
	s.mu.Lock()
	if s.state.Load() == stateClosed {
		s.mu.Unlock()
		return
	}
	if s.state.Load() == stateClosing {
		reason = s.reason // the server's close reason wins over how it ended
	}
	s.state.Store(stateClosed)
	s.reason = reason
	s.pollReply = pollReply
	conn := s.ws.Load()
	if s.poll != nil {
		s.wakeLocked()
	} else {
		putBuf(s.buf)
		s.setBufLocked(nil)
	}
	up := s.detachUpgradeLocked()
	s.mu.Unlock()

	s.srv.sessions.remove(s)
	if conn != nil {
		conn.Close(wsCode, "")
	}
	closeConn(up)
	s.notifyClose()
}

// closeReason returns the recorded close reason.
func (s *Session) closeReason() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reason
}

// lockIn takes the right to call into the Handler for this session.
func (s *Session) lockIn() { s.inMu.Lock() }

// unlockIn releases inMu and delivers an OnClose that became due while it
// was held. closePending is read after the unlock: a closer that found
// inMu busy stored it before trying, so one of the two always sees it.
func (s *Session) unlockIn() {
	s.inMu.Unlock()
	if s.closePending.Load() && s.inMu.TryLock() {
		s.deliverCloseLocked()
		s.inMu.Unlock()
	}
}

// notifyClose delivers OnClose now if no Handler call is running for this
// session, or leaves it to the one running. It never blocks, so finish can
// run from inside OnMessage (a handler closing its own session).
func (s *Session) notifyClose() {
	s.closePending.Store(true)
	if s.inMu.TryLock() {
		s.deliverCloseLocked()
		s.inMu.Unlock()
	}
}

func (s *Session) deliverCloseLocked() {
	if !s.closePending.CompareAndSwap(true, false) || s.closeDelivered {
		return
	}
	s.closeDelivered = true
	s.srv.h.OnClose(s, s.closeReason())
}

// receive hands decoded packets to the session in order, stopping when one
// ends it. Data in packets need only live for the call.
func (s *Session) receive(packets []eio.Packet) {
	s.lockIn()
	defer s.unlockIn()
	for _, p := range packets {
		if s.state.Load() != stateOpen || !s.handlePacket(p) {
			return
		}
	}
}

// handlePacket acts on one client packet, as the reference's
// Socket.onPacket does, and reports whether the session is still open.
// The caller holds inMu.
func (s *Session) handlePacket(p eio.Packet) bool {
	switch p.Type {
	case eio.Message:
		s.srv.h.OnMessage(s, p.Data, p.Binary)
	case eio.Pong:
		s.pingDeadline.Store(0)
		s.nextPing.Store(s.srv.now() + int64(s.srv.cfg.PingInterval))
	case eio.Close:
		// The reference Polling.onClose releases a pending GET with a noop.
		s.finish(ReasonTransportClose, eio.Noop, websocket.CloseNormal)
		return false
	case eio.Ping:
		// v4 pings only go server to client ("invalid heartbeat direction").
		s.finish(ReasonTransportError, eio.Close, websocket.CloseNormal)
		return false
	}
	// open, upgrade and noop from a client are ignored, as the reference does.
	return true
}

// wakeLocked releases the waiting GET, if any. The caller holds mu.
func (s *Session) wakeLocked() {
	if p := s.poll; p != nil && !p.signaled {
		p.signaled = true
		p.ch <- struct{}{}
	}
}
