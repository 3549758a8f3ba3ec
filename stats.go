package herald

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"
)

// rates samples the node's counters once a second so pages can show
// messages per second without the API key.
type rates struct {
	// lastDelivered and lastPublished are the previous sample's totals;
	// delivered and publishedRate the per-second rates it produced.
	lastDelivered, lastPublished int64
	delivered, publishedRate     atomic.Int64
}

// sampleRates updates the per-second rates until the node shuts down.
func (n *Node) sampleRates(done <-chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			d, p := n.core.Hub().Delivered(), n.core.Published()
			n.rates.delivered.Store(d - n.rates.lastDelivered)
			n.rates.publishedRate.Store(p - n.rates.lastPublished)
			n.rates.lastDelivered, n.rates.lastPublished = d, p
		}
	}
}

// NodeInfo is a snapshot of a node's aggregate figures: /api/info and the
// public /stats show it (it names no user and no channel).
type NodeInfo struct {
	Node               string `json:"node"`
	Version            string `json:"version"`
	UptimeSeconds      int64  `json:"uptime_seconds"`
	Connections        int64  `json:"connections"`
	Users              int    `json:"users"`
	Channels           int    `json:"channels"`
	Delivered          int64  `json:"delivered"`
	PublishedPerSecond int64  `json:"published_per_second"`
	DeliveredPerSecond int64  `json:"delivered_per_second"`
}

// Info reports the node's aggregate figures.
func (n *Node) Info() NodeInfo {
	st := n.core.Stats()
	return NodeInfo{
		Node: n.core.ID(), Version: Version, UptimeSeconds: int64(time.Since(n.started) / time.Second),
		Connections: st.Connections, Users: st.Users, Channels: st.Channels,
		Delivered: st.Delivered, PublishedPerSecond: n.rates.publishedRate.Load(),
		DeliveredPerSecond: n.rates.delivered.Load(),
	}
}

func (n *Node) serveStats(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, n.Info())
}

// ClusterNode is one live node of the cluster, as the node registry
// holds it: its figures are those it last announced (every third of
// cluster.node_ttl), this node's are current.
type ClusterNode struct {
	ID      string `json:"id"`
	Name    string `json:"name,omitempty"`
	Version string `json:"version,omitempty"`
	// URL is where the other nodes reach this node (cluster.url).
	URL         string    `json:"url,omitempty"`
	Started     time.Time `json:"started"`
	Updated     time.Time `json:"updated"`
	Connections int64     `json:"connections"`
	Users       int       `json:"users"`
	Channels    int       `json:"channels"`
	Published   int64     `json:"published"`
	Delivered   int64     `json:"delivered"`
}

// Nodes lists the live nodes of the cluster, this one included, sorted
// by id. A node alone on the memory broker lists itself.
func (n *Node) Nodes(ctx context.Context) ([]ClusterNode, error) {
	nodes, err := n.core.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]ClusterNode, len(nodes))
	for i, b := range nodes {
		out[i] = ClusterNode(b)
	}
	return out, nil
}

// clusterInfo is /api/info: this node's figures and the cluster's nodes.
type clusterInfo struct {
	NodeInfo
	Nodes []ClusterNode `json:"nodes"`
}

func (n *Node) clusterInfo(ctx context.Context) (any, error) {
	nodes, err := n.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	return clusterInfo{NodeInfo: n.Info(), Nodes: nodes}, nil
}
