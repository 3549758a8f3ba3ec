//go:build loadtest

package bench

import (
	"fmt"
	"testing"

	"github.com/heraldhq/herald/internal/testservices"
)

// The cluster runs of fanout and idle: three nodes on the machine's
// Redis and on its NATS, tiny sizes. Every publication must reach every
// subscriber, two thirds of them through the broker, and every node must
// hold its share of the connections.

func TestClusterFanoutOnRedis(t *testing.T) { clusterFanout(t, testservices.Redis(t)) }
func TestClusterFanoutOnNATS(t *testing.T)  { clusterFanout(t, testservices.NATS(t)) }
func TestClusterIdleOnRedis(t *testing.T)   { clusterIdle(t, testservices.Redis(t)) }
func TestClusterIdleOnNATS(t *testing.T)    { clusterIdle(t, testservices.NATS(t)) }

func clusterFanout(t *testing.T, broker string) {
	bin := buildHerald(t)
	var r FanoutReport
	runBenchCLI(t, bin, &r, "fanout", "--nodes", "3", "--broker", broker, "--subs", "60", "--procs", "2",
		"--rate", "20", "--duration", "2s", "--json")
	if r.Nodes != 3 || r.Broker != broker || r.Procs != 3 || len(r.PerNode) != 3 {
		t.Fatalf("cluster: %d nodes on %q over %d workers, per node %+v", r.Nodes, r.Broker, r.Procs, r.PerNode)
	}
	if r.Subscribed != 60 || r.Sent != 40 || r.PublishErrors != 0 {
		t.Fatalf("setup: %d subscribed, %d sent, %d failed: %s", r.Subscribed, r.Sent, r.PublishErrors, r.FirstPublishError)
	}
	// Each node queues a publication for its own 20 subscribers only.
	if r.Expected != 2400 || r.Received != 2400 || r.Lost != 0 || r.Duplicates != 0 || r.ServerDelivered != 800 {
		t.Fatalf("deliveries: expected %d, received %d, lost %d, duplicates %d, queued on the publishing nodes %d",
			r.Expected, r.Received, r.Lost, r.Duplicates, r.ServerDelivered)
	}
	for i, n := range r.PerNode {
		if n.Name != fmt.Sprintf("node%d", i) || n.Conns != 20 || n.ServerConns != 20 || n.PID == 0 || n.RSSAfter == nil {
			t.Errorf("node %d: %+v", i, n)
		}
	}
	if r.ServerRSSAfter == nil || r.ServerRSSAfter.RSSKB != sumRSS(r.PerNode) || r.Latency.Count != 2400 {
		t.Errorf("server RSS %+v is not the nodes' %d; latency %+v", r.ServerRSSAfter, sumRSS(r.PerNode), r.Latency)
	}
}

func clusterIdle(t *testing.T, broker string) {
	bin := buildHerald(t)
	var r IdleReport
	runBenchCLI(t, bin, &r, "idle", "--nodes", "3", "--broker", broker, "--conns", "90", "--procs", "3",
		"--hold", "1s", "--settle", "500ms", "--json")
	if r.Nodes != 3 || len(r.PerNode) != 3 || r.Connected != 90 || r.Failed != 0 || r.ServerConns != 90 || r.ClosedDuring != 0 {
		t.Fatalf("connections: %d of %d, the nodes count %d, per node %+v", r.Connected, r.Conns, r.ServerConns, r.PerNode)
	}
	for i, n := range r.PerNode {
		if n.Conns != 30 || n.ServerConns != 30 || n.RSSBefore == nil || n.RSSSettled == nil || n.RSSAfter == nil || n.RSSPerConn == 0 {
			t.Errorf("node %d: %+v", i, n)
		}
	}
	if r.MemAfter == nil || r.MemAfter.RSSKB != sumRSS(r.PerNode) || r.RSSPerConn == 0 {
		t.Errorf("cluster memory %+v is not the nodes' %d", r.MemAfter, sumRSS(r.PerNode))
	}
}

func sumRSS(per []NodeFigures) int64 {
	var t int64
	for _, n := range per {
		if n.RSSAfter != nil {
			t += n.RSSAfter.RSSKB
		}
	}
	return t
}
