package core

import (
	"context"
	"time"

	"github.com/heraldhq/herald/internal/broker"
)

// info is this node's entry in the registry, with its figures now.
func (c *Core) info() broker.NodeInfo {
	st := c.Stats()
	return broker.NodeInfo{ID: c.id, Name: c.opts.Name, Version: c.opts.Version, Started: c.started,
		URL: c.ownURL(), Updated: time.Now(), Connections: st.Connections, Users: st.Users, Channels: st.Channels,
		Published: st.Published, Delivered: st.Delivered}
}

// announceLoop keeps this node in the registry with fresh figures.
func (c *Core) announceLoop() {
	every := c.opts.Announce
	if every <= 0 {
		every = 5 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), every)
		if err := c.registry.Announce(ctx, c.info()); err != nil {
			c.metrics.BrokerErrors.WithLabelValues("registry").Inc()
			c.log.Warn("announcing the node", "err", err)
		} else if nodes, err := c.registry.Nodes(ctx); err == nil {
			c.metrics.ClusterNodes.Set(float64(len(nodes)))
			c.learnURLs(nodes)
		}
		cancel()
		select {
		case <-c.stop:
			return
		case <-t.C:
		case <-c.addrs.kick:
		}
	}
}

// Nodes lists the cluster's live nodes, this one with its figures now.
func (c *Core) Nodes(ctx context.Context) ([]broker.NodeInfo, error) {
	nodes, err := c.registry.Nodes(ctx)
	if err != nil {
		return nil, c.readFailed("registry", "listing the nodes", err)
	}
	self := c.info()
	for i := range nodes {
		if nodes[i].ID == c.id {
			nodes[i] = self
			return nodes, nil
		}
	}
	nodes = append(nodes, self) // not announced yet
	broker.SortNodes(nodes)
	return nodes, nil
}

// liveNodes are the ids of the nodes a question to the cluster waits
// for; this one whatever the registry says.
func (c *Core) liveNodes(ctx context.Context) []string {
	nodes, err := c.registry.Nodes(ctx)
	if err != nil {
		c.log.Warn("listing the nodes", "err", err)
	}
	ids := []string{c.id}
	for _, n := range nodes {
		if n.ID != c.id {
			ids = append(ids, n.ID)
		}
	}
	return ids
}
