package main

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/testservices"
)

const roomNamespace = "namespaces:\n  room:\n    subscribe: anyone\n    presence: true\n"

// expiryMargin is what a dead node's traces may take past their TTL:
// the polling here, and a loaded machine.
const expiryMargin = 2 * time.Second

// deadNodeExpires kills a node holding a client present in a channel
// and checks that another node stops listing it within cluster.node_ttl
// and stops showing its client within cluster.presence_ttl.
func deadNodeExpires(t *testing.T, brokerURL string) {
	c := startCluster(t, 3, brokerURL, roomNamespace)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// No reconnect: a client that moved to another node would be present
	// there.
	cl, err := client.Dial(ctx, client.Options{URL: c.wsURLs(0)[0]})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ch := "room:kept"
	if _, err := cl.Subscribe(ctx, ch); err != nil {
		t.Fatal(err)
	}
	watcher := c.addrs[1]
	waitUntil(t, "the client present", 10*time.Second, func() bool { return presentIn(t, watcher, ch) == 1 })

	c.kill(t, 0)
	killed := time.Now()
	var nodesGone, presenceGone time.Duration
	deadline := killed.Add(clusterTTL + expiryMargin + time.Second)
	for (nodesGone == 0 || presenceGone == 0) && time.Now().Before(deadline) {
		if nodesGone == 0 && !slices.Contains(nodesListed(t, watcher), "node0") {
			nodesGone = time.Since(killed)
		}
		if presenceGone == 0 && presentIn(t, watcher, ch) == 0 {
			presenceGone = time.Since(killed)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if nodesGone == 0 || nodesGone > clusterTTL+expiryMargin {
		t.Fatalf("the dead node still listed %v after the kill (node_ttl %v)", time.Since(killed), clusterTTL)
	}
	if presenceGone == 0 || presenceGone > clusterTTL+expiryMargin {
		t.Fatalf("the dead node's client still present %v after the kill (presence_ttl %v)", time.Since(killed), clusterTTL)
	}
	t.Logf("node_ttl and presence_ttl %v: the dead node left the list after %v, its client's presence after %v",
		clusterTTL, nodesGone.Round(10*time.Millisecond), presenceGone.Round(10*time.Millisecond))
}

// presentIn is how many clients the node at addr shows present in ch. A
// broker too slow for the read (a 503: the machine is loaded) is asked
// again, a few times.
func presentIn(t *testing.T, addr, ch string) int {
	var p struct {
		Clients []struct {
			Client string `json:"client"`
		} `json:"clients"`
	}
	for try := 1; ; try++ {
		status := apiGet(t, addr, "/api/presence?channel="+ch, &p)
		switch {
		case status == 200:
			return len(p.Clients)
		case status == 503 && try < 5:
			t.Logf("presence on %s: 503, asking again", addr)
			time.Sleep(100 * time.Millisecond)
		default:
			t.Fatalf("presence on %s: HTTP %d", addr, status)
		}
	}
}

// nodesListed are the names of the nodes /api/info at addr lists.
func nodesListed(t *testing.T, addr string) []string {
	var info struct {
		Nodes []struct {
			Name string `json:"name"`
		} `json:"nodes"`
	}
	if status := apiGet(t, addr, "/api/info", &info); status != 200 {
		t.Fatalf("info on %s: HTTP %d", addr, status)
	}
	names := make([]string, len(info.Nodes))
	for i, n := range info.Nodes {
		names[i] = n.Name
	}
	return names
}

func waitUntil(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(within); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v", what, within)
		}
	}
}

func TestClusterDeadNodeExpiresOnRedis(t *testing.T) {
	deadNodeExpires(t, testservices.Redis(t))
}

func TestClusterDeadNodeExpiresOnNATS(t *testing.T) {
	deadNodeExpires(t, testservices.NATS(t))
}
