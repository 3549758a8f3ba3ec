package bench

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/broker"
)

// A cluster run (--nodes N --broker redis|nats|URL) starts N `herald
// serve` processes on one broker, as one cluster with a prefix of its own
// (so that runs never see each other's keys and subjects, nor the tests'),
// sharing an API key and token secret as a real cluster's nodes do. Worker
// i connects to node i mod N, and publishes go round robin over the
// nodes: most deliveries cross the broker, as they do behind a load
// balancer. With --nodes 1 --broker memory a run is the one-node run it
// always was.

// clusterFlags are --nodes and --broker.
type clusterFlags struct {
	nodes  int
	broker string
}

// maxNodes bounds the nodes of a run: each is a process with its own
// memory, and the machine is small.
const maxNodes = 16

func (cf *clusterFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&cf.nodes, "nodes", 1, "herald nodes to start as one cluster on --broker: worker i connects to node i mod N, publishes go round robin over the nodes")
	fs.StringVar(&cf.broker, "broker", "memory", "what the nodes run on: memory (one node alone), redis or nats (the local servers on their standard ports), or a redis:// or nats:// URL on loopback")
}

// clustered says whether the run starts anything but today's one node.
func (cf *clusterFlags) clustered() bool { return cf.nodes != 1 || cf.broker != "memory" }

// check validates the flags against the common ones and returns procs,
// raised to a multiple of the nodes so that every node gets as many
// workers, and so as many connections, as the others.
func (cf *clusterFlags) check(c *common, procs int, stderr io.Writer) (int, error) {
	switch {
	case cf.nodes < 1 || cf.nodes > maxNodes:
		return 0, usagef("--nodes must be 1..%d", maxNodes)
	case c.url != "" && cf.clustered():
		return 0, usagef("--nodes and --broker start servers: they do not go with --url")
	case cf.nodes > 1 && cf.broker == "memory":
		return 0, usagef("--nodes %d needs a shared broker: --broker redis, nats or a URL", cf.nodes)
	}
	if err := checkBroker(cf.broker); err != nil {
		return 0, err
	}
	if r := procs % cf.nodes; r != 0 {
		procs += cf.nodes - r
		fmt.Fprintf(stderr, "bench: %d worker processes, a multiple of the %d nodes\n", procs, cf.nodes)
	}
	if procs > maxProcs {
		return 0, usagef("--procs: %d worker processes are too many", procs)
	}
	return procs, nil
}

// checkBroker accepts memory, redis, nats, or a Redis or NATS URL whose
// every host is on this machine: the bench sends its load to loopback only.
func checkBroker(b string) error {
	switch b {
	case "memory", "redis", "nats":
		return nil
	}
	for _, one := range strings.Split(b, ",") {
		u, err := url.Parse(strings.TrimSpace(one))
		if err != nil || u.Host == "" {
			return usagef("--broker must be memory, redis, nats or a redis://, rediss:// or nats:// URL, got %q", b)
		}
		switch u.Scheme {
		case "redis", "rediss", "nats":
		default:
			return usagef("--broker: unknown scheme %q", u.Scheme)
		}
		hosts := []string{u.Hostname()}
		for _, seed := range u.Query()["addr"] { // more Redis seeds, host:port
			hosts = append(hosts, hostOf(seed))
		}
		for _, h := range hosts {
			if !isLoopback(h) {
				return usagef("--broker must be on a loopback address, got %q", h)
			}
		}
	}
	return nil
}

// hostOf strips the port of host:port.
func hostOf(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

// start starts the run's servers: today's one node when not clustered,
// else the nodes of one cluster, ready once every node lists them all.
func (cf *clusterFlags) start(ctx context.Context, c *common, env Env) (nodes, error) {
	if !cf.clustered() {
		srv, err := c.connect(ctx, env)
		if err != nil {
			return nil, err
		}
		return nodes{srv}, nil
	}
	prefix, apiKey, secret := "bench-"+randomHex(4), "bench-"+randomHex(16), randomHex(32)
	var ns nodes
	for i := range cf.nodes {
		t, port, logf, err := newChildTarget("herald-bench-")
		if err == nil {
			t.name, t.apiKey, t.tokenSecret = fmt.Sprintf("node%d", i), apiKey, secret
			t.broker, t.prefix = cf.broker, prefix
			err = t.serve(ctx, env.Executable, nil, port, logf, clusterYAML(cf.broker, prefix, t.name))
		}
		if err != nil {
			ns.stop()
			return nil, fmt.Errorf("node %d of %d: %w", i, cf.nodes, err)
		}
		ns = append(ns, t)
	}
	if err := ns.waitListed(ctx, 30*time.Second); err != nil {
		ns.stop()
		return nil, err
	}
	return ns, nil
}

// clusterYAML is the part of a node's config that makes it a node.
func clusterYAML(broker, prefix, name string) string {
	return fmt.Sprintf("broker: %q\ncluster:\n  prefix: %q\n  node_name: %q\n", broker, prefix, name)
}

// nodes are the servers of a run: one, or the nodes of a cluster.
type nodes []*target

// waitListed waits until every node lists all of them in /api/info: only
// then does a publish on one reach subscribers on every other.
func (ns nodes) waitListed(ctx context.Context, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for _, t := range ns {
		for {
			info, err := t.info(ctx)
			if list, ok := info["nodes"].([]any); err == nil && ok && len(list) == len(ns) {
				break
			}
			if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
				return fmt.Errorf("%s does not list the %d nodes within %s: %v %s", t.name, len(ns), limit, info["nodes"], t.logTail())
			}
		}
	}
	return nil
}

// stop stops every node at once, then deletes what a cluster kept in
// its broker: the run's prefix is its own.
func (ns nodes) stop() {
	var wg sync.WaitGroup
	for _, t := range ns {
		wg.Go(t.stop)
	}
	wg.Wait()
	if len(ns) == 0 || ns[0].prefix == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := broker.ForgetPrefix(ctx, brokerURL(ns[0].broker), ns[0].prefix); err != nil {
		fmt.Fprintf(os.Stderr, "bench: deleting the cluster's keys and streams under %s: %v\n", ns[0].prefix, err)
	}
}

// brokerURL is the URL --broker names.
func brokerURL(b string) string {
	switch b {
	case "redis":
		return broker.LocalRedis
	case "nats":
		return broker.LocalNATS
	}
	return strings.SplitN(b, ",", 2)[0]
}

// exited returns an error naming the first node that is no longer
// running, with the end of its log.
func (ns nodes) exited() error {
	for _, t := range ns {
		if !t.alive() {
			return fmt.Errorf("the server exited: %s %s", t.name, t.logTail())
		}
	}
	return nil
}

// pids lists the nodes' processes, for CPU accounting; those unknown (a
// --url server without --server-pid) are left out.
func (ns nodes) pids() []int {
	var out []int
	for _, t := range ns {
		if t.pid != 0 {
			out = append(out, t.pid)
		}
	}
	return out
}

// measured says whether every node's memory and CPU can be read.
func (ns nodes) measured() bool { return len(ns.pids()) == len(ns) }

// mems reads every node's memory; nil when not measured.
func (ns nodes) mems() ([]Mem, error) {
	if !ns.measured() {
		return nil, nil
	}
	out := make([]Mem, len(ns))
	for i, t := range ns {
		m, err := ReadMem(t.pid)
		if err != nil {
			return nil, fmt.Errorf("reading the server's memory: %s %w %s", t.name, err, t.logTail())
		}
		out[i] = m
	}
	return out, nil
}

// cpus reads every node's CPU time; nil when not measured, or when a node
// went away.
func (ns nodes) cpus() []CPUTime {
	if !ns.measured() {
		return nil
	}
	out := make([]CPUTime, len(ns))
	for i, t := range ns {
		c, err := ReadCPU(t.pid)
		if err != nil {
			return nil
		}
		out[i] = c
	}
	return out
}

// connections asks every node for its count of connections (/api/info);
// -1 for a node that does not say.
func (ns nodes) connections(ctx context.Context) []int64 {
	out := make([]int64, len(ns))
	for i, t := range ns {
		out[i] = -1
		if info, err := t.info(ctx); err == nil {
			if v, ok := info["connections"].(float64); ok {
				out[i] = int64(v)
			}
		}
	}
	return out
}

// sumMem adds up the nodes' memory: the cluster's. VmHWM adds up the
// nodes' peaks, which need not have been at the same moment.
func sumMem(ms []Mem) *Mem {
	if ms == nil {
		return nil
	}
	var t Mem
	for _, m := range ms {
		t.RSSKB += m.RSSKB
		t.AnonKB += m.AnonKB
		t.PSSKB += m.PSSKB
		t.PrivateKB += m.PrivateKB
		t.Threads += m.Threads
		t.VmHWMKB += m.VmHWMKB
		t.FDs += m.FDs
		t.At = max(t.At, m.At)
	}
	return &t
}

// cpuPercents is each node's CPU between two readings; nil unless both
// readings have every node.
func cpuPercents(a, b []CPUTime) []float64 {
	if len(a) == 0 || len(a) != len(b) {
		return nil
	}
	out := make([]float64, len(a))
	for i := range a {
		out[i] = CPUPercent(a[i], b[i])
	}
	return out
}

func sum[T int64 | float64](xs []T) T {
	var t T
	for _, x := range xs {
		t += x
	}
	return t
}

// nodeShares is how many of a run's connections go to each node, when
// worker i (of shares) connects to node i mod n.
func nodeShares(shares []int, n int) []int {
	out := make([]int, n)
	for i, s := range shares {
		out[i%n] += s
	}
	return out
}

// publishURLs are the nodes' POST /api/publish endpoints.
func (ns nodes) publishURLs() []string {
	var out []string
	for _, t := range ns {
		out = append(out, t.httpURL+"/api/publish")
	}
	return out
}

// NodeFigures is one node of a cluster run.
type NodeFigures struct {
	Name string `json:"name"`
	PID  int    `json:"pid"`
	// Conns is how many of the workers' connections go to the node;
	// ServerConns is its own count (/api/info), -1 if it did not say.
	Conns       int     `json:"conns"`
	ServerConns int64   `json:"server_connections"`
	CPUPercent  float64 `json:"cpu_percent"` // fanout: while publishing; idle: during the hold
	RSSBefore   *Mem    `json:"rss_before,omitempty"`
	RSSSettled  *Mem    `json:"rss_connected,omitempty"` // idle: once connected and settled
	RSSAfter    *Mem    `json:"rss_after,omitempty"`
	// RSSPerConn (idle) is (RSSAfter - RSSBefore) / connections, bytes.
	RSSPerConn float64 `json:"rss_per_conn_bytes,omitempty"`
}

// figures starts the per-node figures of a run whose worker shares are
// shares; nil for a server alone, whose figures are the run's.
func (ns nodes) figures(shares []int) []NodeFigures {
	if len(ns) < 2 {
		return nil
	}
	per := nodeShares(shares, len(ns))
	out := make([]NodeFigures, len(ns))
	for i, t := range ns {
		out[i] = NodeFigures{Name: t.name, PID: t.pid, Conns: per[i], ServerConns: -1}
	}
	return out
}

// memAt is &ms[i], or nil when ms does not have it.
func memAt(ms []Mem, i int) *Mem {
	if i >= len(ms) {
		return nil
	}
	return &ms[i]
}

// printNodes prints a cluster run's nodes, one line each.
func printNodes(w io.Writer, broker string, per []NodeFigures) {
	if len(per) == 0 {
		return
	}
	fmt.Fprintf(w, "cluster\t%d nodes on broker %s\n", len(per), broker)
	for _, n := range per {
		fmt.Fprintf(w, "  %s\t%d connections (its count: %d), CPU %.0f%%, RSS %s → %s", n.Name, n.Conns, n.ServerConns,
			n.CPUPercent, kb(n.RSSBefore, func(m *Mem) int64 { return m.RSSKB }), kb(n.RSSAfter, func(m *Mem) int64 { return m.RSSKB }))
		if n.RSSPerConn != 0 {
			fmt.Fprintf(w, ", %.0f B per connection", n.RSSPerConn)
		}
		fmt.Fprintln(w)
	}
}

// setServerConns fills in each node's own count of its connections.
func setServerConns(per []NodeFigures, counts []int64) {
	for i := range per {
		per[i].ServerConns = counts[i]
	}
}

// goroutines is every node's go_goroutines; -1 for a node that does not
// export it.
func (ns nodes) goroutines(ctx context.Context) []int64 {
	out := make([]int64, len(ns))
	for i, t := range ns {
		out[i] = int64(t.goroutines(ctx))
	}
	return out
}

// sumKnown adds up the nodes' counts; -1 when a node did not say.
func sumKnown(xs []int64) int64 {
	var t int64
	for _, x := range xs {
		if x < 0 {
			return -1
		}
		t += x
	}
	return t
}

// logTails is the end of every node's log.
func (ns nodes) logTails() string {
	var b strings.Builder
	for _, t := range ns {
		b.WriteString(t.logTail())
	}
	return b.String()
}
