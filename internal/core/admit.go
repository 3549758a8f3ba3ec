package core

import (
	"net/http"
	"net/url"
	"strings"
)

// Admit decides whether a new connection of any protocol may start:
// shutdown, the request's origin and the node's connection limit. With
// reserve it also takes the connection's slot, so two connections racing
// for the last one cannot both get it; the caller gives it back with
// Release when the connection ends (or fails to start). A refusal's Code
// is the HTTP status to answer with.
func (c *Core) Admit(r *http.Request, reserve bool) *Error {
	switch {
	case c.closing.Load():
		return refuse(http.StatusServiceUnavailable, ErrShuttingDown, "server is shutting down")
	case !c.OriginAllowed(r):
		c.metrics.OriginRejected.Inc()
		return forbidden("origin %s is not allowed", r.Header.Get("Origin"))
	}
	if reserve {
		return c.Reserve()
	}
	if c.conns.Load() >= int64(c.cfg.Limits.MaxConnections) {
		return c.full()
	}
	return nil
}

// Reserve takes a connection slot, refusing when the node is full.
func (c *Core) Reserve() *Error {
	if c.conns.Add(1) > int64(c.cfg.Limits.MaxConnections) {
		c.conns.Add(-1)
		return c.full()
	}
	return nil
}

func (c *Core) full() *Error {
	c.metrics.ConnectionsRejected.WithLabelValues("node_limit").Inc()
	return &Error{Code: http.StatusServiceUnavailable, Close: CloseTryAgainLater, Message: "too many connections: try again later"}
}

// Release gives back a slot Admit or Reserve took.
func (c *Core) Release() { c.conns.Add(-1) }

// OriginAllowed accepts requests without an Origin (not from a browser),
// from the request's own host, and from the configured origins.
func (c *Core) OriginAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	for _, o := range c.cfg.AllowedOrigins {
		if o == "*" || strings.EqualFold(strings.TrimSuffix(o, "/"), origin) {
			return true
		}
	}
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}
