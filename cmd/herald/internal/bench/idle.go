package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"
)

// IdleReport is the outcome of `herald bench idle`.
type IdleReport struct {
	Scenario string `json:"scenario"`
	machine
	// Target and Server say what was measured, for `bench socketio`:
	// "herald" or "node", and the software and its settings.
	Target         string  `json:"target,omitempty"`
	Server         string  `json:"server,omitempty"`
	Conns          int     `json:"conns"`
	Procs          int     `json:"procs"`
	Connected      int     `json:"connected"`
	Failed         int     `json:"failed"`
	FirstError     string  `json:"first_error,omitempty"`
	ClosedDuring   int     `json:"closed_during_hold"`
	ConnectSeconds float64 `json:"connect_seconds"`
	ServerConns    int64   `json:"server_connections"` // the node's own count (/api/info), -1 if unknown
	HoldSeconds    float64 `json:"hold_seconds"`

	// Nodes and Broker say what a cluster run ran (--nodes, --broker),
	// PerNode each node's figures; the server figures below are then
	// the nodes' added up.
	Nodes   int           `json:"nodes,omitempty"`
	Broker  string        `json:"broker,omitempty"`
	PerNode []NodeFigures `json:"per_node,omitempty"`

	// Server memory: before any connection, once all are connected (and
	// settled), and at the end of the hold.
	MemBefore    *Mem `json:"rss_before,omitempty"`
	MemConnected *Mem `json:"rss_connected,omitempty"`
	MemAfter     *Mem `json:"rss_after_hold,omitempty"`
	// RSSPerConn is (MemAfter.RSS - MemBefore.RSS) / connected, in bytes.
	RSSPerConn          float64 `json:"rss_per_conn_bytes"`
	RSSPerConnConnected float64 `json:"rss_per_conn_bytes_at_connect"`
	AnonPerConn         float64 `json:"anon_per_conn_bytes"`
	// Kernel socket memory is not in the server's RSS; this is the whole
	// machine's unreclaimable slab and TCP buffer growth, both ends of
	// every loopback connection.
	KernelSlabPerConn   float64 `json:"kernel_slab_per_conn_bytes"`
	KernelTCPMemKBDelta int64   `json:"kernel_tcp_mem_kb_delta"`

	Goroutines       int     `json:"server_goroutines"` // -1: the server does not export go_goroutines
	ServerThreads    int64   `json:"server_threads"`
	ServerCPUPercent float64 `json:"server_cpu_percent_idle"` // 100 = one core
	WorkerCPUPercent float64 `json:"worker_cpu_percent_idle"` // all workers together
	Load             Load    `json:"load"`                    // the machine during the hold
	TargetRSSPerConn float64 `json:"target_rss_per_conn_bytes"`
	MeetsTarget      *bool   `json:"meets_target,omitempty"`
	// ServerMemory is the server's own account of its memory at the end
	// of the hold, when its /api/info gives one (the Node reference
	// server gives process.memoryUsage()).
	ServerMemory map[string]any `json:"server_reported_memory,omitempty"`
}

// idleTarget is the goal: at most 6 KB of server RSS per idle
// connection at 15,000 connections.
const idleTarget = 6 * 1024

func runIdle(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("bench idle", env.Stderr)
	var c common
	c.register(fs, 512)
	var cl clusterFlags
	cl.register(fs)
	conns := fs.Int("conns", 15000, "connections to hold")
	hold := fs.Duration("hold", 20*time.Second, "how long the connections idle while the server's CPU is measured")
	settle := fs.Duration("settle", 3*time.Second, "pause after connecting, before measuring")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("bench idle takes no arguments, got %q", fs.Args())
	}
	if *conns < 1 || *hold < 0 || *settle < 0 {
		return usagef("--conns must be positive, --hold and --settle not negative")
	}
	procs, err := c.check(*conns, env.Stderr)
	if err == nil {
		procs, err = cl.check(&c, procs, env.Stderr)
	}
	if err != nil {
		return err
	}

	rep := IdleReport{Scenario: "idle", machine: thisMachine("idle", args), Conns: *conns, Procs: procs,
		ServerConns: -1, Goroutines: -1, TargetRSSPerConn: idleTarget}
	if cl.clustered() {
		rep.Nodes, rep.Broker = cl.nodes, cl.broker
	}
	srvs, err := cl.start(ctx, &c, env)
	if err != nil {
		return interrupted(ctx, err)
	}
	defer srvs.stop()
	if err := c.measureIdle(ctx, env, srvs, *hold, *settle, &rep); err != nil {
		return err
	}
	return c.emit(env.Stdout, rep, func(w io.Writer) { printIdle(w, rep) })
}

// measureIdle holds rep.Conns connections to srvs over rep.Procs workers
// and fills in rep; rep.TargetRSSPerConn, when set, is checked.
func (c *common) measureIdle(ctx context.Context, env Env, srvs nodes, hold, settle time.Duration, rep *IdleReport) error {
	if err := sleepCtx(ctx, time.Second); err != nil { // let the server finish starting
		return errInterrupted
	}
	before, err := srvs.mems()
	if err != nil {
		return err
	}
	rep.MemBefore = sumMem(before)
	rep.PerNode = srvs.figures(spreadConns(rep.Conns, rep.Procs))
	slab0 := SlabKB()
	sock0, _ := ReadSockStat()

	// Workers outlive connecting, settling and holding, and a little more.
	deadline := c.setup + settle + hold + 2*time.Minute
	ws, tot, took, err := c.connectWorkers(ctx, env, srvs, deadline, rep.Conns, rep.Procs)
	if err != nil {
		return err
	}
	defer ws.stop(15 * time.Second)
	rep.ConnectSeconds = took
	rep.Connected, rep.Failed, rep.FirstError = tot.Connected, tot.Failed, tot.FirstError
	fmt.Fprintf(env.Stderr, "bench: %d connected, %d failed in %.1fs; settling %s, then holding %s\n",
		tot.Connected, tot.Failed, rep.ConnectSeconds, settle, hold)
	if err := sleepCtx(ctx, settle); err != nil {
		return errInterrupted
	}

	counts := srvs.connections(ctx)
	rep.ServerConns = sumKnown(counts)
	setServerConns(rep.PerNode, counts)
	rep.Goroutines = int(sumKnown(srvs.goroutines(ctx)))
	settled, err := srvs.mems()
	if err != nil {
		return err
	}
	rep.MemConnected = sumMem(settled)
	cpu0 := srvs.cpus()
	wcpu0 := cpuOf(ws.pids())
	meter := startLoad()
	if err := sleepCtx(ctx, hold); err != nil {
		return errInterrupted
	}
	wcpu1 := cpuOf(ws.pids())
	rep.Load = meter.stop(append(srvs.pids(), append([]int{os.Getpid()}, ws.pids()...)...), machineCores())
	rep.HoldSeconds = hold.Seconds()
	rep.WorkerCPUPercent = CPUPercent(wcpu0, wcpu1)
	var after []Mem
	if srvs.measured() {
		cpu1 := srvs.cpus()
		if cpu1 == nil {
			return fmt.Errorf("a server went away during the hold %s", srvs.logTails())
		}
		cpu := cpuPercents(cpu0, cpu1)
		rep.ServerCPUPercent = sum(cpu)
		after, _ = srvs.mems()
		rep.MemAfter = sumMem(after)
		if rep.MemAfter != nil {
			rep.ServerThreads = rep.MemAfter.Threads
		}
		rep.fillNodes(cpu, before, settled, after)
	}
	if len(srvs) == 1 {
		if info, err := srvs[0].info(ctx); err == nil {
			if m, ok := info["memory"].(map[string]any); ok {
				rep.ServerMemory = m
			}
		}
	}
	slab1 := SlabKB()
	sock1, _ := ReadSockStat()
	rep.ClosedDuring = ws.total().Closed

	if n := float64(rep.Connected); n > 0 {
		if rep.MemBefore != nil && rep.MemAfter != nil {
			rep.RSSPerConn = float64(rep.MemAfter.RSSKB-rep.MemBefore.RSSKB) * 1024 / n
			rep.RSSPerConnConnected = float64(rep.MemConnected.RSSKB-rep.MemBefore.RSSKB) * 1024 / n
			rep.AnonPerConn = float64(rep.MemAfter.AnonKB-rep.MemBefore.AnonKB) * 1024 / n
			if rep.TargetRSSPerConn > 0 {
				ok := rep.RSSPerConn <= rep.TargetRSSPerConn && rep.Connected == rep.Conns
				rep.MeetsTarget = &ok
			}
		}
		rep.KernelSlabPerConn = float64(slab1-slab0) * 1024 / n
	}
	rep.KernelTCPMemKBDelta = sock1.TCPMemKB - sock0.TCPMemKB

	ws.stop(15 * time.Second)
	return nil
}

// fillNodes adds each node's CPU and memory to a cluster run's report;
// RSS per connection is by the node's own count of its connections.
func (rep *IdleReport) fillNodes(cpu []float64, before, settled, after []Mem) {
	for i := range rep.PerNode {
		n := &rep.PerNode[i]
		if i < len(cpu) {
			n.CPUPercent = cpu[i]
		}
		n.RSSBefore, n.RSSSettled, n.RSSAfter = memAt(before, i), memAt(settled, i), memAt(after, i)
		conns := float64(n.ServerConns)
		if conns <= 0 {
			conns = float64(n.Conns)
		}
		if n.RSSBefore != nil && n.RSSAfter != nil && conns > 0 {
			n.RSSPerConn = float64(n.RSSAfter.RSSKB-n.RSSBefore.RSSKB) * 1024 / conns
		}
	}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func kb(m *Mem, f func(*Mem) int64) string {
	if m == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.1f MB", float64(f(m))/1024)
}

func printIdle(w io.Writer, r IdleReport) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "herald bench %s\t%s\n", r.Scenario, r.Date)
	fmt.Fprintf(tw, "machine\t%d CPUs (%d usable here), %s, kernel %s\n", r.CPUs, r.Usable, r.GoVersion, r.Kernel)
	if r.Server != "" {
		fmt.Fprintf(tw, "server\t%s: %s\n", r.Target, r.Server)
	}
	printNodes(tw, r.Broker, r.PerNode)
	fmt.Fprintf(tw, "connections\t%d of %d (%d failed) in %.1fs over %d worker processes\n", r.Connected, r.Conns, r.Failed, r.ConnectSeconds, r.Procs)
	if r.FirstError != "" {
		fmt.Fprintf(tw, "first error\t%s\n", r.FirstError)
	}
	if r.ServerConns >= 0 {
		fmt.Fprintf(tw, "server's count\t%d connections\n", r.ServerConns)
	}
	fmt.Fprintf(tw, "closed during hold\t%d\n", r.ClosedDuring)
	rss := func(m *Mem) int64 { return m.RSSKB }
	anon := func(m *Mem) int64 { return m.AnonKB }
	fmt.Fprintf(tw, "server RSS before\t%s (anon %s)\n", kb(r.MemBefore, rss), kb(r.MemBefore, anon))
	fmt.Fprintf(tw, "server RSS connected\t%s (anon %s)\n", kb(r.MemConnected, rss), kb(r.MemConnected, anon))
	fmt.Fprintf(tw, "server RSS after hold\t%s (anon %s)\n", kb(r.MemAfter, rss), kb(r.MemAfter, anon))
	if r.MemAfter != nil {
		verdict := "MISSED"
		if r.MeetsTarget != nil && *r.MeetsTarget {
			verdict = "met"
		}
		if r.TargetRSSPerConn > 0 {
			fmt.Fprintf(tw, "RSS per connection\t%.0f B after hold, %.0f B at connect (target ≤ %.0f B: %s)\n",
				r.RSSPerConn, r.RSSPerConnConnected, r.TargetRSSPerConn, verdict)
		} else {
			fmt.Fprintf(tw, "RSS per connection\t%.0f B after hold, %.0f B at connect\n", r.RSSPerConn, r.RSSPerConnConnected)
		}
		if m := r.ServerMemory; m != nil {
			fmt.Fprintf(tw, "server's own account\t%s\n", describeNodeMemory(m))
		}
		fmt.Fprintf(tw, "server CPU while idle\t%.2f%% of one core over %.0fs\n", r.ServerCPUPercent, r.HoldSeconds)
		fmt.Fprintf(tw, "server threads\t%d\n", r.ServerThreads)
	} else {
		fmt.Fprintf(tw, "server memory, CPU\tn/a (give --server-pid)\n")
	}
	if r.Target == "node" {
		// no goroutines to count
	} else if r.Goroutines >= 0 {
		fmt.Fprintf(tw, "server goroutines\t%d\n", r.Goroutines)
	} else {
		fmt.Fprintf(tw, "server goroutines\tn/a (no go_goroutines in /metrics)\n")
	}
	fmt.Fprintf(tw, "kernel (whole machine)\t%.0f B slab per connection, TCP buffers %+d KB\n", r.KernelSlabPerConn, r.KernelTCPMemKBDelta)
	fmt.Fprintf(tw, "worker CPU while idle\t%.2f%% of one core\n", r.WorkerCPUPercent)
	printLoad(tw, r.Load)
	tw.Flush()
}

// printLoad says how busy the machine was, and warns when other people's
// work took a noticeable share: the figures are then pessimistic.
func printLoad(w io.Writer, l Load) {
	fmt.Fprintf(w, "machine CPU\t%.0f%% of %d00%%: bench processes %.0f%%, other processes %.0f%%, kernel threads %.0f%%, unattributed %.0f%% (softirq in all: %.0f%%)\n",
		l.MachinePercent, l.Cores, l.OursPercent, l.OtherPercent, l.KernelPercent, l.UnattributedPercent, l.SoftIRQPercent)
	if l.OtherPercent+l.UnattributedPercent >= 20 {
		fmt.Fprintf(w, "WARNING\t%.0f%% of a core went to other processes or is unattributed: the machine was probably shared, figures are pessimistic\n",
			l.OtherPercent+l.UnattributedPercent)
	}
}
