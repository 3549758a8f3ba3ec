// Package heraldws serves herald's own JSON protocol over WebSocket
// (docs/protocol.md). It is an adapter onto the core: a Session turns each
// command into a call on internal/core and the core's answer into a
// reply; everything the protocol promises about who may do what is
// decided there, as for Socket.IO.
package heraldws

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/heraldhq/herald/internal/core"
	"github.com/heraldhq/herald/internal/transport/websocket"
)

// Config tunes the protocol.
type Config struct {
	// ConnectTimeout is how long a connection may wait for its connect
	// command when anonymous access is off.
	ConnectTimeout time.Duration
	// Version is herald's, told in connect replies.
	Version string
}

// Server upgrades requests to herald-protocol connections.
type Server struct {
	core   *core.Core
	engine *websocket.Engine
	cfg    Config
}

// NewServer serves the protocol on engine's connections.
func NewServer(c *core.Core, engine *websocket.Engine, cfg Config) *Server {
	return &Server{core: c, engine: engine, cfg: cfg}
}

// ServeHTTP upgrades a request to a herald-protocol connection, once the
// core admits it. A token in the URL (?token=) connects at once.
func (srv *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if e := srv.core.Admit(r, true); e != nil {
		httpError(w, e.Code, e.Message)
		return
	}
	s := &Session{srv: srv}
	s.client.Init(srv.core, s, srv.core.NewClientID(), core.TransportWebSocket)
	token := r.URL.Query().Get("token")
	s.mu.Lock()
	defer s.mu.Unlock() // until set up, the connection's callbacks wait
	conn, err := srv.engine.Upgrade(w, r, s)
	if err != nil {
		srv.core.Release()
		srv.core.Close(&s.client, websocket.CloseAbnormal, "upgrade failed")
		srv.core.Log().Debug("websocket upgrade failed", "remote", r.RemoteAddr, "err", err)
		return
	}
	s.conn = conn
	srv.core.Metrics().ConnectionsAccepted.WithLabelValues("websocket").Inc()
	if srv.core.ShuttingDown() {
		// Admitted just before shutdown began, upgraded after it closed
		// every connection: this one must not keep shutdown waiting.
		s.close(websocket.CloseGoingAway, "server shutting down")
		return
	}
	s.start(token)
}

// start lets the connection in by its URL token, as anonymous, or leaves
// it waiting for a connect command. s.mu is held.
func (s *Session) start(token string) {
	c := s.srv.core
	switch {
	case token != "" || c.AllowsAnonymous(): // no token: anonymous
		creds, e := c.Credentials(&s.client, token)
		if e == nil {
			e = c.Connect(&s.client, creds)
		}
		if e != nil {
			s.close(e.Close, e.Message)
		}
	default:
		s.timer = time.AfterFunc(s.srv.cfg.ConnectTimeout, s.connectTimedOut)
	}
}

func (s *Session) connectTimedOut() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.client.Connected() && !s.client.Closed() {
		s.close(core.CloseConnectTimeout, "no connect command within the connect timeout")
	}
}

func httpError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
