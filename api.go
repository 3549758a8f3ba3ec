package herald

import (
	"net/http"
	"strconv"

	"github.com/heraldhq/herald/internal/api"
)

// APIHandler serves the HTTP server API at /api/ alone. A request body
// must arrive within http.body_timeout.
func (n *Node) APIHandler() http.Handler { return n.limitBody(n.apiHandler()) }

func (n *Node) apiHandler() http.Handler {
	if n.cfg.APIKey == "" {
		n.log.Warn("api_key is not set: the server API refuses every request")
	}
	return api.New(n.core, api.Config{
		APIKey:      n.cfg.APIKey,
		MaxBody:     int64(n.cfg.Limits.MaxAPIBody),
		Publication: serverPublication,
		Info:        n.clusterInfo,
		Observe: func(endpoint string, status int) {
			n.core.Metrics().APIRequests.WithLabelValues(endpoint, strconv.Itoa(status)).Inc()
		},
	})
}
