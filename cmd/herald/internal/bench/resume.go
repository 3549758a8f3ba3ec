package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"
)

// ResumeReport is the outcome of `herald bench resume`.
type ResumeReport struct {
	Scenario string `json:"scenario"`
	machine
	Clients     int    `json:"clients"`
	Missed      int    `json:"missed"`
	Size        int    `json:"size"`
	Store       string `json:"store"`
	Fsync       string `json:"fsync,omitempty"`
	HistorySize int    `json:"history_size"`
	Concurrency int    `json:"reconnect_concurrency"`

	Subscribed int `json:"subscribed"` // before the drop
	// DeliveredWhileGone sums the API's "delivered" over the missed
	// publications: 0 shows every client was gone when they were sent.
	DeliveredWhileGone int64 `json:"delivered_while_gone"`

	Reconnected int `json:"reconnected"`
	Recovered   int `json:"recovered"` // subscribe replies with recovered true, replayed = missed
	Complete    int `json:"complete"`  // clients with every missed publication, in order, nothing else first
	Failed      int `json:"failed"`
	// Failures counts the clients by what went wrong, with one example each.
	Failures map[string]int `json:"failures,omitempty"`
	Examples []string       `json:"failure_examples,omitempty"`

	// From the start of the reconnects, per client: until its subscribe
	// reply, and until it had the last missed publication.
	Reply Latency `json:"reply"`
	Done  Latency `json:"done"`
	// TotalSeconds runs from the start of the reconnects until the last
	// client had every missed publication.
	TotalSeconds float64 `json:"total_seconds"`

	ServerCPUPercent float64 `json:"server_cpu_percent"` // during the reconnects
	Load             Load    `json:"load"`
	Passed           bool    `json:"passed"`
}

type resumeFlags struct {
	clients, missed, size, histSize, conc int
	store, fsync                          string
	timeout                               time.Duration
}

func (f *resumeFlags) check() error {
	switch {
	case f.clients < 1 || f.clients > 15000:
		return usagef("--clients must be 1..15000 (they are held by this process)")
	case f.missed < 1:
		return usagef("--missed must be at least 1")
	case f.size < 0 || f.size > 1<<16:
		return usagef("--size must be 0..65536")
	case f.store != "memory" && f.store != "disk":
		return usagef("--store must be memory or disk, got %q", f.store)
	case f.conc < 0:
		return usagef("--concurrency must not be negative")
	case f.timeout <= 0:
		return usagef("--timeout must be positive")
	}
	if f.histSize == 0 {
		f.histSize = 2 * f.missed
	}
	if f.histSize < f.missed+1 {
		return usagef("--history-size %d cannot keep %d missed publications and the one before", f.histSize, f.missed)
	}
	if f.conc == 0 || f.conc > f.clients {
		f.conc = f.clients
	}
	return nil
}

func runResume(ctx context.Context, args []string, env Env) error {
	fl := newFlagSet("bench resume", env.Stderr)
	var c common
	var f resumeFlags
	fl.BoolVar(&c.jsonOut, "json", false, "print one JSON object instead of a table")
	fl.StringVar(&c.outFile, "out", "", "also write the JSON object to this file")
	fl.IntVar(&f.clients, "clients", 1000, "subscribers that drop and resume")
	fl.IntVar(&f.missed, "missed", 50, "publications sent while they are gone")
	fl.IntVar(&f.size, "size", 64, "bytes of each publication's data")
	fl.IntVar(&f.histSize, "history-size", 0, "history_size of the channel (default: twice --missed)")
	fl.StringVar(&f.store, "store", "memory", "history.store of the server: memory or disk")
	fl.StringVar(&f.fsync, "fsync", "200ms", "with --store disk: history.fsync")
	fl.IntVar(&f.conc, "concurrency", 0, "reconnects under way at once (default: all of them)")
	fl.DurationVar(&f.timeout, "timeout", time.Minute, "how long the reconnects may take in all")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() > 0 {
		return usagef("bench resume takes no arguments, got %q", fl.Args())
	}
	if err := f.check(); err != nil {
		return err
	}
	rep := ResumeReport{Scenario: "resume", machine: thisMachine("resume", args), Clients: f.clients, Missed: f.missed,
		Size: f.size, Store: f.store, HistorySize: f.histSize, Concurrency: f.conc}
	if f.store == "disk" {
		rep.Fsync = f.fsync
	}
	if err := measureResume(ctx, env, f, &rep); err != nil {
		return interrupted(ctx, err)
	}
	return c.emit(env.Stdout, rep, func(w io.Writer) { printResume(w, rep) })
}

// resumeChannel is the one channel of the resume bench.
const resumeChannel = historyNS + ":resume"

func measureResume(ctx context.Context, env Env, f resumeFlags, rep *ResumeReport) error {
	dataDir, err := os.MkdirTemp("", "herald-bench-data-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dataDir)
	setup := historySetup{Size: f.histSize, Store: f.store, Fsync: f.fsync}
	srv, err := startServerConfig(ctx, env.Executable, nil, setup.yaml(dataDir))
	if err != nil {
		return err
	}
	defer srv.stop()
	pub := newResumePublisher(srv, f.size)
	defer pub.client.CloseIdleConnections()
	// One publication first, so that the stream exists and the clients'
	// position is a real offset in a real epoch.
	if _, err := pub.publish(ctx, 0); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "bench: resume: subscribing %d clients\n", f.clients)
	clients, err := subscribeAll(ctx, srv.wsURL, f.clients)
	if err != nil {
		return err
	}
	rep.Subscribed = len(clients)
	for _, c := range clients {
		c.conn.drop()
	}
	if err := waitConnections(ctx, srv, 0, 30*time.Second); err != nil {
		return err
	}
	for seq := 1; seq <= f.missed; seq++ {
		delivered, err := pub.publish(ctx, int64(seq))
		if err != nil {
			return err
		}
		rep.DeliveredWhileGone += delivered
	}
	fmt.Fprintf(env.Stderr, "bench: resume: %d clients dropped, %d published; reconnecting them all\n", len(clients), f.missed)
	cpu0, _ := ReadCPU(srv.pid)
	meter := startLoad()
	outcomes, total := resumeAll(ctx, srv.wsURL, clients, f.missed, f.conc, f.timeout)
	rep.Load = meter.stop([]int{srv.pid, os.Getpid()}, machineCores())
	if cpu1, err := ReadCPU(srv.pid); err == nil {
		rep.ServerCPUPercent = CPUPercent(cpu0, cpu1)
	}
	rep.account(outcomes, total)
	return ctx.Err()
}

// account sums up the clients' outcomes.
func (r *ResumeReport) account(outcomes []resumeOutcome, total time.Duration) {
	reply, done := NewHistogram(), NewHistogram()
	r.Failures = map[string]int{}
	for _, o := range outcomes {
		if o.reconnected {
			r.Reconnected++
			reply.Record(int64(o.reply))
		}
		if o.recovered {
			r.Recovered++
		}
		if o.err != nil {
			r.Failed++
			kind := o.kind
			if r.Failures[kind]++; r.Failures[kind] == 1 {
				r.Examples = append(r.Examples, kind+": "+o.err.Error())
			}
			continue
		}
		r.Complete++
		done.Record(int64(o.done))
	}
	if len(r.Failures) == 0 {
		r.Failures = nil
	}
	r.Reply, r.Done, r.TotalSeconds = summarize(reply), summarize(done), total.Seconds()
	r.Passed = r.Subscribed == r.Clients && r.DeliveredWhileGone == 0 && r.Complete == r.Clients && r.Recovered == r.Clients
}

func printResume(w io.Writer, r ResumeReport) {
	store := r.Store
	if r.Fsync != "" {
		store += ", fsync " + r.Fsync
	}
	fmt.Fprintf(w, "scenario       resume: %d clients drop, %d publications, all reconnect with since\n", r.Clients, r.Missed)
	fmt.Fprintf(w, "machine        %d CPUs (%d usable here), %s, kernel %s\n", r.CPUs, r.Usable, r.GoVersion, r.Kernel)
	fmt.Fprintf(w, "server         history_size %d, store %s; %d reconnects at once\n", r.HistorySize, store, r.Concurrency)
	fmt.Fprintf(w, "before         %d subscribed; %d delivered while they were gone\n", r.Subscribed, r.DeliveredWhileGone)
	fmt.Fprintf(w, "after          %d reconnected, %d recovered, %d complete and in order, %d failed\n", r.Reconnected, r.Recovered, r.Complete, r.Failed)
	for _, e := range r.Examples {
		fmt.Fprintf(w, "  failure      %s\n", e)
	}
	fmt.Fprintf(w, "reply          p50 %.1f ms, p99 %.1f ms, max %.1f ms (from the start of the reconnects)\n", r.Reply.P50, r.Reply.P99, r.Reply.Max)
	fmt.Fprintf(w, "all missed     p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", r.Done.P50, r.Done.P99, r.Done.Max)
	fmt.Fprintf(w, "total          %.3f s until every client had all %d\n", r.TotalSeconds, r.Missed)
	fmt.Fprintf(w, "server CPU     %.0f%% during the reconnects (100%% = one core)\n", r.ServerCPUPercent)
	fmt.Fprintf(w, "result         %s\n", map[bool]string{true: "PASS", false: "FAIL"}[r.Passed])
	if r.Load.OtherPercent+r.Load.UnattributedPercent >= 20 {
		fmt.Fprintf(w, "WARNING        %.0f%% of a core went to other processes: figures are pessimistic\n",
			r.Load.OtherPercent+r.Load.UnattributedPercent)
	}
}
