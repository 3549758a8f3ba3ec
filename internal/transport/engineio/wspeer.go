package engineio

import (
	"net/http"
	"sync/atomic"

	eio "github.com/heraldhq/herald/internal/protocol/eioproto"
	"github.com/heraldhq/herald/internal/transport/websocket"
)

// wsPeer is the websocket.Handler of one WebSocket: the one carrying a
// session, or one probing to take over a polling session.
type wsPeer struct {
	sess *Session
	// active is set once this WebSocket carries the session: from the
	// start for a WebSocket handshake, after "5" for an upgrade. Atomic
	// because OnClose may run on whichever goroutine closed the socket.
	active atomic.Bool
	// rejected marks a WebSocket refused after its handshake (a second
	// upgrade for one session); it is fixed before Upgrade is called.
	rejected bool
	// conn is the probing connection once Upgrade returned; guarded by
	// sess.mu. The upgrade timeout needs it to close the probe.
	conn *websocket.Conn
}

// OnMessage decodes one WebSocket message as one Engine.IO packet.
func (p *wsPeer) OnMessage(c *websocket.Conn, text bool, payload []byte) {
	if p.rejected {
		return
	}
	pkt, err := eio.DecodePacket(payload, !text)
	if !p.active.Load() {
		p.sess.onProbePacket(p, c, pkt, err)
		return
	}
	s := p.sess
	s.lockIn()
	defer s.unlockIn()
	if s.state.Load() != stateOpen {
		return
	}
	if err != nil {
		// The reference parser yields an "error" packet: "parse error".
		s.srv.stats.WebSocket.ProtocolErrors.Add(1)
		s.finish(ReasonParseError, eio.Close, websocket.CloseNormal)
		return
	}
	s.handlePacket(pkt)
}

// OnClose ends the session when its WebSocket goes, or abandons the
// upgrade when a probing WebSocket goes.
func (p *wsPeer) OnClose(_ *websocket.Conn, code int, reason string) {
	switch {
	case p.rejected:
	case p.active.Load():
		p.sess.finish(wsCloseReason(code, reason), eio.Close, websocket.CloseNormal)
	default:
		p.sess.abortUpgrade(p)
	}
}

// Farewell sends nothing: the reference closes a WebSocket transport
// without a close packet (WebSocket.doClose just closes the socket).
func (p *wsPeer) Farewell(int, string) []byte { return nil }

// wsCloseReason maps how a WebSocket ended to the reference's reasons: a
// peer the WebSocket heartbeat gave up on is a "ping timeout" (as if
// Engine.IO's own pings had noticed first), a socket error (an oversized
// or malformed message, a failed write) is a "transport error", anything
// else a "transport close".
func wsCloseReason(code int, reason string) string {
	if code == websocket.CloseInternalError && reason == websocket.PingTimeoutReason {
		return ReasonPingTimeout
	}
	switch code {
	case websocket.CloseProtocolError, websocket.CloseInvalidPayload,
		websocket.CloseMessageTooBig, websocket.CloseTryAgainLater:
		return ReasonTransportError
	}
	return ReasonTransportClose
}

// handshakeWS creates a WebSocket-only session: the first frame is the open
// packet, advertising no upgrades.
func (srv *Server) handshakeWS(w http.ResponseWriter, r *http.Request) {
	s := srv.newSession(r)
	p := &wsPeer{sess: s}
	p.active.Store(true)
	// Hold inMu across the handshake: a message arriving before OnOpen has
	// run waits for it instead of overtaking it.
	s.lockIn()
	c, err := srv.ws.Upgrade(w, r, p)
	if err != nil {
		s.inMu.Unlock() // nothing was announced, so there is no OnClose to deliver
		return
	}
	s.mu.Lock()
	s.ws.Store(c)
	s.mu.Unlock()
	srv.sessions.add(s)
	if s.state.Load() == stateClosed {
		srv.sessions.remove(s) // the socket died before it was registered
	}
	_ = c.Send(websocket.TextFrame(srv.openPacket(nil, s.id, nil)))
	srv.h.OnOpen(s)
	s.unlockIn()
}

// serveUpgrade takes a WebSocket opened with the sid of a polling session.
// It only carries the session once the client has probed it and sent "5".
func (srv *Server) serveUpgrade(w http.ResponseWriter, r *http.Request, s *Session) {
	p := &wsPeer{sess: s}
	s.mu.Lock()
	if s.state.Load() != stateOpen || s.upgrading != nil || s.upgraded || s.ws.Load() != nil {
		// Reference onWebSocket: "transport has already been trying to
		// upgrade" / "had already been upgraded" close the new socket.
		p.rejected = true
	} else {
		s.upgrading = p
	}
	s.mu.Unlock()

	c, err := srv.ws.Upgrade(w, r, p)
	if err != nil {
		if !p.rejected {
			s.abortUpgrade(p)
		}
		return
	}
	if p.rejected {
		c.Close(websocket.CloseNormal, "")
		return
	}
	s.mu.Lock()
	if s.upgrading == p {
		p.conn = c
		s.upgradeDeadline.Store(srv.now() + int64(srv.cfg.UpgradeTimeout))
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	if s.ws.Load() != c {
		c.Close(websocket.CloseNormal, "") // the upgrade was abandoned meanwhile
	}
}

// onProbePacket handles a packet on a WebSocket that does not carry the
// session yet, as the reference Socket._maybeUpgrade does.
func (s *Session) onProbePacket(p *wsPeer, c *websocket.Conn, pkt eio.Packet, err error) {
	switch {
	case err == nil && pkt.Type == eio.Ping && string(pkt.Data) == "probe":
		s.mu.Lock()
		ok := s.upgrading == p && s.state.Load() == stateOpen
		s.mu.Unlock()
		if !ok {
			c.Close(websocket.CloseNormal, "")
			return
		}
		_ = c.Send(pongProbeFrame)
		s.mu.Lock()
		if s.upgrading == p {
			// Release a pending GET with a noop (the reference's "fast
			// upgrade" check) so the client can pause polling and send "5".
			s.probed = true
			s.wakeLocked()
		}
		s.mu.Unlock()
	case err == nil && pkt.Type == eio.Upgrade:
		s.completeUpgrade(p, c)
	default:
		// Anything else aborts the upgrade; the session stays on polling.
		s.abortUpgrade(p)
		c.Close(websocket.CloseNormal, "")
	}
}

// completeUpgrade moves the session to the probed WebSocket. Packets queued
// for polling meanwhile are written to the WebSocket first, in order.
func (s *Session) completeUpgrade(p *wsPeer, c *websocket.Conn) {
	s.mu.Lock()
	if s.upgrading != p || s.state.Load() != stateOpen {
		s.mu.Unlock()
		c.Close(websocket.CloseNormal, "")
		return
	}
	s.upgrading = nil
	s.upgradeDeadline.Store(0)
	s.probed = false
	s.upgraded = true
	p.active.Store(true)
	if len(s.buf) > 0 {
		// Our own buffer, so it decodes; the frames copy what they need.
		packets, _ := eio.DecodePayload(s.buf, 0)
		for _, pkt := range packets {
			_, _ = c.Enqueue(packetFrame(pkt))
		}
	}
	putBuf(s.buf)
	s.setBufLocked(nil)
	// Publish the WebSocket while still holding mu: a sender blocked on mu
	// re-checks ws and queues after the packets just moved.
	s.ws.Store(c)
	s.wakeLocked() // a GET still pending gets the discarded transport's close packet
	s.mu.Unlock()
	c.Flush()
}

// abortUpgrade forgets p's upgrade attempt, if it is still the current one.
func (s *Session) abortUpgrade(p *wsPeer) {
	s.mu.Lock()
	if s.upgrading == p {
		s.detachUpgradeLocked()
	}
	s.mu.Unlock()
}

// detachUpgradeLocked cancels the upgrade in progress and returns its
// connection, if known, for the caller to close once mu is released.
func (s *Session) detachUpgradeLocked() *websocket.Conn {
	p := s.upgrading
	if p == nil {
		return nil
	}
	s.upgrading = nil
	s.upgradeDeadline.Store(0)
	s.probed = false
	return p.conn
}

// expireUpgrade closes a probe that did not finish within UpgradeTimeout.
func (s *Session) expireUpgrade(now int64) {
	s.mu.Lock()
	d := s.upgradeDeadline.Load()
	if d == 0 || now < d {
		s.mu.Unlock()
		return
	}
	c := s.detachUpgradeLocked()
	s.mu.Unlock()
	closeConn(c)
}

// closeConn closes c, if any, with a normal close.
func closeConn(c *websocket.Conn) {
	if c != nil {
		c.Close(websocket.CloseNormal, "")
	}
}
