package socketio

import (
	"errors"
	"time"

	"github.com/heraldhq/herald/internal/protocol/sioproto"
)

// ErrDisconnected is returned for acknowledgements cut short by a
// disconnect.
var ErrDisconnected = errors.New("socketio: socket disconnected")

// recoverableReasons are the reference's: a client that lost its
// transport may come back and recover; one that left on purpose may not.
var recoverableReasons = map[string]bool{
	"transport error": true, "transport close": true, "forced close": true,
	"ping timeout": true, "server shutting down": true, "forced server close": true,
}

// Disconnect disconnects the socket from its namespace ("server namespace
// disconnect") once what it was sent before has gone out; the connection
// stays for its other namespaces. Clients do not reconnect by themselves
// after it.
func (s *Socket) Disconnect() {
	if s.state.CompareAndSwap(socketConnected, socketDisconnecting) {
		s.sendDisconnect()
	}
}

// sendDisconnect sends the DISCONNECT packet of a socket that is
// disconnecting, and closes the socket once it is queued.
func (s *Socket) sendDisconnect() {
	s.postPacket(sioproto.Packet{Type: sioproto.Disconnect, Namespace: s.nsp.name}, func() {
		if c := s.conn(); c != nil {
			c.forget(s)
		}
		s.close("server namespace disconnect")
	})
}

// Close disconnects the socket and closes its whole connection, with
// every namespace on it.
func (s *Socket) Close() {
	c := s.conn()
	if c == nil {
		s.close("forced server close")
		return
	}
	for _, so := range c.list() {
		so.Disconnect()
	}
	// The connection closes behind everything already on its way to it:
	// the DISCONNECT packets just posted, and any acknowledgement before.
	s.post(&encodedEvent{after: func() { c.sess.Close("forced server close") }})
}

// transportClosed handles the connection ending under the socket: with
// recovery on and a reason a client may recover from, the socket waits for
// its client for RecoveryWindow, still in its rooms; otherwise it closes.
func (s *Socket) transportClosed(reason string) {
	switch s.state.Load() {
	case socketConnecting:
		// admit, still running, sees it and ends the socket; what it
		// waits on (the authenticator, a middleware, OnConnect) can see
		// the client is gone. Unless admit connected it meanwhile.
		if !s.state.CompareAndSwap(socketConnecting, socketClosed) {
			s.transportClosed(reason)
			return
		}
		s.client.Cancel()
		s.failAcks()
		return
	case socketConnected:
	case socketDisconnecting:
		s.close(reason)
		return
	default:
		return
	}
	// A node that is shutting down will not be there to recover with.
	if !s.srv.recoveryOn() || !recoverableReasons[reason] || s.srv.closing.Load() {
		s.close(reason)
		return
	}
	s.out.mu.Lock()
	s.out.conn = nil
	s.out.mu.Unlock()
	s.mu.Lock()
	s.disconnectedAt = time.Now().UnixNano()
	s.mu.Unlock()
	s.state.Store(socketRecoverable)
	s.failAcks()
	// Told, and its user's slot given back, before it can be recovered:
	// a client that comes back at once gets its OnConnect after this
	// OnDisconnect.
	s.detach(reason)
	s.notifyDisconnect(reason)
	s.srv.recovery.keep(s)
	s.srv.noteHolder(s.pid)
}

// detach tells the node the socket's client is gone for now: its
// OnDisconnect runs, and the socket keeps its rooms for the client to
// come back to. It is counted once the node has let go of the socket's
// slot, so whoever sees the count sees the slot free.
func (s *Socket) detach(reason string) {
	s.srv.core.Detach(&s.client, reason)
	s.srv.core.Metrics().SocketIODisconnected(reason)
}

// close ends the socket for good: it leaves its rooms and its user's
// connections, and OnDisconnect runs.
func (s *Socket) close(reason string) { s.end(reason, s.keepForNextNode) }

// end is close, with last run on the socket's state before its log goes
// (under the outbox lock, with the state it had).
func (s *Socket) end(reason string, last func(prev int32, reason string)) {
	prev := s.state.Swap(socketClosed)
	if prev == socketClosed {
		return
	}
	s.out.mu.Lock()
	s.out.conn = nil // flushed stays: what was queued still leaves
	last(prev, reason)
	s.out.log.reset()
	s.pinned = false
	s.out.mu.Unlock()
	s.srv.recovery.drop(s)
	s.nsp.removeSocket(s)
	s.failAcks()
	if prev == socketConnected || prev == socketDisconnecting {
		s.closeCore(reason)
		s.notifyDisconnect(reason)
		return
	}
	s.srv.core.Close(&s.client, 0, reason) // a recoverable socket was already told
}

// goneAt is when the client lost the socket: now, or when its transport
// dropped.
func (s *Socket) goneAt(prev int32) time.Time {
	if prev == socketRecoverable {
		return s.disconnectedSince()
	}
	return time.Now()
}

// closeCore ends the socket in the core, which takes it off its channels
// and its user's connections and runs OnDisconnect; counted after, as in
// detach.
func (s *Socket) closeCore(reason string) {
	s.srv.core.Close(&s.client, 0, reason)
	s.srv.core.Metrics().SocketIODisconnected(reason)
}

// notifyDisconnect runs the namespace's OnDisconnect on the socket's
// handler goroutine, after the events already queued.
func (s *Socket) notifyDisconnect(reason string) {
	s.nsp.mu.RLock()
	f := s.nsp.onDisconnect
	s.nsp.mu.RUnlock()
	if f != nil {
		s.run(func() { f(s, reason) })
	}
}

// failAcks ends every acknowledgement still awaited.
func (s *Socket) failAcks() {
	s.mu.Lock()
	acks := s.acks
	s.acks = nil
	s.mu.Unlock()
	for _, ch := range acks {
		ch <- ackReply{err: ErrDisconnected}
	}
}
