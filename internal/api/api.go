// Package api is herald's HTTP server API: backends publish, push,
// disconnect and inspect through it. docs/api.md describes every endpoint.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/core"
	"github.com/heraldhq/herald/internal/protocol/record"
)

// Error is a failure with the HTTP status it should get.
type Error struct {
	Status  int
	Message string
}

func (e *Error) Error() string { return e.Message }

// Config sets up the API.
type Config struct {
	// APIKey is the key requests must carry; empty refuses every request.
	APIKey string
	// MaxBody is the largest request body in bytes.
	MaxBody int64
	// Observe, when set, is told the endpoint and status of each request.
	Observe func(endpoint string, status int)
	// Publication builds what the server publishes on a channel: data,
	// and the event name Socket.IO subscribers receive.
	Publication func(ch, event string, data json.RawMessage) *record.Publication
	// Info reports the node's figures and the cluster's nodes, for
	// /api/info.
	Info func(ctx context.Context) (any, error)
}

type server struct {
	core *core.Core
	cfg  Config
}

// New returns the API handler over the node's core; it expects paths
// starting with /api/.
func New(c *core.Core, cfg Config) http.Handler {
	s := &server{core: c, cfg: cfg}
	mux := http.NewServeMux()
	s.route(mux, "/api/publish", http.MethodPost, s.publish)
	s.route(mux, "/api/broadcast", http.MethodPost, s.broadcast)
	s.route(mux, "/api/push", http.MethodPost, s.push)
	s.route(mux, "/api/disconnect", http.MethodPost, s.disconnect)
	s.route(mux, "/api/unsubscribe", http.MethodPost, s.unsubscribe)
	s.route(mux, "/api/presence", http.MethodGet, s.presence)
	s.route(mux, "/api/channels", http.MethodGet, s.channels)
	s.route(mux, "/api/history", http.MethodGet, s.history)
	s.route(mux, "/api/history/remove", http.MethodPost, s.removeHistory)
	s.route(mux, "/api/info", http.MethodGet, s.info)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		s.finish(w, "unknown", http.StatusNotFound, errorBody("no such endpoint: "+r.URL.Path))
	})
	return mux
}

// handlerFunc handles an authorized request and returns the status and
// the JSON body to answer with.
type handlerFunc func(r *http.Request) (int, any)

// route registers h at path for method, behind the API key check. Other
// methods get 405 with an Allow header.
func (s *server) route(mux *http.ServeMux, path, method string, h handlerFunc) {
	name := path[len("/api/"):]
	mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		if !auth.CheckAPIKey(r.Header.Get("Authorization"), s.cfg.APIKey) {
			w.Header().Set("WWW-Authenticate", `apikey realm="herald"`)
			s.finish(w, name, http.StatusUnauthorized, errorBody("unauthorized"))
			return
		}
		if r.Method != method {
			w.Header().Set("Allow", method)
			s.finish(w, name, http.StatusMethodNotAllowed, errorBody(name+" takes "+method+", not "+r.Method))
			return
		}
		status, body := h(r)
		s.finish(w, name, status, body)
	})
}

func (s *server) finish(w http.ResponseWriter, endpoint string, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if status == http.StatusServiceUnavailable {
		// Overloaded or shutting down: both pass within about a second
		// (the backlog drains, a load balancer moves on).
		w.Header().Set("Retry-After", "1")
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
	if s.cfg.Observe != nil {
		s.cfg.Observe(endpoint, status)
	}
}

type errorResponse struct {
	Error string `json:"error"`
}

func errorBody(msg string) errorResponse { return errorResponse{Error: msg} }

// fail turns an error into a status and body; an *Error or a core
// refusal anywhere in the chain chooses the status.
func fail(err error) (int, any) {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Status, errorBody(err.Error())
	}
	return core.Code(err), errorBody(err.Error())
}
