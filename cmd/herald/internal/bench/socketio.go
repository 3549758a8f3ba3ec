package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// `herald bench socketio` runs the idle and fan-out scenarios with
// Socket.IO v4 clients (WebSocket transport) against herald, the Node
// reference server (npm socket.io, bench/nodesio), or both one after the
// other in the same run, and compares them.

// SocketIOUsage describes `herald bench socketio`.
const SocketIOUsage = `herald bench socketio — Socket.IO v4 clients against herald and the Node reference server

Usage:
  herald bench socketio idle   [--target herald|node|both] [--conns 15000] [--hold 20s] [--procs 3] [--json]
  herald bench socketio fanout [--target herald|node|both] [--subs 10000] [--rate 50 | --rates 25,50,100]
                               [--duration 15s] [--size 64] [--max-p99 1s] [--procs 3] [--json]

Every connection opens /socket.io/?EIO=4&transport=websocket, reads the
Engine.IO open packet, connects to namespace "/" ("40"), joins room
"bench" with the event 421["herald:join","bench"] (built into herald; the
Node server handles it the same way) and answers Engine.IO pings. Fan-out
publishes POST /api/publish {"channel":"bench","event":"tick","data":…}
to both servers alike.

--target herald runs this binary's serve (connection state recovery on,
herald's default; --recovery=false turns it off); --target node runs
bench/nodesio/server.js (found above the working directory, or
--node-dir), installed with npm ci into a temporary copy, with Node's
default flags and socket.io's defaults (recovery off; --node-recovery
turns it on); --target both measures herald, then node, and compares.
--url ws://127.0.0.1:PORT (its /socket.io/ endpoint is used) with
--target herald or node, --server-pid and --api-key measures a server
you started.

fanout --rates runs a sweep: every rate against every target, each step a
fresh server and fresh connections, and a target's sweep stops at its
first step that is not sustained (--keep-going runs them all). A step is
sustained when every subscriber connected, every publish succeeded and
kept to the rate, every delivery arrived exactly once, no connection was
closed, and p99 latency ≤ --max-p99. A target's throughput is the
deliveries/s of its best sustained step. Each run first waits (at most
--quiet-wait) for the machine to be quiet, and a step not sustained while
other processes took ≥ 20% of a core is run again (--retries).
`

// SocketIOReport is the outcome of `herald bench socketio`.
type SocketIOReport struct {
	Scenario string `json:"scenario"`
	machine
	Node    *NodeVersions  `json:"node,omitempty"`
	Idle    []IdleReport   `json:"idle,omitempty"`
	Fanout  []FanoutReport `json:"fanout,omitempty"`
	Summary SIOSummary     `json:"summary"`
}

// SIOSummary compares the targets.
type SIOSummary struct {
	Targets []SIOTargetSummary `json:"targets"`
	// herald / node, when both were measured.
	RSSPerConnRatio float64 `json:"rss_per_conn_ratio,omitempty"`
	ThroughputRatio float64 `json:"throughput_ratio,omitempty"`
	// ThroughputRatioAtLeast: herald's ceiling was above every rate tried,
	// so the ratio is a lower bound.
	ThroughputRatioAtLeast bool `json:"throughput_ratio_is_lower_bound,omitempty"`
	// The targets: herald at most 1/5 of Node's memory per
	// connection, at least 5x its fan-out throughput.
	MeetsMemoryTarget     *bool  `json:"meets_memory_target,omitempty"`
	MeetsThroughputTarget *bool  `json:"meets_throughput_target,omitempty"`
	Note                  string `json:"note,omitempty"`
}

// SIOTargetSummary is one target's figures.
type SIOTargetSummary struct {
	Target string `json:"target"`
	Server string `json:"server"`
	// idle
	RSSPerConn float64 `json:"rss_per_conn_bytes,omitempty"`
	// fanout: the best sustained step, and the first that was not.
	SustainedRate       int     `json:"sustained_rate,omitempty"`
	Throughput          float64 `json:"throughput_deliveries_per_sec,omitempty"`
	P50                 float64 `json:"p50_ms,omitempty"`
	P99                 float64 `json:"p99_ms,omitempty"`
	ServerCPUPercent    float64 `json:"server_cpu_percent,omitempty"`
	FirstUnsustained    int     `json:"first_unsustained_rate,omitempty"`
	FirstUnsustainedWhy string  `json:"first_unsustained_why,omitempty"`
}

// The targets for herald against the Node reference server.
const (
	sioThroughputTarget = 5.0 // herald's sustained fan-out ≥ 5x Node's
	sioMemoryTarget     = 0.2 // herald's RSS per idle connection ≤ 1/5 of Node's
)

func runSocketIO(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, SocketIOUsage)
		return usagef("bench socketio needs a scenario: idle or fanout")
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "idle":
		return runSIOIdle(ctx, rest, env)
	case "fanout":
		return runSIOFanout(ctx, rest, env)
	case "-h", "--help", "help":
		fmt.Fprint(env.Stdout, SocketIOUsage)
		return flag.ErrHelp
	default:
		fmt.Fprint(env.Stderr, SocketIOUsage)
		return usagef("unknown bench socketio scenario %q: use idle or fanout", cmd)
	}
}

// sioCommon are the flags of both Socket.IO scenarios.
type sioCommon struct {
	common
	target       string
	nodeDir      string
	recovery     bool
	nodeRecovery bool
	quietWait    time.Duration
	retries      int
	node         *nodeRef // installed when a target is node
}

func (c *sioCommon) register(fs *flag.FlagSet, readBuf int) {
	c.common.register(fs, readBuf)
	fs.StringVar(&c.target, "target", "herald", "server to measure: herald (this binary's serve), node (the Node reference server) or both")
	fs.StringVar(&c.nodeDir, "node-dir", "", "folder of the Node reference server (default: bench/nodesio above the working directory)")
	fs.BoolVar(&c.recovery, "recovery", true, "herald: Socket.IO connection state recovery on (herald's default)")
	fs.BoolVar(&c.nodeRecovery, "node-recovery", false, "node: connection state recovery on (socket.io's default is off)")
	fs.StringVar(&c.event, "event", "tick", "event name of the publications")
	fs.DurationVar(&c.quietWait, "quiet-wait", 2*time.Minute, "before each run, wait at most this long for the machine to be quiet (<10% busy for 3s); 0: do not wait")
	fs.IntVar(&c.retries, "retries", 1, "fanout: run a step again, at most this many times, when it was not sustained while other processes took ≥ 20% of a core")
	c.proto = protoSocketIO
}

// targets checks the Socket.IO flags and lists the targets in order.
func (c *sioCommon) targets() ([]string, error) {
	var list []string
	switch c.target {
	case "herald", "node":
		list = []string{c.target}
	case "both":
		list = []string{"herald", "node"}
	default:
		return nil, usagef("--target must be herald, node or both")
	}
	if c.event == "" || strings.ContainsAny(c.event, "\"\\") {
		return nil, usagef("--event must be a plain non-empty name")
	}
	if c.quietWait < 0 || c.retries < 0 || c.retries > 5 {
		return nil, usagef("--quiet-wait must not be negative, --retries must be 0..5")
	}
	if c.url != "" && len(list) > 1 {
		return nil, usagef("--url measures one server: give --target herald or node with it")
	}
	return list, nil
}

// prepare installs the Node reference server if a target needs it.
func (c *sioCommon) prepare(ctx context.Context, targets []string, env Env) error {
	if c.url != "" || !slices.Contains(targets, "node") {
		return nil
	}
	dir, err := findNodeDir(c.nodeDir)
	if err != nil {
		return err
	}
	c.node, err = prepareNode(ctx, dir, env.Stderr)
	return interrupted(ctx, err)
}

// versions are the Node reference server's, when it runs.
func (c *sioCommon) versions() *NodeVersions {
	if c.node == nil {
		return nil
	}
	v := c.node.versions
	return &v
}

// sioHeraldYAML is the config the spawned herald gets on top of the
// bench's own.
func sioHeraldYAML(recovery bool) string {
	if recovery {
		return ""
	}
	return "socketio:\n  recovery_window: -1s\n"
}

// start starts (or, with --url, finds) the named target and says what it
// is.
func (c *sioCommon) start(ctx context.Context, env Env, name string) (*target, string, error) {
	if c.url != "" {
		raw := c.url
		if u, err := url.Parse(raw); err == nil && (u.Path == "" || u.Path == "/") && u.Host != "" {
			raw = sioURL("http://" + u.Host)
		}
		t, err := externalTarget(ctx, raw, c.apiKey, c.serverPID)
		return t, name + " at " + raw, err
	}
	switch name {
	case "node":
		t, err := c.node.start(ctx, c.nodeRecovery)
		return t, c.node.describe(c.nodeRecovery), err
	default:
		t, err := startServerConfig(ctx, env.Executable, nil, sioHeraldYAML(c.recovery))
		if err != nil {
			return nil, "", err
		}
		t.wsURL = sioURL(t.httpURL)
		rec := "on (herald's default; every event carries a server-wide offset, encoded once)"
		if !c.recovery {
			rec = "off (--recovery=false)"
		}
		return t, "herald serve (this binary), Socket.IO connection state recovery " + rec, nil
	}
}

// betweenRuns lets the machine settle between two servers' runs.
const betweenRuns = 2 * time.Second

func runSIOIdle(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("bench socketio idle", env.Stderr)
	var c sioCommon
	c.register(fs, 512)
	conns := fs.Int("conns", 15000, "connections (sockets in room bench) to hold")
	hold := fs.Duration("hold", 20*time.Second, "how long the connections idle while the server's CPU is measured")
	settle := fs.Duration("settle", 3*time.Second, "pause after connecting, before measuring")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("bench socketio idle takes no arguments, got %q", fs.Args())
	}
	if *conns < 1 || *hold < 0 || *settle < 0 {
		return usagef("--conns must be positive, --hold and --settle not negative")
	}
	targets, err := c.targets()
	if err != nil {
		return err
	}
	procs, err := c.check(*conns, env.Stderr)
	if err != nil {
		return err
	}
	if err := c.prepare(ctx, targets, env); err != nil {
		return err
	}
	rep := SocketIOReport{Scenario: "socketio idle", machine: thisMachine("socketio idle", args), Node: c.versions()}
	for _, name := range targets {
		if err := c.waitQuiet(ctx, env); err != nil {
			return err
		}
		fmt.Fprintf(env.Stderr, "bench: socketio idle against %s\n", name)
		r := IdleReport{Scenario: "socketio idle", machine: thisMachine("socketio idle", args), Target: name,
			Conns: *conns, Procs: procs, ServerConns: -1, Goroutines: -1}
		srv, desc, err := c.start(ctx, env, name)
		if err != nil {
			return interrupted(ctx, fmt.Errorf("%s: %w", name, err))
		}
		r.Server = desc
		err = c.measureIdle(ctx, env, nodes{srv}, *hold, *settle, &r)
		srv.stop()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		rep.Idle = append(rep.Idle, r)
	}
	rep.Summary = summarizeIdle(rep.Idle)
	return c.emit(env.Stdout, rep, func(w io.Writer) { printSIOIdle(w, rep) })
}

func summarizeIdle(runs []IdleReport) SIOSummary {
	var s SIOSummary
	per := map[string]float64{}
	for _, r := range runs {
		s.Targets = append(s.Targets, SIOTargetSummary{Target: r.Target, Server: r.Server, RSSPerConn: r.RSSPerConn})
		if r.Connected == r.Conns && r.RSSPerConn > 0 {
			per[r.Target] = r.RSSPerConn
		}
	}
	if h, n := per["herald"], per["node"]; h > 0 && n > 0 {
		s.RSSPerConnRatio = h / n
		ok := s.RSSPerConnRatio <= sioMemoryTarget
		s.MeetsMemoryTarget = &ok
	}
	return s
}

func printSIOIdle(w io.Writer, rep SocketIOReport) {
	for _, r := range rep.Idle {
		printIdle(w, r)
		fmt.Fprintln(w)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Socket.IO idle\t%s\n", rep.Command)
	fmt.Fprintf(tw, "target\tconnected\tserver RSS before → after hold\tRSS / conn\tanon / conn\tserver CPU idle\tthreads\n")
	for _, r := range rep.Idle {
		fmt.Fprintf(tw, "%s\t%d/%d\t%s → %s\t%.0f B\t%.0f B\t%.2f%%\t%d\n", r.Target, r.Connected, r.Conns,
			kb(r.MemBefore, func(m *Mem) int64 { return m.RSSKB }), kb(r.MemAfter, func(m *Mem) int64 { return m.RSSKB }),
			r.RSSPerConn, r.AnonPerConn, r.ServerCPUPercent, r.ServerThreads)
	}
	tw.Flush()
	if s := rep.Summary; s.MeetsMemoryTarget != nil {
		fmt.Fprintf(w, "herald / node RSS per connection: %.3f (1/%.1f); target ≤ 1/5: %s\n",
			s.RSSPerConnRatio, 1/s.RSSPerConnRatio, verdict(*s.MeetsMemoryTarget))
	}
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func runSIOFanout(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("bench socketio fanout", env.Stderr)
	var c sioCommon
	c.register(fs, 4096)
	subs := fs.Int("subs", 10000, "subscribers (sockets in room bench)")
	rate := fs.Int("rate", 50, "publishes per second; 0 publishes as fast as the API answers")
	rates := fs.String("rates", "", "a sweep: comma-separated rates, each run against every target (overrides --rate)")
	duration := fs.Duration("duration", 15*time.Second, "how long to publish, per step")
	size := fs.Int("size", 64, "bytes of each publication's data")
	pubs := fs.Int("publishers", 0, "HTTP connections publishing at once (default 4, 8 with --rate 0)")
	drain := fs.Duration("drain", 10*time.Second, "after the last publish, how long to wait for deliveries that stopped coming")
	maxP99 := fs.Duration("max-p99", time.Second, "a step with a higher p99 latency is not sustained")
	keepGoing := fs.Bool("keep-going", false, "in a sweep, run a target's higher rates after one was not sustained")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("bench socketio fanout takes no arguments, got %q", fs.Args())
	}
	steps := []int{*rate}
	if *rates != "" {
		steps = nil
		for _, f := range strings.Split(*rates, ",") {
			r, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				return usagef("--rates: %q is not a number", f)
			}
			steps = append(steps, r)
		}
	}
	if err := checkLoad(*subs, *duration, *size, *pubs, *drain); err != nil {
		return err
	}
	switch {
	case len(steps) > 50:
		return usagef("--rates: at most 50 steps")
	case *maxP99 <= 0:
		return usagef("--max-p99 must be positive")
	}
	for _, r := range steps {
		if r < 0 || r > 1000000 {
			return usagef("rates must be 0..1000000")
		}
	}
	targets, err := c.targets()
	if err != nil {
		return err
	}
	procs, err := c.check(*subs, env.Stderr)
	if err != nil {
		return err
	}
	if c.url != "" && c.apiKey == "" {
		return usagef("fanout publishes through the HTTP API: give --api-key with --url")
	}
	if err := c.prepare(ctx, targets, env); err != nil {
		return err
	}
	rep := SocketIOReport{Scenario: "socketio fanout", machine: thisMachine("socketio fanout", args), Node: c.versions()}
	stopped := map[string]bool{}
	for _, r := range steps {
		for _, name := range targets {
			if stopped[name] {
				continue
			}
			for attempt := 1; ; attempt++ {
				step, err := c.fanoutStep(ctx, env, name, FanoutReport{Scenario: "socketio fanout",
					machine: thisMachine("socketio fanout", args), Target: name, Subs: *subs, Procs: procs, Rate: r,
					Duration: duration.Seconds(), Size: *size, Publishers: *pubs, Attempt: attempt}, *drain, *maxP99)
				if err != nil {
					return err
				}
				rep.Fanout = append(rep.Fanout, step)
				if *step.Sustained {
					break
				}
				if attempt <= c.retries && step.Shared {
					fmt.Fprintf(env.Stderr, "bench: the machine was shared during that step: running it again\n")
					continue
				}
				if !*keepGoing {
					stopped[name] = true
				}
				break
			}
		}
	}
	rep.Summary = summarizeFanout(rep.Fanout, targets)
	return c.emit(env.Stdout, rep, func(w io.Writer) { printSIOFanout(w, rep, *maxP99) })
}

// fanoutStep runs one step of a sweep against the named target, after
// waiting for a quiet machine, and judges it. Only usage errors and
// interruptions are returned: a run that failed is a step not sustained.
func (c *sioCommon) fanoutStep(ctx context.Context, env Env, name string, step FanoutReport, drain, maxP99 time.Duration) (FanoutReport, error) {
	if err := c.waitQuiet(ctx, env); err != nil {
		return step, err
	}
	fmt.Fprintf(env.Stderr, "bench: socketio fanout against %s at %s\n", name, rateText(step.Rate))
	if step.Publishers == 0 {
		step.Publishers = 4
		if step.Rate == 0 {
			step.Publishers = 8
		}
	}
	srv, desc, err := c.start(ctx, env, name)
	if err == nil {
		step.Server = desc
		err = c.measureFanout(ctx, env, nodes{srv}, drain, &step)
		srv.stop()
	}
	if ctx.Err() != nil {
		return step, errInterrupted
	}
	if err != nil {
		if _, ok := errors.AsType[*UsageError](err); ok {
			return step, err
		}
		fmt.Fprintf(env.Stderr, "bench: %s at %s failed: %v\n", name, rateText(step.Rate), err)
		step.Verdict = "no: the run failed: " + err.Error()
		step.Sustained = new(false)
	} else {
		judge(&step, maxP99)
	}
	step.Shared = step.Load.OtherPercent+step.Load.UnattributedPercent >= sharedPercent
	fmt.Fprintf(env.Stderr, "bench: %s at %s: %.0f deliveries/s, p99 %.1f ms, %d lost: %s\n",
		name, rateText(step.Rate), step.DeliveriesPerSec, step.Latency.P99, step.Lost, step.Verdict)
	return step, nil
}

// sharedPercent is how much of a core other processes (or unattributed
// work) must take during a run for it to count as run on a shared
// machine, as printLoad warns.
const sharedPercent = 20

// waitQuiet waits, at most --quiet-wait, until the machine has been less
// than quietBusy busy for quietSpan, so that a run does not start in the
// middle of someone else's work.
func (c *sioCommon) waitQuiet(ctx context.Context, env Env) error {
	if c.quietWait <= 0 {
		return sleepCtx(ctx, betweenRuns)
	}
	start := time.Now()
	for {
		a, err := ReadMachineCPU()
		if err != nil {
			return nil
		}
		if err := sleepCtx(ctx, quietSpan); err != nil {
			return errInterrupted
		}
		b, err := ReadMachineCPU()
		if err != nil {
			return nil
		}
		busy := 100 * float64(b.Busy-a.Busy) / float64(b.At.Sub(a.At)) / float64(max(machineCores(), 1))
		if busy < quietBusy {
			return nil
		}
		if time.Since(start) >= c.quietWait {
			fmt.Fprintf(env.Stderr, "bench: the machine is still %.0f%% busy after %s: running anyway\n", busy, c.quietWait)
			return nil
		}
	}
}

// A machine is quiet when less than quietBusy percent of it was busy over
// quietSpan.
const (
	quietBusy = 10
	quietSpan = 3 * time.Second
)

// judge says whether a fan-out step was sustained: every subscriber
// connected, every publish succeeded and (with a rate) kept to the
// schedule, every delivery arrived exactly once, no connection was closed
// by the server, and p99 latency stayed within maxP99 (a server that
// falls behind has latency growing with the length of the run).
func judge(r *FanoutReport, maxP99 time.Duration) {
	var why []string
	if r.Subscribed < r.Subs {
		why = append(why, fmt.Sprintf("%d of %d subscribed", r.Subscribed, r.Subs))
	}
	if r.PublishErrors > 0 {
		why = append(why, fmt.Sprintf("%d publishes failed", r.PublishErrors))
	}
	if r.Lost > 0 {
		why = append(why, fmt.Sprintf("%d deliveries lost (%.3f%%)", r.Lost, r.LossPercent))
	}
	if r.Duplicates > 0 || r.Extra > 0 {
		why = append(why, fmt.Sprintf("%d duplicates, %d unexpected", r.Duplicates, r.Extra))
	}
	if r.Closed > 0 {
		why = append(why, fmt.Sprintf("%d connections closed by the server", r.Closed))
	}
	if r.Rate > 0 && r.Sent > 1 && r.PublishRate < 0.97*float64(r.Rate) {
		why = append(why, fmt.Sprintf("publishing fell behind (%.1f/s of %d/s)", r.PublishRate, r.Rate))
	}
	if r.Sent == 0 {
		why = append(why, "nothing was published")
	}
	if p99 := r.Latency.P99; p99 > ms(maxP99) {
		why = append(why, fmt.Sprintf("p99 %.0f ms > %s", p99, maxP99))
	}
	ok := len(why) == 0
	r.Sustained = &ok
	if ok {
		r.Verdict = fmt.Sprintf("yes: no loss, p99 %.0f ms ≤ %s", r.Latency.P99, maxP99)
	} else {
		r.Verdict = "no: " + strings.Join(why, "; ")
	}
}

func summarizeFanout(steps []FanoutReport, targets []string) SIOSummary {
	var s SIOSummary
	for _, name := range targets {
		t := SIOTargetSummary{Target: name}
		// A rate is sustained when one of its attempts was; the first
		// rate none of whose attempts was is where the ceiling lies.
		var order []int
		ok, why := map[int]bool{}, map[int]string{}
		for _, r := range steps {
			if r.Target != name {
				continue
			}
			if t.Server == "" {
				t.Server = r.Server
			}
			if _, seen := ok[r.Rate]; !seen {
				order = append(order, r.Rate)
				ok[r.Rate] = false
			}
			if r.Sustained != nil && *r.Sustained {
				ok[r.Rate] = true
				if r.DeliveriesPerSec > t.Throughput {
					t.Throughput, t.SustainedRate = r.DeliveriesPerSec, r.Rate
					t.P50, t.P99, t.ServerCPUPercent = r.Latency.P50, r.Latency.P99, r.ServerCPUPercent
				}
			} else {
				why[r.Rate] = r.Verdict
			}
		}
		for _, rate := range order {
			if !ok[rate] {
				t.FirstUnsustained, t.FirstUnsustainedWhy = rate, why[rate]
				break
			}
		}
		s.Targets = append(s.Targets, t)
	}
	var h, n float64
	var hCeiling, nCeiling bool // a rate was not sustained: the ceiling is within the sweep
	for _, t := range s.Targets {
		switch t.Target {
		case "herald":
			h, hCeiling = t.Throughput, t.FirstUnsustainedWhy != ""
		case "node":
			n, nCeiling = t.Throughput, t.FirstUnsustainedWhy != ""
		}
	}
	if len(s.Targets) == 2 {
		switch {
		case h == 0 || n == 0:
			s.Note = "a target sustained none of the rates tried: no throughput ratio (try lower rates)"
		case !nCeiling:
			s.ThroughputRatio = h / n
			s.Note = "node sustained every rate tried, so its ceiling was not found: the ratio is not a comparison of ceilings (add higher rates)"
		case !hCeiling:
			s.ThroughputRatio = h / n
			s.ThroughputRatioAtLeast = true
			s.Note = "herald sustained every rate tried: its ceiling is higher, so the ratio is a lower bound"
			if s.ThroughputRatio >= sioThroughputTarget {
				ok := true
				s.MeetsThroughputTarget = &ok
			}
		default:
			s.ThroughputRatio = h / n
			ok := s.ThroughputRatio >= sioThroughputTarget
			s.MeetsThroughputTarget = &ok
		}
	}
	return s
}

func printSIOFanout(w io.Writer, rep SocketIOReport, maxP99 time.Duration) {
	for _, r := range rep.Fanout {
		printFanout(w, r)
		fmt.Fprintln(w)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Socket.IO fan-out\t%s\n", rep.Command)
	fmt.Fprintf(tw, "rate/s\ttarget\toffered/s\tdelivered/s\tlost\tp50 ms\tp99 ms\tmax ms\tserver CPU\tserver RSS after\tmachine\tsustained\n")
	for _, r := range rep.Fanout {
		offered := "flat out"
		if r.OfferedPerSec > 0 {
			offered = fmt.Sprintf("%.0f", r.OfferedPerSec)
		}
		rss := "n/a"
		if r.ServerRSSAfter != nil {
			rss = fmt.Sprintf("%.0f MB", float64(r.ServerRSSAfter.RSSKB)/1024)
		}
		machine := "quiet"
		if r.Shared {
			machine = fmt.Sprintf("shared (others %.0f%%)", r.Load.OtherPercent+r.Load.UnattributedPercent)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%.0f\t%d\t%.1f\t%.1f\t%.1f\t%.0f%%\t%s\t%s\t%s\n", r.Rate, r.Target, offered, r.DeliveriesPerSec,
			r.Lost, r.Latency.P50, r.Latency.P99, r.Latency.Max, r.ServerCPUPercent, rss, machine, r.Verdict)
	}
	tw.Flush()
	fmt.Fprintf(w, "sustained = all subscribed, every publish accepted on schedule, nothing lost or duplicated, no connection closed, p99 ≤ %s\n", maxP99)
	fmt.Fprintf(w, "machine = whether other processes took ≥ %d%% of a core during the step (a step not sustained on a shared machine is run again, --retries)\n", sharedPercent)
	for _, t := range rep.Summary.Targets {
		if t.Throughput > 0 {
			fmt.Fprintf(w, "%s: throughput %.0f deliveries/s (best sustained step: %d/s, p50 %.1f ms, p99 %.1f ms, server CPU %.0f%%)",
				t.Target, t.Throughput, t.SustainedRate, t.P50, t.P99, t.ServerCPUPercent)
		} else {
			fmt.Fprintf(w, "%s: no rate sustained", t.Target)
		}
		if t.FirstUnsustainedWhy != "" {
			fmt.Fprintf(w, "; at %d/s: %s", t.FirstUnsustained, t.FirstUnsustainedWhy)
		}
		fmt.Fprintln(w)
	}
	if s := rep.Summary; s.ThroughputRatio > 0 {
		atLeast := ""
		if s.ThroughputRatioAtLeast {
			atLeast = "at least "
		}
		v := "not decided"
		if s.MeetsThroughputTarget != nil {
			v = verdict(*s.MeetsThroughputTarget)
		}
		fmt.Fprintf(w, "herald / node throughput: %s%.2f×; target ≥ 5×: %s\n", atLeast, s.ThroughputRatio, v)
	}
	if rep.Summary.Note != "" {
		fmt.Fprintf(w, "note: %s\n", rep.Summary.Note)
	}
}
