package herald

import (
	"errors"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
)

// Option configures a Node beyond its Config.
type Option func(*Node) error

// WithLogger sets the logger. The default logs to stderr at the level the
// Config's log section asks for.
func WithLogger(l *slog.Logger) Option {
	return func(n *Node) error {
		if l == nil {
			return errors.New("herald: WithLogger(nil)")
		}
		n.log = l
		return nil
	}
}

// WithAuthenticator replaces JWT verification with fn.
func WithAuthenticator(fn Authenticator) Option {
	return func(n *Node) error {
		if fn == nil {
			return errors.New("herald: WithAuthenticator(nil)")
		}
		n.authenticate = fn
		return nil
	}
}

// WithHooks sets the application's hooks.
func WithHooks(h Hooks) Option {
	return func(n *Node) error {
		n.hooks = h
		return nil
	}
}

// WithRegistry registers the node's metrics in reg instead of a registry
// of the node's own. /metrics then serves reg.
func WithRegistry(reg *prometheus.Registry) Option {
	return func(n *Node) error {
		if reg == nil {
			return errors.New("herald: WithRegistry(nil)")
		}
		n.registry = reg
		return nil
	}
}
