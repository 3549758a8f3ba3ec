package socketio

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/protocol/sioproto"
)

// newSocket prepares a socket for a CONNECT to n on c; it is not connected
// until admit lets it in.
func (srv *Server) newSocket(n *Namespace, c *conn, auth json.RawMessage) *Socket {
	s := &Socket{srv: srv, nsp: n, id: randomID()}
	if srv.recoveryOn() {
		s.pid = randomID()
	}
	s.req, s.auth = c.sess.Request(), auth
	s.out.conn = c
	return s
}

// randomID returns 20 random bytes as URL-safe base64: unguessable ids
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

// admit runs a CONNECT: recovery, authentication, middlewares, the node's
// hooks and limits, then the socket is connected.
func (s *Socket) admit(ctx context.Context, raw json.RawMessage) {
	var a connectAuth
	_ = json.Unmarshal(raw, &a) // fields of other types are simply absent
	c := s.conn()
	if a.PID != "" && a.Offset != "" && s.srv.recoveryOn() && s.srv.restore(c, s, a.PID, a.Offset) {
		return
	}
	ident, err := s.srv.authenticate(ctx, a.Token)
	if err != nil {
		s.refuse(&ConnectError{Message: err.Error(), Data: map[string]int{"code": 4001}})
		return
	}
	s.info = broker.ClientInfo{Client: s.id, User: ident.User, Info: ident.Info}
	s.channels = ident.Channels
	if !ident.ExpiresAt.IsZero() {
		s.expires = ident.ExpiresAt.UnixNano()
	}
	// Each step below may block; the client may be gone when it returns.
	if err := s.runMiddlewares(); err != nil || s.gone() {
		if err != nil {
			s.refuse(connectErrorOf(err))
		}
		return
	}
	if err := s.srv.backend.Connected(ctx, s.describe()); err != nil {
		s.refuse(&ConnectError{Message: "connection refused: " + err.Error(), Data: map[string]int{"code": 4005}})
		return
	}
	if ident.User != "" {
		if err := s.srv.backend.AddUser(ident.User, s); err != nil {
			s.srv.backend.Disconnected(ctx, s.describe(), "refused")
			s.refuse(&ConnectError{Message: err.Error(), Data: map[string]int{"code": 1013}})
			return
		}
	}
	s.connected(c)
}

// gone reports whether the socket's transport closed while it was being
// let in.
func (s *Socket) gone() bool { return s.state.Load() == socketClosed }

// undoAdmit takes back what admit did for a socket whose transport closed
// before it was connected.
func (s *Socket) undoAdmit() {
	if s.info.User != "" {
		s.srv.backend.RemoveUser(s.info.User, s)
	}
	s.srv.backend.Disconnected(context.Background(), s.describe(), "transport close")
}

// authenticate checks the CONNECT token, or lets an anonymous socket in
// when the node allows it.
func (srv *Server) authenticate(ctx context.Context, token string) (Identity, error) {
	if token == "" {
		if srv.backend.AllowAnonymous() {
			return Identity{}, nil
		}
		return Identity{}, errors.New("authentication required: send {token} in the auth payload")
	}
	return srv.backend.Authenticate(ctx, token)
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
	s.state.Store(socketClosed)
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
// id, and the namespace's OnConnect runs.
func (s *Socket) connected(c *conn) {
	s.nsp.addSocket(s)
	if !s.state.CompareAndSwap(socketConnecting, socketConnected) {
		s.nsp.removeSocket(s) // the transport closed while it was being let in
		s.undoAdmit()
		return
	}
	s.armExpiry()
	c.joined()
	c.sendPacket(sioproto.Packet{Type: sioproto.Connect, Namespace: s.nsp.name, Data: s.connectPayload()})
	s.onConnect()
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
	v := map[string]string{"sid": s.id}
	if s.pid != "" {
		v["pid"] = s.pid
	}
	b, _ := json.Marshal(v)
	return b
}

func (s *Socket) describe() SocketInfo {
	return SocketInfo{ID: s.id, User: s.info.User, Namespace: s.nsp.name, RemoteAddr: s.req.RemoteAddr()}
}

// conn returns the socket's connection; nil while the transport is gone.
func (s *Socket) conn() *conn {
	s.out.mu.Lock()
	defer s.out.mu.Unlock()
	return s.out.conn
}
