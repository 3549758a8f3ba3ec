package herald

import (
	"net/http"

	"github.com/heraldhq/herald/internal/transport/websocket"
)

// echoHandler sends every message back as it came: a diagnostic endpoint
// for checking that WebSocket traffic gets through proxies and firewalls.
type echoHandler struct{ n *Node }

func (h echoHandler) OnMessage(c *websocket.Conn, text bool, p []byte) {
	if text {
		_ = c.Send(websocket.TextFrame(p))
		return
	}
	_ = c.Send(websocket.BinaryFrame(p))
}

func (h echoHandler) OnClose(*websocket.Conn, int, string) { h.n.conns.Add(-1) }

func (h echoHandler) Farewell(int, string) []byte { return nil }

// serveEcho upgrades /echo to an echo connection; origin and connection
// limits apply as for /ws.
func (n *Node) serveEcho(w http.ResponseWriter, r *http.Request) {
	if !n.admit(w, r) {
		return
	}
	if _, err := n.engine.Upgrade(w, r, echoHandler{n}); err != nil {
		n.conns.Add(-1) // admit counted it
		return
	}
	n.metrics.connectionsAccepted.WithLabelValues("echo").Inc()
}
