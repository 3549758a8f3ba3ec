package bench

import (
	"io"
	"slices"
	"strings"
	"testing"
)

func TestCheckBroker(t *testing.T) {
	for _, b := range []string{"memory", "redis", "nats", "redis://127.0.0.1:6379", "redis://u:p@localhost:6380/2",
		"rediss://127.0.0.1:6379", "redis://127.0.0.1:26379?master_set=m&addr=127.0.0.2:26379",
		"nats://127.0.0.1:4222", "nats://127.0.0.1:4222,nats://127.0.0.2:4223", "redis://[::1]:6379"} {
		if err := checkBroker(b); err != nil {
			t.Errorf("checkBroker(%q) = %v", b, err)
		}
	}
	for _, b := range []string{"", "Redis", "127.0.0.1:6379", "http://127.0.0.1:6379", "redis://10.0.0.1:6379",
		"redis://127.0.0.1:26379?master_set=m&addr=10.0.0.2:26379", "nats://127.0.0.1:4222,nats://example.com:4222"} {
		if err := checkBroker(b); err == nil {
			t.Errorf("checkBroker(%q) accepted", b)
		}
	}
}

// TestClusterProcs checks that a cluster run gives every node as many
// workers, and so as many connections, as the others.
func TestClusterProcs(t *testing.T) {
	for _, tt := range []struct{ nodes, procs, want int }{{1, 3, 3}, {3, 3, 3}, {3, 4, 6}, {2, 3, 4}, {3, 1, 3}, {3, 6, 6}} {
		cf := clusterFlags{nodes: tt.nodes, broker: "redis"}
		got, err := cf.check(&common{}, tt.procs, io.Discard)
		if err != nil || got != tt.want {
			t.Errorf("%d nodes, %d procs: %d, %v; want %d", tt.nodes, tt.procs, got, err, tt.want)
		}
	}
	shares := spreadConns(54000, 6)
	if got := nodeShares(shares, 3); !slices.Equal(got, []int{18000, 18000, 18000}) {
		t.Errorf("54000 over 6 workers and 3 nodes: %v", got)
	}
	if got := nodeShares(spreadConns(10001, 3), 3); !slices.Equal(got, []int{3334, 3334, 3333}) {
		t.Errorf("10001 over 3 workers and 3 nodes: %v", got)
	}
}

func TestClusterFlagsAloneAreTodaysRun(t *testing.T) {
	cf := clusterFlags{nodes: 1, broker: "memory"}
	if cf.clustered() {
		t.Error("--nodes 1 --broker memory is a cluster run")
	}
	if (&clusterFlags{nodes: 1, broker: "redis"}).clustered() != true {
		t.Error("one node on Redis is not a cluster run")
	}
	if got := (nodes{{}}).figures([]int{5, 5}); got != nil {
		t.Errorf("one node has per-node figures: %v", got)
	}
}

func TestClusterYAML(t *testing.T) {
	y := clusterYAML("redis://127.0.0.1:6379", "bench-ab12", "node2")
	for _, want := range []string{`broker: "redis://127.0.0.1:6379"`, "cluster:\n", `  prefix: "bench-ab12"`, `  node_name: "node2"`} {
		if !strings.Contains(y, want) {
			t.Errorf("cluster YAML %q lacks %q", y, want)
		}
	}
}

func TestSumMem(t *testing.T) {
	if sumMem(nil) != nil {
		t.Error("no nodes' memory is not nil")
	}
	one := Mem{RSSKB: 10, AnonKB: 5, Threads: 3, VmHWMKB: 12, At: 7}
	if got := sumMem([]Mem{one}); *got != one {
		t.Errorf("one node: %+v, want %+v", *got, one)
	}
	got := sumMem([]Mem{one, {RSSKB: 1, AnonKB: 1, Threads: 1, VmHWMKB: 2, At: 9}})
	if want := (Mem{RSSKB: 11, AnonKB: 6, Threads: 4, VmHWMKB: 14, At: 9}); *got != want {
		t.Errorf("two nodes: %+v, want %+v", *got, want)
	}
	if sumKnown([]int64{3, 4}) != 7 || sumKnown([]int64{3, -1}) != -1 {
		t.Error("sumKnown")
	}
}

func TestBrokerPort(t *testing.T) {
	for b, want := range map[string]int{"redis": 6379, "nats": 4222, "redis://127.0.0.1:6380/1": 6380,
		"nats://127.0.0.1": 4222, "rediss://localhost": 6379, "nats://127.0.0.1:4223,nats://127.0.0.1:4224": 4223} {
		if got := brokerPort(b); got != want {
			t.Errorf("brokerPort(%q) = %d, want %d", b, got, want)
		}
	}
}
