//go:build loadtest

package bench

import (
	"os"
	"testing"
)

// TestHistoryEndToEnd runs `herald bench history` briefly: four fresh
// servers one after the other, each published to, each keeping what its
// config says, and nothing of their data directories left behind.
func TestHistoryEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs four servers for a few seconds")
	}
	bin := buildHerald(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	var r HistoryReport
	runBenchCLI(t, bin, &r, "history", "--duration", "1s", "--publishers", "4", "--channels", "5", "--history-size", "10", "--json")
	want := []struct {
		name  string
		kept  int
		store string
	}{{"off", 0, "memory"}, {"memory", 10, "memory"}, {"disk-batched", 10, "disk"}, {"disk-always", 10, "disk"}}
	if len(r.Runs) != len(want) {
		t.Fatalf("%d runs, want %d: %+v", len(r.Runs), len(want), r.Runs)
	}
	for i, w := range want {
		x := r.Runs[i]
		if x.Name != w.name || x.Store != w.store || x.Kept != w.kept {
			t.Errorf("run %d: %s store %s keeps %d, want %s %s %d", i, x.Name, x.Store, x.Kept, w.name, w.store, w.kept)
		}
		if x.OK < 20 || x.Errors != 0 || x.PublishesPerSec <= 0 || x.RTT.Count != uint64(x.OK+x.Refused) || x.Seconds < 1 {
			t.Errorf("%s: %+v", x.Name, x)
		}
		if (w.store == "disk") != (x.DataBytes > 0) {
			t.Errorf("%s: data dir of %d bytes", x.Name, x.DataBytes)
		}
	}
	if r.Runs[0].RatioToOff != 1 || r.BatchedRatio != r.Runs[2].RatioToOff || r.BatchedRatio <= 0 || r.Verdict == "" {
		t.Errorf("ratios: %v, batched %v, %q", r.Runs[0].RatioToOff, r.BatchedRatio, r.Verdict)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("left in TMPDIR: %v", left)
	}
}

// TestResumeEndToEnd drops and resumes subscribers against the built
// server, with history in memory and on disk with fsync always.
func TestResumeEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a server for a few seconds")
	}
	bin := buildHerald(t)
	for _, store := range [][]string{{"--store", "memory"}, {"--store", "disk", "--fsync", "always"}} {
		tmp := t.TempDir()
		t.Setenv("TMPDIR", tmp)
		var r ResumeReport
		runBenchCLI(t, bin, &r, append([]string{"resume", "--clients", "100", "--missed", "20", "--json"}, store...)...)
		if !r.Passed || r.Subscribed != 100 || r.DeliveredWhileGone != 0 || r.Reconnected != 100 || r.Recovered != 100 ||
			r.Complete != 100 || r.Failed != 0 || r.Store != store[1] || r.HistorySize != 40 {
			t.Errorf("%s: %+v", store[1], r)
		}
		if d := r.Done; d.Count != 100 || d.P50 <= 0 || d.P50 > d.P99 || d.P99 > d.Max || r.Reply.Count != 100 || r.Reply.Max > d.Max {
			t.Errorf("%s: reply %+v, done %+v", store[1], r.Reply, d)
		}
		// The histogram's max is a bucket's midpoint, within 0.8% of the value.
		if r.TotalSeconds*1000 < r.Done.Max*0.98 {
			t.Errorf("%s: total %vs before the last client was done (%v ms)", store[1], r.TotalSeconds, r.Done.Max)
		}
		if left, _ := os.ReadDir(tmp); len(left) != 0 {
			t.Errorf("%s: left in TMPDIR: %v", store[1], left)
		}
	}
}
