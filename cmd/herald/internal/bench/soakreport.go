package bench

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"
)

// SoakReport is the outcome of `herald bench soak`.
type SoakReport struct {
	Scenario string `json:"scenario"`
	machine
	Conns        int     `json:"conns"`
	Procs        int     `json:"procs"`
	Channels     int     `json:"channels"`
	Users        int     `json:"users"`
	SIOPercent   int     `json:"socketio_percent"`
	Rate         float64 `json:"publish_rate"`
	PushRate     float64 `json:"push_rate"`
	Size         int     `json:"size"`
	Churn        float64 `json:"churn_percent_per_minute"`
	Duration     float64 `json:"duration_seconds"`
	Interval     float64 `json:"interval_seconds"`
	Warmup       float64 `json:"warmup_seconds"`
	MaxRSSGrowth float64 `json:"max_rss_growth_percent"`

	Connected      int     `json:"connected"`
	ConnectFailed  int     `json:"connect_failed"`
	ConnectSeconds float64 `json:"connect_seconds"`
	MemBefore      *Mem    `json:"rss_before,omitempty"` // before any connection
	ServerExited   bool    `json:"server_exited,omitempty"`

	Samples []SoakSample  `json:"samples"`
	Account soakAccount   `json:"account"` // the workers' final account
	Load    soakLoadStats `json:"load"`
	Summary SoakSummary   `json:"summary"`
	// Failures says why the soak failed; empty when it passed.
	Failures []string `json:"failures"`
}

// SoakSample is the server and the connections at one moment.
type SoakSample struct {
	At          float64 `json:"at_seconds"` // since the load began
	Final       bool    `json:"final,omitempty"`
	RSSKB       int64   `json:"rss_kb"`
	AnonKB      int64   `json:"anon_kb"`
	FDs         int     `json:"fds"`
	Threads     int64   `json:"threads"`
	Goroutines  int     `json:"goroutines"`         // -1: not in /metrics
	ServerConns int64   `json:"server_connections"` // /api/info; -1 unknown
	CPUPercent  float64 `json:"server_cpu_percent"` // since the sample before; 100 = one core

	Live         int   `json:"live"` // connections the workers hold open
	Churned      int   `json:"churned"`
	ServerClosed int   `json:"server_closed"`
	DialFailed   int   `json:"dial_failed"`
	Published    int64 `json:"published"`
	Pushed       int64 `json:"pushed"`
	Refused      int64 `json:"refused"`
	Failed       int64 `json:"failed"`
	// Expected and Received are the deliveries owed so far and those that
	// came; Missing is the difference. During the run a connection owes
	// only up to the last seq it got (and only what was answered 2s ago);
	// the final sample counts the open connections' tails too.
	Expected int64 `json:"expected"`
	Received int64 `json:"received"`
	Missing  int64 `json:"missing"`
}

func (s SoakSample) line() string {
	when := (time.Duration(s.At) * time.Second).String()
	if s.Final {
		when = "final"
	}
	return fmt.Sprintf("%s: rss %.1f MB, %d fds, %s goroutines, %d threads, %d connections (server %d), %d churned, %d published, %d pushed, %d of %d delivered, %d missing",
		when, float64(s.RSSKB)/1024, s.FDs, orNA(s.Goroutines), s.Threads, s.Live, s.ServerConns, s.Churned,
		s.Published, s.Pushed, s.Received, s.Expected, s.Missing)
}

func orNA(n int) string {
	if n < 0 {
		return "n/a"
	}
	return fmt.Sprint(n)
}

// SoakSummary sums up the samples after the warm-up.
type SoakSummary struct {
	Samples int `json:"samples_after_warmup"`
	// RSS growth compares the median of the last three samples with that
	// of the first three after the warm-up.
	RSSBaselineKB    int64   `json:"rss_baseline_kb"`
	RSSEndKB         int64   `json:"rss_end_kb"`
	RSSMaxKB         int64   `json:"rss_max_kb"`
	RSSGrowthPercent float64 `json:"rss_growth_percent"`
	GoroutinesMin    int     `json:"goroutines_min"` // -1: not exported
	GoroutinesMax    int     `json:"goroutines_max"`
	FDsMin           int     `json:"fds_min"`
	FDsMax           int     `json:"fds_max"`
	ThreadsMin       int64   `json:"threads_min"`
	ThreadsMax       int64   `json:"threads_max"`
	ConnsMin         int64   `json:"server_connections_min"`
	ConnsMax         int64   `json:"server_connections_max"`
	Expected         int64   `json:"deliveries_expected"`
	Received         int64   `json:"deliveries_received"`
	Lost             int64   `json:"lost"`
}

// summarize fills in the summary and the failures.
func (r *SoakReport) summarize() {
	var after []SoakSample
	for _, s := range r.Samples {
		if s.At >= r.Warmup {
			after = append(after, s)
		}
	}
	sum := SoakSummary{Samples: len(after), GoroutinesMin: -1, GoroutinesMax: -1}
	if len(after) > 0 {
		sum.RSSBaselineKB = medianRSS(after[:min(3, len(after))])
		sum.RSSEndKB = medianRSS(after[max(0, len(after)-3):])
		if sum.RSSBaselineKB > 0 {
			sum.RSSGrowthPercent = 100 * float64(sum.RSSEndKB-sum.RSSBaselineKB) / float64(sum.RSSBaselineKB)
		}
		first := after[0]
		sum.GoroutinesMin, sum.GoroutinesMax = first.Goroutines, first.Goroutines
		sum.FDsMin, sum.FDsMax, sum.ThreadsMin, sum.ThreadsMax = first.FDs, first.FDs, first.Threads, first.Threads
		sum.ConnsMin, sum.ConnsMax = first.ServerConns, first.ServerConns
		for _, s := range after {
			sum.RSSMaxKB = max(sum.RSSMaxKB, s.RSSKB)
			sum.GoroutinesMin, sum.GoroutinesMax = min(sum.GoroutinesMin, s.Goroutines), max(sum.GoroutinesMax, s.Goroutines)
			sum.FDsMin, sum.FDsMax = min(sum.FDsMin, s.FDs), max(sum.FDsMax, s.FDs)
			sum.ThreadsMin, sum.ThreadsMax = min(sum.ThreadsMin, s.Threads), max(sum.ThreadsMax, s.Threads)
			sum.ConnsMin, sum.ConnsMax = min(sum.ConnsMin, s.ServerConns), max(sum.ConnsMax, s.ServerConns)
		}
	}
	tot := r.Account.Total()
	sum.Expected, sum.Received, sum.Lost = tot.Expected, tot.Received, tot.Missing()
	r.Summary = sum
	r.Failures = r.failures()
}

func medianRSS(s []SoakSample) int64 {
	v := make([]int64, len(s))
	for i, x := range s {
		v[i] = x.RSSKB
	}
	slices.Sort(v)
	return v[len(v)/2]
}

// failures lists what makes the soak fail.
func (r *SoakReport) failures() []string {
	var out []string
	add := func(cond bool, format string, args ...any) {
		if cond {
			out = append(out, fmt.Sprintf(format, args...))
		}
	}
	a, s, l := r.Account, r.Summary, r.Load
	tot := a.Total()
	final := len(r.Samples) > 0 && r.Samples[len(r.Samples)-1].Final
	add(r.ServerExited, "the server exited")
	add(!final && !r.ServerExited, "the soak did not finish")
	add(r.Connected < r.Conns, "%d of %d connections failed to connect", r.Conns-r.Connected, r.Conns)
	add(s.Lost > 0, "%d of %d deliveries lost", s.Lost, s.Expected)
	add(final && s.Expected == 0, "no delivery was owed: nothing was checked")
	add(tot.Duplicates > 0, "%d duplicate deliveries", tot.Duplicates)
	add(tot.Foreign > 0, "%d deliveries to a connection of another channel or user", tot.Foreign)
	add(tot.Extra > l.Failed, "%d deliveries of messages the API did not accept", tot.Extra-l.Failed)
	add(l.Refused+l.Failed > 0, "%d publishes or pushes refused, %d unanswered (first: %s)", l.Refused, l.Failed, l.FirstError)
	add(a.ServerClosed > 0, "%d connections closed by the server (first: %s)", a.ServerClosed, a.FirstError)
	add(a.DialFailed > 0, "%d reconnects failed (first: %s)", a.DialFailed, a.FirstError)
	add(s.Samples < 2, "fewer than two samples after the warm-up")
	add(s.RSSGrowthPercent > r.MaxRSSGrowth, "RSS grew %.1f%% after the warm-up (more than %.1f%%)", s.RSSGrowthPercent, r.MaxRSSGrowth)
	return out
}

func printSoak(w io.Writer, r SoakReport) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "herald bench %s\t%s\n", r.Scenario, r.Date)
	fmt.Fprintf(tw, "machine\t%d CPUs (%d usable here), %s, kernel %s\n", r.CPUs, r.Usable, r.GoVersion, r.Kernel)
	fmt.Fprintf(tw, "connections\t%d of %d (%d failed) in %.1fs over %d worker processes; %d%% Socket.IO\n",
		r.Connected, r.Conns, r.ConnectFailed, r.ConnectSeconds, r.Procs, r.SIOPercent)
	fmt.Fprintf(tw, "load\t%.0f publishes/s over %d channels, %.0f pushes/s over %d users, %d-byte data, %.1f%% churn a minute, for %s\n",
		r.Rate, r.Channels, r.PushRate, r.Users, r.Size, r.Churn, time.Duration(r.Duration*float64(time.Second)))
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "at\tRSS MB\tfds\tgoroutines\tthreads\tconns\tserver conns\tchurned\tpublished\tpushed\texpected\tmissing\tCPU %\t")
	for _, s := range r.Samples {
		at := (time.Duration(s.At) * time.Second).String()
		if s.Final {
			at = "final"
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%d\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.1f\t\n", at, float64(s.RSSKB)/1024, s.FDs,
			orNA(s.Goroutines), s.Threads, s.Live, s.ServerConns, s.Churned, s.Published, s.Pushed, s.Expected, s.Missing, s.CPUPercent)
	}
	tw.Flush()
	fmt.Fprintln(w)
	printSoakSummary(w, r)
}

func printSoakSummary(w io.Writer, r SoakReport) {
	s, a, l := r.Summary, r.Account, r.Load
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "after the warm-up (%s)\t%d samples\n", time.Duration(r.Warmup*float64(time.Second)), s.Samples)
	fmt.Fprintf(tw, "RSS\t%.1f MB → %.1f MB (%+.1f%%, limit %.1f%%), max %.1f MB\n", float64(s.RSSBaselineKB)/1024,
		float64(s.RSSEndKB)/1024, s.RSSGrowthPercent, r.MaxRSSGrowth, float64(s.RSSMaxKB)/1024)
	if s.GoroutinesMin >= 0 {
		fmt.Fprintf(tw, "goroutines\t%d – %d\n", s.GoroutinesMin, s.GoroutinesMax)
	} else {
		fmt.Fprintf(tw, "goroutines\tn/a (the server exports no go_goroutines)\n")
	}
	fmt.Fprintf(tw, "open files\t%d – %d\n", s.FDsMin, s.FDsMax)
	fmt.Fprintf(tw, "threads\t%d – %d\n", s.ThreadsMin, s.ThreadsMax)
	fmt.Fprintf(tw, "server connections\t%d – %d\n", s.ConnsMin, s.ConnsMax)
	fmt.Fprintf(tw, "connections\t%d opened in all, %d churned, %d closed by the server, %d failed to reconnect\n",
		a.Lives, a.Churned, a.ServerClosed, a.DialFailed)
	fmt.Fprintf(tw, "messages\t%d publishes and %d pushes accepted, %d refused, %d unanswered; API round trip p50 %.2f ms, p99 %.2f ms\n",
		l.Published, l.Pushed, l.Refused, l.Failed, l.RTT.P50, l.RTT.P99)
	fmt.Fprintf(tw, "deliveries\t%d of %d owed (publications %d of %d, pushes %d of %d; herald protocol %d of %d, Socket.IO %d of %d)\n",
		s.Received, s.Expected, a.Pub.Received, a.Pub.Expected, a.Push.Received, a.Push.Expected,
		a.Herald.Received, a.Herald.Expected, a.SocketIO.Received, a.SocketIO.Expected)
	tot := a.Total()
	fmt.Fprintf(tw, "lost\t%d; %d duplicates, %d to the wrong connection, %d unknown\n", s.Lost, tot.Duplicates, tot.Foreign, tot.Extra)
	if len(r.Failures) == 0 {
		fmt.Fprintf(tw, "verdict\tPASS\n")
	} else {
		for _, f := range r.Failures {
			fmt.Fprintf(tw, "FAIL\t%s\n", f)
		}
	}
	tw.Flush()
}
