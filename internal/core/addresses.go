package core

import (
	"context"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/broker"
)

// Nodes on a shared broker reach each other over HTTP for what only one
// of them can serve: a long-polling request for a session it holds. Each
// announces the URL it is reached at; the others keep the URLs of the
// last registry read (made with every announce) and read it again, at
// most once a second, when asked for a node they do not know yet (one
// that joined since).

// refreshEvery bounds how often an unknown node makes a registry read.
const refreshEvery = time.Second

// addresses are the nodes' URLs as this node knows them.
type addresses struct {
	mu     sync.Mutex
	own    string
	byNode map[string]string
	// missed is when a node asked for was last missing from byNode: a
	// miss reads the registry again, at most once per refreshEvery.
	missed time.Time
	// kick asks the announce loop to announce now (a new own URL).
	kick chan struct{}
}

// Advertise sets the URL the other nodes reach this node's HTTP server
// at, and announces it at once.
func (c *Core) Advertise(url string) {
	c.addrs.mu.Lock()
	c.addrs.own = url
	c.addrs.mu.Unlock()
	select {
	case c.addrs.kick <- struct{}{}:
	default:
	}
}

func (c *Core) ownURL() string {
	c.addrs.mu.Lock()
	defer c.addrs.mu.Unlock()
	return c.addrs.own
}

// NodeURL is the URL node id announced, if it is a live node.
func (c *Core) NodeURL(ctx context.Context, id string) (string, bool) {
	url, _ := c.lookupNode(ctx, id, func(url string, ok bool) bool { return ok && url != "" })
	return url, url != ""
}

// NodeLive reports whether node id is a live node, as the last registry
// read had it (read again if it did not list the node).
func (c *Core) NodeLive(ctx context.Context, id string) bool {
	_, ok := c.lookupNode(ctx, id, func(_ string, ok bool) bool { return ok })
	return ok
}

// lookupNode finds node id in the last registry read; unless found says
// that will do, it reads the registry again, at most once per
// refreshEvery.
func (c *Core) lookupNode(ctx context.Context, id string, found func(url string, ok bool) bool) (string, bool) {
	a := &c.addrs
	a.mu.Lock()
	url, ok := a.byNode[id]
	if found(url, ok) || time.Since(a.missed) < refreshEvery {
		a.mu.Unlock()
		return url, ok
	}
	a.missed = time.Now()
	a.mu.Unlock()
	nodes, err := c.registry.Nodes(ctx)
	if err != nil {
		c.log.Warn("listing the nodes", "err", err)
		return "", false
	}
	c.learnURLs(nodes)
	a.mu.Lock()
	defer a.mu.Unlock()
	url, ok = a.byNode[id]
	return url, ok
}

// learnURLs keeps the URLs of a registry read.
func (c *Core) learnURLs(nodes []broker.NodeInfo) {
	m := make(map[string]string, len(nodes))
	for _, n := range nodes {
		m[n.ID] = n.URL
	}
	c.addrs.mu.Lock()
	c.addrs.byNode = m
	c.addrs.mu.Unlock()
}
