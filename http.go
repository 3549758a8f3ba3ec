package herald

import (
	"encoding/json"
	"net/http"

	"github.com/heraldhq/herald/web"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Handler serves everything the node offers on one listener: /ws
// (herald's protocol), /socket.io/ (Socket.IO, unless disabled), /api/
// (server API), /healthz, /readyz, /metrics, /stats (public aggregate
// figures), /echo when enabled, and the web pages at /. A request body
// must arrive within http.body_timeout.
func (n *Node) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/ws", n.ws)
	if n.sioHost != nil {
		mux.Handle("/socket.io/", n.sioHost)
		serveSocketIOClient(mux)
	}
	mux.Handle("/api/", n.apiHandler())
	mux.HandleFunc("/healthz", n.serveHealth)
	mux.HandleFunc("/readyz", n.serveReady)
	mux.HandleFunc("/stats", n.serveStats)
	mux.Handle("/metrics", promhttp.HandlerFor(n.registry, promhttp.HandlerOpts{}))
	if n.cfg.Echo {
		mux.HandleFunc("/echo", n.serveEcho)
	}
	if n.cfg.DevLogin {
		mux.HandleFunc("/dev/token", n.serveDevToken)
		mux.HandleFunc("/dev/config", n.serveDevConfig)
	}
	mux.Handle("/", web.Handler())
	return n.limitBody(mux)
}

// limitBody bounds the time a request body may take to arrive.
func (n *Node) limitBody(h http.Handler) http.Handler {
	return n.conns.LimitBody(h, n.cfg.HTTP.BodyTimeout)
}

// WebSocketHandler serves herald's WebSocket protocol alone, for mounting
// at a path of the application's choosing.
func (n *Node) WebSocketHandler() http.Handler { return n.ws }

// SocketIOHandler serves Socket.IO (Engine.IO requests) alone, for
// mounting at a path of the application's choosing (clients set the same
// path); nil when Socket.IO is disabled.
func (n *Node) SocketIOHandler() http.Handler {
	if n.sioHost == nil {
		return nil
	}
	return n.limitBody(n.sioHost)
}

func (n *Node) serveHealth(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// serveReady says whether the node should be sent new connections: not
// once a shutdown has begun, delay included.
func (n *Node) serveReady(w http.ResponseWriter, _ *http.Request) {
	if n.stopping.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "shutting down"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func httpError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// serveSocketIOClient serves the official socket.io-client bundle where
// the reference server does, so pages can load it without a CDN.
func serveSocketIOClient(mux *http.ServeMux) {
	files := web.Handler()
	for path, file := range map[string]string{
		"/socket.io/socket.io.js":         "/vendor/socket.io.min.js",
		"/socket.io/socket.io.min.js":     "/vendor/socket.io.min.js",
		"/socket.io/socket.io.esm.min.js": "/vendor/socket.io.esm.min.js",
	} {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			r2 := r.Clone(r.Context())
			r2.URL.Path = file
			files.ServeHTTP(w, r2)
		})
	}
}
