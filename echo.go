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

func (h echoHandler) OnClose(*websocket.Conn, int, string) { h.n.core.Release() }

func (h echoHandler) Farewell(int, string) []byte { return nil }

// serveEcho upgrades /echo to an echo connection; origin and connection
// limits apply as for /ws.
func (n *Node) serveEcho(w http.ResponseWriter, r *http.Request) {
	if e := n.core.Admit(r, true); e != nil {
		httpError(w, e.Code, e.Message)
		return
	}
	if _, err := n.engine.Upgrade(w, r, echoHandler{n}); err != nil {
		n.core.Release()
		return
	}
	n.core.Metrics().ConnectionsAccepted.WithLabelValues("echo").Inc()
}
