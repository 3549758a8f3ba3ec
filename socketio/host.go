package socketio

import (
	"context"
	"net/http"

	"github.com/heraldhq/herald/internal/sioboot"
	"github.com/heraldhq/herald/internal/transport/engineio"
	"github.com/heraldhq/herald/internal/transport/websocket"
)

func init() { sioboot.Start = start }

// start is how a herald node starts its Socket.IO server.
func start(p sioboot.Params) (sioboot.Host, any, error) {
	cfg := p.Config.(Config)
	cfg.MaxPayload = cfg.withDefaults().MaxPayload
	ws, err := websocket.NewEngine(websocket.Config{
		MaxMessageSize: cfg.MaxPayload,
		MaxQueueBytes:  p.MaxQueueBytes,
		PingInterval:   p.PingInterval,
		PongTimeout:    p.PongTimeout,
		Backlog:        p.Core.BacklogMeter(),
	})
	if err != nil {
		return nil, nil, err
	}
	srv, err := newServer(p.Core, cfg, ws, p.DataDir)
	if err != nil {
		ws.Stop()
		return nil, nil, err
	}
	return host{srv}, srv, nil
}

// transportConfig is the Engine.IO transport's share of the configuration,
// with the node's origin policy and admission.
func (s *Server) transportConfig() engineio.Config {
	c := s.cfg
	ec := engineio.Config{
		PingInterval: c.PingInterval, PingTimeout: c.PingTimeout, MaxPayload: c.MaxPayload,
		UpgradeTimeout: c.UpgradeTimeout, AllowCredentials: c.CORSCredentials,
		MaxBufferedBytes: s.queueBytes(), CheckOrigin: s.core.OriginAllowed, Admit: s.admit,
		Backlog: s.core.BacklogMeter(),
	}
	if s.core.Clustered() {
		// Any node can tell a session's node by its id, and forwards it
		// there (forward.go).
		ec.SIDPrefix, ec.Elsewhere = s.core.ID(), s.fwd.elsewhere
	}
	return ec
}

// queueBytes is the node's bound on a connection's unsent bytes, which the
// transport applies to polling sessions too.
func (s *Server) queueBytes() int { return s.ws.MaxQueueBytes() }

// admit applies the node's admission to a new Engine.IO session; its slot
// is taken when the session opens (OnOpen).
func (s *Server) admit(r *http.Request) (int, string) {
	if e := s.core.Admit(r, false); e != nil {
		return e.Code, e.Message
	}
	return 0, ""
}

// host is the node's side of the server.
type host struct{ srv *Server }

func (h host) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.srv.eio.ServeHTTP(w, r) }

func (h host) Shutdown(ctx context.Context) error {
	h.srv.shutdown(ctx)
	return h.srv.ws.Drain(ctx)
}

func (h host) Stop() { h.srv.ws.Stop() }

func (h host) Stats() (ws, polling sioboot.TransportStats) {
	wst, eio := h.srv.ws.Stats(), h.srv.eio.Stats()
	ws = sioboot.TransportStats{
		SlowConsumers:     wst.SlowConsumers.Load() + eio.WebSocket.SlowConsumers.Load(),
		HeartbeatTimeouts: wst.HeartbeatTimeouts.Load() + eio.WebSocket.HeartbeatTimeouts.Load(),
		ProtocolErrors:    wst.ProtocolErrors.Load() + eio.WebSocket.ProtocolErrors.Load(),
	}
	polling = sioboot.TransportStats{
		SlowConsumers:     eio.Polling.SlowConsumers.Load(),
		HeartbeatTimeouts: eio.Polling.HeartbeatTimeouts.Load(),
		ProtocolErrors:    eio.Polling.ProtocolErrors.Load(),
	}
	return ws, polling
}
