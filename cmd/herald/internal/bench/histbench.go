package bench

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// historySetup is one server config `bench history` measures.
type historySetup struct {
	Name  string `json:"config"` // off, memory, disk-batched, disk-always
	Size  int    `json:"history_size"`
	Store string `json:"store"`
	Fsync string `json:"fsync,omitempty"`
}

// historySetups are the configs, history off first: the others are
// compared with it.
func historySetups(size int, interval time.Duration) []historySetup {
	return []historySetup{
		{Name: "off", Size: 0, Store: "memory"},
		{Name: "memory", Size: size, Store: "memory"},
		{Name: "disk-batched", Size: size, Store: "disk", Fsync: interval.String()},
		{Name: "disk-always", Size: size, Store: "disk", Fsync: "always"},
	}
}

// historyNS is the namespace of the bench's history channels; the base
// config's default_channel keeps no history, so the setups set theirs here.
const historyNS = "hist"

// yaml is the config the setup adds to the base one; dataDir is used by
// the disk store only.
func (s historySetup) yaml(dataDir string) string {
	y := fmt.Sprintf("namespaces:\n  %s:\n    subscribe: anyone\n    publish: nobody\n    history_size: %d\nhistory:\n  store: %s\n",
		historyNS, s.Size, s.Store)
	if s.Store == "disk" {
		y += fmt.Sprintf("  fsync: %q\ndata_dir: %q\n", s.Fsync, dataDir)
	}
	return y
}

// HistoryRun is one setup's figures.
type HistoryRun struct {
	historySetup
	OK               int64   `json:"publishes_ok"`
	Errors           int64   `json:"publish_errors"`
	Refused          int64   `json:"publishes_refused"`
	FirstError       string  `json:"first_publish_error,omitempty"`
	Seconds          float64 `json:"publish_seconds"`
	PublishesPerSec  float64 `json:"publishes_per_sec"`
	RatioToOff       float64 `json:"ratio_to_off"`
	RTT              Latency `json:"publish_rtt"`
	ServerCPUPercent float64 `json:"server_cpu_percent"` // 100 = one core
	BenchCPUPercent  float64 `json:"bench_cpu_percent"`  // this process: the publishers
	Load             Load    `json:"load"`
	ServerRSSAfter   *Mem    `json:"server_rss_after,omitempty"`
	// Kept is how many publications one of the channels keeps after the
	// run (asked over the protocol): history_size; with history off the
	// server refuses to answer, and it is 0. It shows the setup took
	// effect.
	Kept      int   `json:"kept_in_history"`
	DataBytes int64 `json:"data_dir_bytes,omitempty"`
}

// HistoryReport is the outcome of `herald bench history`.
type HistoryReport struct {
	Scenario string `json:"scenario"`
	machine
	Channels   int          `json:"channels"`
	Publishers int          `json:"publishers"`
	Size       int          `json:"size"`
	Duration   float64      `json:"duration_seconds"`
	Runs       []HistoryRun `json:"runs"`
	// BatchedRatio is disk-batched's publishes/s over history off's.
	BatchedRatio float64 `json:"disk_batched_ratio"`
	MeetsTarget  bool    `json:"meets_target"`
	Verdict      string  `json:"verdict"`
}

// historyTargetRatio: disk history with batched fsync may cost at most
// 30% of publish throughput against history off.
const historyTargetRatio = 0.70

func runHistory(ctx context.Context, args []string, env Env) error {
	fl := newFlagSet("bench history", env.Stderr)
	var c common
	fl.BoolVar(&c.jsonOut, "json", false, "print one JSON object instead of a table")
	fl.StringVar(&c.outFile, "out", "", "also write the JSON object to this file")
	duration := fl.Duration("duration", 15*time.Second, "how long to publish under each config")
	pubs := fl.Int("publishers", 32, "HTTP connections publishing at once (keep-alive)")
	channels := fl.Int("channels", 100, "channels the publishes go to in turn (hist:c0 ...)")
	size := fl.Int("size", 64, "bytes of each publication's data")
	histSize := fl.Int("history-size", 100, "history_size of the channels when history is on")
	interval := fl.Duration("fsync-interval", 200*time.Millisecond, "history.fsync of the batched disk config")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() > 0 {
		return usagef("bench history takes no arguments, got %q", fl.Args())
	}
	switch {
	case *duration <= 0 || *duration > time.Hour:
		return usagef("--duration must be positive, at most 1h")
	case *pubs < 1 || *pubs > 256:
		return usagef("--publishers must be 1..256")
	case *channels < 1 || *channels > 100000:
		return usagef("--channels must be 1..100000")
	case *size < 0 || *size > 1<<20:
		return usagef("--size must be 0..1048576")
	case *histSize < 1:
		return usagef("--history-size must be at least 1")
	case *interval <= 0:
		return usagef("--fsync-interval must be positive")
	}
	rep := HistoryReport{Scenario: "history", machine: thisMachine("history", args), Channels: *channels,
		Publishers: *pubs, Size: *size, Duration: duration.Seconds()}
	names := make([]string, *channels)
	for i := range names {
		names[i] = fmt.Sprintf("%s:c%d", historyNS, i)
	}
	for _, s := range historySetups(*histSize, *interval) {
		fmt.Fprintf(env.Stderr, "bench: history %s: publishing for %s\n", s.Name, *duration)
		run, err := measureHistory(ctx, env, s, names, *pubs, *size, *duration)
		if err != nil {
			return interrupted(ctx, fmt.Errorf("history %s: %w", s.Name, err))
		}
		rep.Runs = append(rep.Runs, run)
	}
	rep.judge()
	return c.emit(env.Stdout, rep, func(w io.Writer) { printHistory(w, rep) })
}

// measureHistory starts a fresh server with setup s, publishes flat out
// to channels for d, and stops it; its data directory goes with it.
func measureHistory(ctx context.Context, env Env, s historySetup, channels []string, pubs, size int, d time.Duration) (HistoryRun, error) {
	run := HistoryRun{historySetup: s}
	dataDir, err := os.MkdirTemp("", "herald-bench-data-")
	if err != nil {
		return run, err
	}
	defer os.RemoveAll(dataDir)
	srv, err := startServerConfig(ctx, env.Executable, nil, s.yaml(dataDir))
	if err != nil {
		return run, err
	}
	defer srv.stop()
	cpu0, _ := ReadCPU(srv.pid)
	bcpu0, _ := ReadCPU(os.Getpid())
	meter := startLoad()
	st := publishSpread(ctx, srv.httpURL+"/api/publish", srv.apiKey, channels, pubs, size, d)
	run.Load = meter.stop([]int{srv.pid, os.Getpid()}, machineCores())
	if cpu1, err := ReadCPU(srv.pid); err == nil {
		run.ServerCPUPercent = CPUPercent(cpu0, cpu1)
	}
	if bcpu1, err := ReadCPU(os.Getpid()); err == nil {
		run.BenchCPUPercent = CPUPercent(bcpu0, bcpu1)
	}
	if ctx.Err() != nil {
		return run, ctx.Err()
	}
	run.OK, run.Errors, run.Refused, run.FirstError, run.Seconds = st.OK, st.Errors, st.Refused, st.FirstError, st.Seconds
	run.RTT = summarize(st.RTT)
	if st.Seconds > 0 {
		run.PublishesPerSec = float64(st.OK) / st.Seconds
	}
	if m, err := ReadMem(srv.pid); err == nil {
		run.ServerRSSAfter = &m
	}
	run.Kept, err = countHistory(ctx, srv.wsURL, channels[0])
	switch {
	case s.Size == 0 && err == nil:
		return run, fmt.Errorf("%s keeps %d publications with history_size 0", channels[0], run.Kept)
	case s.Size == 0: // refused, as it must be: the channel keeps nothing
		run.Kept = 0
	case err != nil:
		return run, fmt.Errorf("reading the history of %s: %w", channels[0], err)
	}
	if s.Store == "disk" {
		run.DataBytes = dirBytes(dataDir)
	}
	return run, nil
}

// judge fills in the ratios and the verdict on the target.
func (r *HistoryReport) judge() {
	if len(r.Runs) == 0 || r.Runs[0].PublishesPerSec <= 0 {
		r.Verdict = "no publishes got through with history off"
		return
	}
	off := r.Runs[0].PublishesPerSec
	for i := range r.Runs {
		r.Runs[i].RatioToOff = r.Runs[i].PublishesPerSec / off
		if r.Runs[i].Name == "disk-batched" {
			r.BatchedRatio = r.Runs[i].RatioToOff
		}
	}
	clean := true
	for _, run := range r.Runs {
		clean = clean && run.Errors == 0
	}
	r.MeetsTarget = clean && r.BatchedRatio >= historyTargetRatio
	r.Verdict = fmt.Sprintf("disk history with batched fsync keeps %.0f%% of history off's publish throughput (target: at least %.0f%%)",
		100*r.BatchedRatio, 100*historyTargetRatio)
	if !clean {
		r.Verdict += "; some publishes failed"
	}
}

// dirBytes is the size of the files under dir.
func dirBytes(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}
