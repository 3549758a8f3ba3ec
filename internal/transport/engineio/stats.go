package engineio

import "sync/atomic"

// Stats count a server's transport failures, per transport. Failures of
// the WebSocket framing itself (a bad frame, a full outbound queue, an
// unanswered WebSocket ping) are counted by the websocket.Engine that
// carries the sessions; these are the Engine.IO ones above it.
type Stats struct {
	Polling, WebSocket TransportStats
}

// TransportStats are one transport's failures.
type TransportStats struct {
	// SlowConsumers counts sessions closed because their unsent bytes
	// passed the limit (polling; a WebSocket's are its engine's).
	SlowConsumers atomic.Int64
	// HeartbeatTimeouts counts sessions closed with "ping timeout".
	HeartbeatTimeouts atomic.Int64
	// ProtocolErrors counts sessions closed for what the client sent:
	// packets that do not decode, overlapping or oversized requests.
	ProtocolErrors atomic.Int64
}

// Stats returns the server's live counters.
func (srv *Server) Stats() *Stats { return &srv.stats }

// stats are the counters of the transport carrying the session now.
func (s *Session) stats() *TransportStats {
	if s.ws.Load() != nil {
		return &s.srv.stats.WebSocket
	}
	return &s.srv.stats.Polling
}

// CloseForBadInput closes the session, as Close does, because the client
// sent something the layer above cannot take (a Socket.IO packet that does
// not decode), and counts it as a protocol error.
func (s *Session) CloseForBadInput(reason string) {
	if !s.Closed() {
		s.stats().ProtocolErrors.Add(1)
	}
	s.Close(reason)
}
