package herald

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"time"

	"github.com/heraldhq/herald/internal/auth"
)

// devTokenTTL is how long a dev-login token lives.
const devTokenTTL = 12 * time.Hour

// serveDevToken mints a connection token for any user name. It exists so
// the demo pages can sign in without an identity provider; `herald serve`
// enables it only in dev mode.
func (n *Node) serveDevToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		httpError(w, http.StatusMethodNotAllowed, "dev/token takes POST")
		return
	}
	if n.cfg.TokenSecret == "" {
		httpError(w, http.StatusServiceUnavailable, "dev login needs token_secret")
		return
	}
	var req struct {
		User string `json:"user"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096))
	dec.DisallowUnknownFields()
	err := dec.Decode(&req)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		httpError(w, http.StatusRequestTimeout, err.Error())
		return
	}
	if err != nil || req.User == "" || len(req.User) > 64 {
		httpError(w, http.StatusBadRequest, `send {"user":"name"} with a name of 1-64 characters`)
		return
	}
	token, err := auth.SignHS256(n.cfg.TokenSecret, auth.TokenOptions{User: req.User, TTL: devTokenTTL})
	if err != nil {
		httpError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"token": token, "user": req.User})
}

// serveDevConfig tells the demo pages the API key so the push page can
// post to /api/push from the browser. Dev mode only, like /dev/token:
// with dev_login on, anyone who reaches the server is trusted anyway.
func (n *Node) serveDevConfig(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		httpError(w, http.StatusMethodNotAllowed, "dev/config takes GET")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"dev": true, "api_key": n.cfg.APIKey})
}
