package herald

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/heraldhq/herald/web"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Handler serves everything the node offers on one listener: /ws
// (herald's protocol), /api/ (server API), /healthz, /readyz, /metrics,
// /stats (public aggregate figures), /echo when enabled, and the web
// pages at /.
func (n *Node) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", n.serveWS)
	if n.sio != nil {
		mux.Handle("/socket.io/", n.sio)
		serveSocketIOClient(mux)
	}
	mux.Handle("/api/", n.APIHandler())
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
	return mux
}

// WebSocketHandler serves herald's WebSocket protocol alone, for mounting
// at a path of the application's choosing.
func (n *Node) WebSocketHandler() http.Handler { return http.HandlerFunc(n.serveWS) }

// admit decides whether a WebSocket upgrade may go ahead, answering the
// request itself when not. When it admits, the connection is already
// counted (so two upgrades racing for the last slot cannot both get it);
// the caller must call n.conns.Add(-1) if the upgrade then fails.
func (n *Node) admit(w http.ResponseWriter, r *http.Request) bool {
	if status, msg := n.admitCheck(r, true); status != 0 {
		httpError(w, status, msg)
		return false
	}
	return true
}

// admitCheck applies the checks every new connection passes, whatever its
// protocol: shutdown, origin, and the node's connection limit, reserving
// a slot when reserve is set. Status 0 admits.
func (n *Node) admitCheck(r *http.Request, reserve bool) (status int, msg string) {
	full := false
	switch {
	case n.closing.Load():
		return http.StatusServiceUnavailable, "server is shutting down"
	case !n.originAllowed(r):
		n.metrics.originRejected.Inc()
		return http.StatusForbidden, "origin " + r.Header.Get("Origin") + " is not allowed"
	case reserve:
		if full = n.conns.Add(1) > int64(n.cfg.Limits.MaxConnections); full {
			n.conns.Add(-1)
		}
	default:
		full = n.conns.Load() >= int64(n.cfg.Limits.MaxConnections)
	}
	if full {
		n.metrics.connectionsRejected.WithLabelValues("node_limit").Inc()
		return http.StatusServiceUnavailable, "too many connections: try again later"
	}
	return 0, ""
}

// originAllowed accepts requests without an Origin (not from a browser),
// from the request's own host, and from the configured origins.
func (n *Node) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	for _, o := range n.cfg.AllowedOrigins {
		if o == "*" || strings.EqualFold(strings.TrimSuffix(o, "/"), origin) {
			return true
		}
	}
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

func (n *Node) serveHealth(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// serveReady says whether the node takes new connections.
func (n *Node) serveReady(w http.ResponseWriter, _ *http.Request) {
	if n.closing.Load() {
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
