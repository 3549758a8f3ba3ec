package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"
)

// Latency is a latency summary in milliseconds.
type Latency struct {
	Count uint64  `json:"count"`
	Min   float64 `json:"min_ms"`
	Mean  float64 `json:"mean_ms"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P95   float64 `json:"p95_ms"`
	P99   float64 `json:"p99_ms"`
	P999  float64 `json:"p999_ms"`
	Max   float64 `json:"max_ms"`
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func summarize(h *Histogram) Latency {
	return Latency{Count: h.Count(), Min: ms(h.Min()), Mean: ms(h.Mean()), P50: ms(h.Quantile(.5)), P90: ms(h.Quantile(.9)),
		P95: ms(h.Quantile(.95)), P99: ms(h.Quantile(.99)), P999: ms(h.Quantile(.999)), Max: ms(h.Max())}
}

// FanoutReport is the outcome of `herald bench fanout`.
type FanoutReport struct {
	Scenario string `json:"scenario"`
	machine
	// Target and Server say what was measured, for `bench socketio`:
	// "herald" or "node", and the software and its settings.
	Target      string  `json:"target,omitempty"`
	Server      string  `json:"server,omitempty"`
	Subs        int     `json:"subs"`
	Procs       int     `json:"procs"`
	Subscribed  int     `json:"subscribed"`
	Failed      int     `json:"failed"`
	FirstError  string  `json:"first_error,omitempty"`
	Rate        int     `json:"rate"` // 0: as fast as the API answers
	Duration    float64 `json:"duration_seconds"`
	Size        int     `json:"size"`
	Publishers  int     `json:"publishers"`
	ConnectSecs float64 `json:"connect_seconds"`

	// Nodes and Broker say what a cluster run ran (--nodes, --broker),
	// PerNode each node's figures; the server figures below are then
	// the nodes' added up.
	Nodes   int           `json:"nodes,omitempty"`
	Broker  string        `json:"broker,omitempty"`
	PerNode []NodeFigures `json:"per_node,omitempty"`
	// BrokerPID is the broker's process when it was found on this
	// machine; BrokerCPUPercent its CPU while publishing, whoever else
	// used it meanwhile.
	BrokerPID        int     `json:"broker_pid,omitempty"`
	BrokerCPUPercent float64 `json:"broker_cpu_percent,omitempty"`

	Sent              int64   `json:"publishes_sent"`
	PublishErrors     int64   `json:"publish_errors"`
	PublishesRefused  int64   `json:"publishes_refused"` // 503 with Retry-After: back-pressure
	FirstPublishError string  `json:"first_publish_error,omitempty"`
	PublishSeconds    float64 `json:"publish_seconds"`
	PublishRate       float64 `json:"publish_rate"`              // achieved publishes/s
	MaxSendLagMs      float64 `json:"max_send_lag_ms"`           // how far behind the schedule sends got
	PublishRTT        Latency `json:"publish_rtt"`               // HTTP round trip of a publish
	ServerDelivered   int64   `json:"server_reported_delivered"` // sum of the API's "delivered"

	Expected      int64   `json:"deliveries_expected"` // sent x subscribed
	Received      uint64  `json:"deliveries_received"` // distinct (connection, seq) pairs
	Duplicates    uint64  `json:"duplicates"`
	Extra         uint64  `json:"extra"` // seqs no successful publish sent
	Lost          int64   `json:"lost"`
	LossPercent   float64 `json:"loss_percent"`
	ConnsWithLoss int     `json:"conns_with_loss"`
	Closed        int     `json:"conns_closed_by_server"`
	Unparsed      uint64  `json:"unparsed_messages"`
	// PerBurst is publications per arrival burst (those less than 2ms
	// apart on one connection): how many the server coalesced per write.
	PerBurst float64 `json:"publications_per_burst"`

	// WindowSeconds runs from the first send to the last receipt.
	WindowSeconds    float64 `json:"window_seconds"`
	DeliveriesPerSec float64 `json:"deliveries_per_sec"`
	OfferedPerSec    float64 `json:"offered_deliveries_per_sec"` // rate x subscribed
	Latency          Latency `json:"latency"`

	ServerCPUPercent float64 `json:"server_cpu_percent"` // while publishing; 100 = one core
	WorkerCPUPercent float64 `json:"worker_cpu_percent"`
	BenchCPUPercent  float64 `json:"bench_cpu_percent"` // this process: the publisher
	// Time spent runnable but waiting for a CPU, per second of publishing
	// (summed over threads; 100 = one thread waiting all the time): how
	// much each side was starved of CPU.
	ServerRunqWaitPercent float64 `json:"server_runq_wait_percent"`
	WorkerRunqWaitPercent float64 `json:"worker_runq_wait_percent"`
	Load                  Load    `json:"load"` // the machine while publishing
	ServerRSSBefore       *Mem    `json:"server_rss_before,omitempty"`
	ServerRSSAfter        *Mem    `json:"server_rss_after,omitempty"`

	MeetsTarget *bool `json:"meets_target,omitempty"`
	// Sustained (bench socketio) says whether the server sustained the
	// load: see sustained(); Verdict says why not.
	Sustained *bool  `json:"sustained,omitempty"`
	Verdict   string `json:"verdict,omitempty"`
	// Attempt numbers the runs of one step of a sweep (a step not
	// sustained on a shared machine is run again); Shared says other
	// processes took at least 20% of a core meanwhile.
	Attempt int  `json:"attempt,omitempty"`
	Shared  bool `json:"shared_machine,omitempty"`
}

// The goal: at least 500,000 deliveries/s to 10,000 subscribers of
// one channel at 50 publishes/s, p99 at most 100 ms, nothing lost.
const (
	fanoutTargetRate = 500000
	fanoutTargetP99  = 100.0
)

// checkLoad checks the flags every fan-out bench has.
func checkLoad(subs int, duration time.Duration, size, pubs int, drain time.Duration) error {
	switch {
	case subs < 1:
		return usagef("--subs must be positive")
	case duration <= 0 || duration > time.Hour:
		return usagef("--duration must be positive, at most 1h")
	case size < 0 || size > 1<<20:
		return usagef("--size must be 0..1048576")
	case pubs < 0 || pubs > 256:
		return usagef("--publishers must be 0..256")
	case drain <= 0 || drain > 5*time.Minute:
		return usagef("--drain must be positive, at most 5m")
	}
	return nil
}

func runFanout(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("bench fanout", env.Stderr)
	var c common
	c.register(fs, 4096)
	var cl clusterFlags
	cl.register(fs)
	subs := fs.Int("subs", 10000, "subscribers of the channel")
	rate := fs.Int("rate", 50, "publishes per second; 0 publishes as fast as the API answers, to find the ceiling")
	duration := fs.Duration("duration", 20*time.Second, "how long to publish")
	size := fs.Int("size", 64, "bytes of each publication's data")
	pubs := fs.Int("publishers", 0, "HTTP connections publishing at once (default 4, 8 with --rate 0)")
	drain := fs.Duration("drain", 10*time.Second, "after the last publish, how long to wait for deliveries that stopped coming")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("bench fanout takes no arguments, got %q", fs.Args())
	}
	if err := checkLoad(*subs, *duration, *size, *pubs, *drain); err != nil {
		return err
	}
	if *rate < 0 || *rate > 1000000 {
		return usagef("--rate must be 0..1000000")
	}
	if *pubs == 0 {
		*pubs = 4
		if *rate == 0 {
			*pubs = 8
		}
	}
	procs, err := c.check(*subs, env.Stderr)
	if err == nil {
		procs, err = cl.check(&c, procs, env.Stderr)
	}
	if err != nil {
		return err
	}
	srvs, err := cl.start(ctx, &c, env)
	if err != nil {
		return interrupted(ctx, err)
	}
	defer srvs.stop()
	if srvs[0].apiKey == "" {
		return usagef("fanout publishes through the HTTP API: give --api-key with --url")
	}

	rep := FanoutReport{Scenario: "fanout", machine: thisMachine("fanout", args), Subs: *subs, Procs: procs,
		Rate: *rate, Duration: duration.Seconds(), Size: *size, Publishers: *pubs}
	if cl.clustered() {
		rep.Nodes, rep.Broker, rep.BrokerPID = cl.nodes, cl.broker, brokerPID(cl.broker)
	}
	if err := c.measureFanout(ctx, env, srvs, *drain, &rep); err != nil {
		return err
	}
	if *rate == 50 && *subs == 10000 {
		ok := rep.Lost == 0 && rep.PublishErrors == 0 && rep.Subscribed == *subs &&
			rep.Latency.P99 <= fanoutTargetP99 && rep.DeliveriesPerSec >= fanoutTargetRate*0.99
		rep.MeetsTarget = &ok
	}
	return c.emit(env.Stdout, rep, func(w io.Writer) { printFanout(w, rep) })
}

// measureFanout subscribes rep.Subs connections to srvs over rep.Procs
// workers, publishes at rep.Rate for rep.Duration seconds with
// rep.Publishers connections (round robin over the nodes), waits for the
// deliveries (at most drain of silence) and fills in rep.
func (c *common) measureFanout(ctx context.Context, env Env, srvs nodes, drain time.Duration, rep *FanoutReport) error {
	duration := time.Duration(rep.Duration * float64(time.Second))
	mem0, _ := srvs.mems()
	rep.ServerRSSBefore = sumMem(mem0)
	rep.PerNode = srvs.figures(spreadConns(rep.Subs, rep.Procs))
	deadline := c.setup + duration + drain + 3*time.Minute
	ws, tot, took, err := c.connectWorkers(ctx, env, srvs, deadline, rep.Subs, rep.Procs)
	if err != nil {
		return err
	}
	defer ws.stop(15 * time.Second)
	rep.ConnectSecs = took
	rep.Subscribed, rep.Failed, rep.FirstError = tot.Connected, tot.Failed, tot.FirstError
	if rep.PerNode != nil {
		setServerConns(rep.PerNode, srvs.connections(ctx))
	}
	fmt.Fprintf(env.Stderr, "bench: %d subscribed, %d failed in %.1fs; publishing %s for %s\n",
		tot.Connected, tot.Failed, rep.ConnectSecs, rateText(rep.Rate), duration)
	if err := sleepCtx(ctx, time.Second); err != nil { // let the server settle
		return errInterrupted
	}

	wpids, spids := ws.pids(), srvs.pids()
	if rep.BrokerPID != 0 { // the cluster's work: not other people's
		spids = append(spids, rep.BrokerPID)
	}
	scpu0, brcpu0 := srvs.cpus(), cpuOf([]int{rep.BrokerPID})
	wcpu0, bcpu0 := cpuOf(wpids), cpuOf([]int{os.Getpid()})
	meter := startLoad()
	swait0, wwait0 := runqWaitOf(spids), runqWaitOf(wpids)
	ps := publish(ctx, publishConfig{urls: srvs.publishURLs(), apiKey: srvs[0].apiKey, channel: c.channel,
		event: c.event, rate: rep.Rate, duration: duration, size: rep.Size, conc: rep.Publishers})
	wcpu1, bcpu1 := cpuOf(wpids), cpuOf([]int{os.Getpid()})
	rep.Load = meter.stop(append(append(spids, os.Getpid()), wpids...), machineCores())
	swait1, wwait1 := runqWaitOf(spids), runqWaitOf(wpids)
	if wall := time.Since(meter.cpu.At); wall > 0 {
		rep.ServerRunqWaitPercent = 100 * float64(swait1-swait0) / float64(wall)
		rep.WorkerRunqWaitPercent = 100 * float64(wwait1-wwait0) / float64(wall)
	}
	scpu := cpuPercents(scpu0, srvs.cpus())
	rep.ServerCPUPercent = sum(scpu)
	for i := range rep.PerNode {
		if i < len(scpu) {
			rep.PerNode[i].CPUPercent = scpu[i]
		}
	}
	rep.WorkerCPUPercent, rep.BenchCPUPercent = CPUPercent(wcpu0, wcpu1), CPUPercent(bcpu0, bcpu1)
	if rep.BrokerPID != 0 {
		rep.BrokerCPUPercent = CPUPercent(brcpu0, cpuOf([]int{rep.BrokerPID}))
	}
	if ctx.Err() != nil {
		return errInterrupted
	}
	rep.Sent, rep.PublishErrors, rep.FirstPublishError = ps.OK, ps.Errors, ps.FirstError
	rep.PublishesRefused = ps.Refused
	rep.ServerDelivered = ps.Delivered
	rep.MaxSendLagMs = ms(ps.MaxLag)
	rep.PublishRTT = summarize(ps.RTT)
	if !ps.LastSend.IsZero() {
		rep.PublishSeconds = ps.LastSend.Sub(ps.FirstSend).Seconds()
		if rep.PublishSeconds > 0 {
			rep.PublishRate = float64(ps.MaxSeq-1) / rep.PublishSeconds
		}
	}
	rep.Expected = ps.OK * int64(rep.Subscribed)
	if rep.Rate > 0 {
		rep.OfferedPerSec = float64(rep.Rate) * float64(rep.Subscribed)
	}
	fmt.Fprintf(env.Stderr, "bench: %d publishes sent (%d failed, %d refused by back-pressure); waiting for %d deliveries\n",
		ps.OK, ps.Errors, ps.Refused, rep.Expected)

	// Wait until everything arrived, or nothing more has for a while.
	waitDeliveries(ctx, ws, uint64(rep.Expected), drain, duration+2*time.Minute)
	results, err := ws.report(ctx, ps.MaxSeq)
	if err != nil {
		return interrupted(ctx, err)
	}
	hist := NewHistogram()
	var lastRecv int64
	var bursts, received uint64
	for _, r := range results {
		hist.Merge(r.Latency)
		rep.Received += r.Unique
		rep.Duplicates += r.Duplicates
		rep.Extra += r.Extra
		rep.ConnsWithLoss += r.ConnsWithLoss
		rep.Closed += r.Closed
		rep.Unparsed += r.Unparsed
		bursts += r.Bursts
		received += r.Received
		lastRecv = max(lastRecv, r.LastRecv)
	}
	rep.Latency = summarize(hist)
	if bursts > 0 {
		rep.PerBurst = float64(received) / float64(bursts)
	}
	rep.Lost = max(rep.Expected-int64(rep.Received), 0)
	if rep.Expected > 0 {
		rep.LossPercent = 100 * float64(rep.Lost) / float64(rep.Expected)
	}
	if lastRecv > 0 && !ps.FirstSend.IsZero() {
		rep.WindowSeconds = float64(lastRecv-ps.FirstSend.UnixNano()) / 1e9
		if rep.WindowSeconds > 0 {
			rep.DeliveriesPerSec = float64(rep.Received) / rep.WindowSeconds
		}
	}
	mem1, _ := srvs.mems()
	rep.ServerRSSAfter = sumMem(mem1)
	for i := range rep.PerNode {
		rep.PerNode[i].RSSBefore, rep.PerNode[i].RSSAfter = memAt(mem0, i), memAt(mem1, i)
	}
	ws.stop(15 * time.Second)
	return nil
}

// waitDeliveries returns once the workers have received want
// publications, or none has arrived for quiet, or limit has passed, or
// ctx ends.
func waitDeliveries(ctx context.Context, ws *workerSet, want uint64, quiet, limit time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	last, lastChange := ws.total().Received, time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		got := ws.total().Received
		if got >= want {
			// The progress lines are 250ms apart: let the last ones in.
			_ = sleepCtx(ctx, 300*time.Millisecond)
			return
		}
		if got != last {
			last, lastChange = got, time.Now()
		} else if time.Since(lastChange) > quiet {
			return
		}
	}
}

func rateText(rate int) string {
	if rate == 0 {
		return "as fast as the API answers"
	}
	return fmt.Sprintf("%d/s", rate)
}

func printFanout(w io.Writer, r FanoutReport) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "herald bench %s\t%s\n", r.Scenario, r.Date)
	fmt.Fprintf(tw, "machine\t%d CPUs (%d usable here), %s, kernel %s\n", r.CPUs, r.Usable, r.GoVersion, r.Kernel)
	if r.Server != "" {
		fmt.Fprintf(tw, "server\t%s: %s\n", r.Target, r.Server)
	}
	printNodes(tw, r.Broker, r.PerNode)
	fmt.Fprintf(tw, "subscribers\t%d of %d (%d failed) in %.1fs over %d worker processes\n", r.Subscribed, r.Subs, r.Failed, r.ConnectSecs, r.Procs)
	if r.FirstError != "" {
		fmt.Fprintf(tw, "first error\t%s\n", r.FirstError)
	}
	fmt.Fprintf(tw, "publishes\t%d sent, %d refused by back-pressure (503), %d failed, %s for %.0fs (tried %.1f/s, max lag %.1f ms), %d-byte data\n",
		r.Sent, r.PublishesRefused, r.PublishErrors, rateText(r.Rate), r.Duration, r.PublishRate, r.MaxSendLagMs, r.Size)
	if r.FirstPublishError != "" {
		fmt.Fprintf(tw, "first publish error\t%s\n", r.FirstPublishError)
		fmt.Fprintf(tw, "WARNING\tfailed publishes may still have been delivered: loss figures are approximate\n")
	}
	fmt.Fprintf(tw, "publish round trip\tp50 %.2f ms, p99 %.2f ms, max %.2f ms\n", r.PublishRTT.P50, r.PublishRTT.P99, r.PublishRTT.Max)
	queued := "server says %d queued"
	if r.Nodes > 1 {
		queued = "the nodes published on say %d queued on themselves"
	}
	fmt.Fprintf(tw, "deliveries\t%d of %d expected ("+queued+")\n", r.Received, r.Expected, r.ServerDelivered)
	fmt.Fprintf(tw, "lost\t%d (%.4f%%) on %d connections; %d duplicates; %d connections closed by the server\n",
		r.Lost, r.LossPercent, r.ConnsWithLoss, r.Duplicates, r.Closed)
	fmt.Fprintf(tw, "throughput\t%.0f deliveries/s over %.2fs (first send to last receipt)", r.DeliveriesPerSec, r.WindowSeconds)
	if r.OfferedPerSec > 0 {
		fmt.Fprintf(tw, "; offered %.0f/s", r.OfferedPerSec)
	}
	fmt.Fprintln(tw)
	l := r.Latency
	fmt.Fprintf(tw, "latency\tp50 %.2f ms, p90 %.2f, p95 %.2f, p99 %.2f, p99.9 %.2f, max %.2f (mean %.2f)\n",
		l.P50, l.P90, l.P95, l.P99, l.P999, l.Max, l.Mean)
	fmt.Fprintf(tw, "coalescing\t%.2f publications per arrival burst\n", r.PerBurst)
	fmt.Fprintf(tw, "CPU while publishing\tserver %.0f%%, workers %.0f%%, publisher %.0f%% (100%% = one core)\n",
		r.ServerCPUPercent, r.WorkerCPUPercent, r.BenchCPUPercent)
	if r.BrokerPID != 0 {
		fmt.Fprintf(tw, "broker CPU\t%.0f%% (pid %d, whoever else used it meanwhile)\n", r.BrokerCPUPercent, r.BrokerPID)
	}
	fmt.Fprintf(tw, "waiting for a CPU\tserver threads %.0f%%, worker threads %.0f%% (runnable but not running)\n",
		r.ServerRunqWaitPercent, r.WorkerRunqWaitPercent)
	printLoad(tw, r.Load)
	if r.ServerRSSBefore != nil && r.ServerRSSAfter != nil {
		fmt.Fprintf(tw, "server RSS\t%.1f MB before, %.1f MB after (peak %.1f MB)\n",
			float64(r.ServerRSSBefore.RSSKB)/1024, float64(r.ServerRSSAfter.RSSKB)/1024, float64(r.ServerRSSAfter.VmHWMKB)/1024)
	}
	if r.MeetsTarget != nil {
		verdict := "MISSED"
		if *r.MeetsTarget {
			verdict = "met"
		}
		fmt.Fprintf(tw, "target\t≥ %d deliveries/s, p99 ≤ %.0f ms, no loss: %s\n", fanoutTargetRate, fanoutTargetP99, verdict)
	}
	if r.Sustained != nil {
		fmt.Fprintf(tw, "sustained\t%s\n", r.Verdict)
	}
	tw.Flush()
}
