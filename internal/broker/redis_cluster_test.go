package broker_test

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/broker/brokertest"
	"github.com/heraldhq/herald/internal/testservices"
)

// TestRedisClusterBackend runs the suite on a three-master Redis Cluster
// the test starts: the client finds the cluster from one node's URL, a
// channel's keys share a slot (a script touching keys of two slots
// fails), and pub/sub crosses the masters.
func TestRedisClusterBackend(t *testing.T) {
	t.Parallel()
	url := startCluster(t, 3)
	opts := broker.RedisOptions{URL: url, Prefix: "cluster", PresenceTTL: redisTestTTL, RegistryTTL: redisTestTTL}
	brokertest.Run(t, brokertest.Setup{
		NewNode: func(t *testing.T) broker.Backend {
			b, err := broker.NewRedisBackend(opts)
			if err != nil {
				t.Fatal(err)
			}
			return b
		},
		MultiNode:   true,
		PresenceTTL: redisTestTTL,
		RegistryTTL: redisTestTTL,
	})
}

// startCluster starts n cluster-enabled servers, joins them as masters
// and returns the URL of the first.
func startCluster(t *testing.T, n int) string {
	t.Helper()
	addrs := make([]string, n)
	for i := range addrs {
		addrs[i] = testservices.OwnRedis(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf").Addr
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v: %s", err, out)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if clusterReady(addrs) {
			return "redis://" + addrs[0]
		}
		if time.Now().After(deadline) {
			t.Fatal("the cluster did not come up")
		}
	}
}

func clusterReady(addrs []string) bool {
	for _, a := range addrs {
		host, port, _ := strings.Cut(a, ":")
		out, err := exec.Command("redis-cli", "-h", host, "-p", port, "cluster", "info").Output()
		if err != nil || !strings.Contains(string(out), "cluster_state:ok") {
			return false
		}
	}
	return true
}
