package socketio

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/heraldhq/herald/internal/core"
	"github.com/heraldhq/herald/internal/protocol/sioproto"
)

// newSocket prepares a socket for a CONNECT to n on c; it is not connected
// until admit lets it in.
// A socket saved by the node before a restart keeps its ids.
func (srv *Server) newSocket(n *Namespace, c *conn, auth json.RawMessage, saved *savedSession) *Socket {
	s := &Socket{srv: srv, nsp: n}
	id := randomID()
	if saved != nil {
		id = saved.SID
	}
	s.client.Init(srv.core, s.sink(), id, core.TransportSocketIO)
	switch {
	case saved != nil:
		s.pid = saved.PID
	case srv.recoveryOn():
		s.pid = srv.newPID()
	}
	s.req, s.auth = c.sess.Request(), auth
	s.out.conn = c
	return s
}

// randomID returns 15 random bytes as 20 URL-safe base64 characters:
// unguessable ids
// for sockets and recovery.
func randomID() string {
	b := make([]byte, 15)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// connectAuth is what herald reads from a CONNECT payload.
type connectAuth struct {
	Token  string `json:"token"`
	PID    string `json:"pid"`
	Offset string `json:"offset"`
}

// admit runs a CONNECT: recovery; then the credentials, the middlewares,
// and the core's admission (the user's connection limit and the OnConnect
// hook); then, for a socket saved before a restart, its rooms; then the
// socket is connected.
func (s *Socket) admit(raw json.RawMessage, saved *savedSession, after uint64) {
	var a connectAuth
	_ = json.Unmarshal(raw, &a) // fields of other types are simply absent
	c := s.conn()
	if a.PID != "" && a.Offset != "" && s.srv.recoveryOn() && s.srv.restore(c, s, a.PID, a.Offset) {
		return
	}
	cr := s.srv.core
	creds, e := cr.Credentials(&s.client, a.Token)
	if e != nil && s.leftWith(saved) {
		return
	}
	if e != nil {
		if a.Token == "" {
			e.Message = "authentication required: send {token} in the auth payload"
		}
		s.refuse(&ConnectError{Message: e.Message, Data: map[string]int{"code": e.Close}})
		return
	}
	cr.Identify(&s.client, creds) // the middlewares may ask who it is
	// Each step below may block; the client may be gone when it returns.
	if err := s.runMiddlewares(); err != nil || s.gone() {
		if !s.leftWith(saved) {
			s.refuse(connectErrorOf(err))
		}
		return
	}
	if e := cr.Connect(&s.client, creds); e != nil {
		if !s.leftWith(saved) {
			s.refuse(&ConnectError{Message: e.Message, Data: map[string]int{"code": e.Close}})
		}
		return
	}
	var subs []core.Subscription
	var carried []*encodedEvent
	if saved != nil {
		subs, carried, _ = s.revive(saved, after)
	}
	if !s.connected(c, subs, carried) && s.recovered.Load() {
		s.srv.keepSaved(saved) // nothing reached the client: for its next try
	}
}

// gone reports whether the socket's transport closed while it was being
// let in.
func (s *Socket) gone() bool { return s.state.Load() == socketClosed }

// leftWith reports whether the client left while being let in (what
// refused it may be only that), and then ends the socket, keeping the
// session it was to get back for the client's next try.
func (s *Socket) leftWith(saved *savedSession) bool {
	if !s.gone() {
		return false
	}
	s.abandon()
	s.srv.keepSaved(saved)
	return true
}

// abandon ends a socket that was never connected.
func (s *Socket) abandon() {
	s.state.Store(socketClosed)
	s.srv.core.Close(&s.client, 0, "transport close")
}

func (s *Socket) runMiddlewares() error {
	s.nsp.mu.RLock()
	mws := append([]func(*Socket) error(nil), s.nsp.middlewares...)
	s.nsp.mu.RUnlock()
	for _, mw := range mws {
		if err := s.safeCall(func() error { return mw(s) }); err != nil {
			return err
		}
	}
	return nil
}

// refuse answers the CONNECT with CONNECT_ERROR; the client may try again.
func (s *Socket) refuse(e *ConnectError) {
	s.abandon()
	c := s.conn()
	if c == nil {
		return
	}
	c.forget(s)
	payload := map[string]any{"message": e.Message}
	if e.Data != nil {
		payload["data"] = e.Data
	}
	data, err := json.Marshal(payload)
	if err != nil {
		data = []byte(`{"message":"connection refused"}`)
	}
	c.sendPacket(sioproto.Packet{Type: sioproto.ConnectError, Namespace: s.nsp.name, Data: data})
}

// connected finishes a CONNECT: the socket serves, the client is told its
// id, then gets the events carried over from another node and what subs
// replay, and the namespace's OnConnect runs. It reports false when the
// transport closed while the socket was being let in.
func (s *Socket) connected(c *conn, subs []core.Subscription, carried []*encodedEvent) bool {
	s.nsp.addSocket(s)
	if !s.state.CompareAndSwap(socketConnecting, socketConnected) {
		s.nsp.removeSocket(s)
		startAll(subs) // ends their wait
		s.closeCore("transport close")
		return false
	}
	c.joined()
	c.sendPacket(socketioConnect(s))
	for _, ev := range carried {
		s.send(ev, true)
	}
	if len(carried) > 0 {
		s.flush()
	}
	startAll(subs)
	if s.client.Expired() {
		// The credentials expired while the socket was let in, before it
		// could be disconnected for it.
		s.Disconnect()
		return true
	}
	s.onConnect()
	return true
}

// onConnect runs the namespace's OnConnect, for new and recovered sockets
// alike (Recovered tells them apart); an error disconnects the socket.
func (s *Socket) onConnect() {
	s.nsp.mu.RLock()
	f := s.nsp.onConnect
	s.nsp.mu.RUnlock()
	if f == nil {
		return
	}
	if err := s.safeCall(func() error { return f(s) }); err != nil {
		s.reportError(fmt.Errorf("OnConnect: %w", err))
		s.Disconnect()
	}
}

func (s *Socket) connectPayload() json.RawMessage {
	v := map[string]string{"sid": s.ID()}
	if s.pid != "" {
		v["pid"] = s.pid
	}
	b, _ := json.Marshal(v)
	return b
}

// conn returns the socket's connection; nil while the transport is gone.
func (s *Socket) conn() *conn {
	s.out.mu.Lock()
	defer s.out.mu.Unlock()
	return s.out.conn
}
