package bench

import (
	"fmt"
	"io"
	"text/tabwriter"
)

func printHistory(w io.Writer, r HistoryReport) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "scenario\thistory: publish throughput through the HTTP API, one fresh server per config\n")
	fmt.Fprintf(tw, "machine\t%d CPUs (%d usable here), %s, kernel %s\n", r.CPUs, r.Usable, r.GoVersion, r.Kernel)
	fmt.Fprintf(tw, "load\t%d publishers (keep-alive) over %d channels, %d-byte data, %.0fs per config\n",
		r.Publishers, r.Channels, r.Size, r.Duration)
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "config\thistory_size\tstore\tfsync\tpublishes/s\tvs off\tRTT p50 ms\tp99 ms\terrors\tserver CPU\tpublisher CPU\tother CPU\tkept\tdata dir\t")
	for _, x := range r.Runs {
		fsync := x.Fsync
		if fsync == "" {
			fsync = "-"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%.0f\t%.2f\t%.2f\t%.2f\t%d\t%.0f%%\t%.0f%%\t%.0f%%\t%d\t%s\t\n",
			x.Name, x.Size, x.Store, fsync, x.PublishesPerSec, x.RatioToOff, x.RTT.P50, x.RTT.P99, x.Errors+x.Refused,
			x.ServerCPUPercent, x.BenchCPUPercent, x.Load.OtherPercent+x.Load.UnattributedPercent, x.Kept, kib(x.DataBytes))
	}
	tw.Flush()
	for _, x := range r.Runs {
		if x.FirstError != "" {
			fmt.Fprintf(w, "%s: first publish error: %s\n", x.Name, x.FirstError)
		}
	}
	verdict := "MET"
	if !r.MeetsTarget {
		verdict = "NOT MET"
	}
	fmt.Fprintf(w, "\ntarget %s: %s\n", verdict, r.Verdict)
}

func kib(n int64) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%d KiB", n/1024)
}
