package engineio

import (
	"net/http"
	"net/url"
	"strings"
)

// corsMethods is what the reference's cors middleware allows by default.
const corsMethods = "GET,HEAD,PUT,PATCH,POST,DELETE"

// cors adds the CORS response headers to a polling request, the way the
// npm cors middleware the reference uses does: the request's Origin echoed
// when allowed (never "*", so credentials can work), always Vary: Origin
// since the answer depends on it.
func (srv *Server) cors(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if origin == "" || !srv.originAllowed(origin, r) {
		return
	}
	h.Set("Access-Control-Allow-Origin", origin)
	if srv.cfg.AllowCredentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
}

// preflight answers an OPTIONS preflight: 204, the allowed methods, and the
// requested headers reflected back (cors' defaults).
func (srv *Server) preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", corsMethods)
	if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		h.Set("Access-Control-Allow-Headers", req)
		h.Add("Vary", "Access-Control-Request-Headers")
	}
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusNoContent)
}

// originAllowed applies Config.CheckOrigin, or else Config.AllowedOrigins,
// to origin.
func (srv *Server) originAllowed(origin string, r *http.Request) bool {
	if srv.cfg.CheckOrigin != nil {
		return srv.cfg.CheckOrigin(r)
	}
	if len(srv.cfg.AllowedOrigins) == 0 {
		// Same host only: a page served by this node.
		u, err := url.Parse(origin)
		return err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host)
	}
	for _, o := range srv.cfg.AllowedOrigins {
		if o == "*" || strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}
