package bench

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	herald "github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/config"
)

func TestHistoryAndResumeUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	env := Env{Stdout: &out, Stderr: &errOut, Executable: "/nonexistent"}
	for _, args := range [][]string{{"history", "--duration", "0s"}, {"history", "--publishers", "0"},
		{"history", "--channels", "0"}, {"history", "--history-size", "0"}, {"history", "--fsync-interval", "0s"},
		{"history", "extra"}, {"resume", "--clients", "0"}, {"resume", "--missed", "0"}, {"resume", "--store", "file"},
		{"resume", "--missed", "50", "--history-size", "50"}, {"resume", "--concurrency", "-1"}, {"resume", "extra"}} {
		var ue *UsageError
		if err := Main(args, env); !errors.As(err, &ue) {
			t.Errorf("bench %q: %v, want a usage error", args, err)
		}
	}
}

// TestHistorySetupsAreValidConfigs loads each setup's config the way
// `herald serve --config` does.
func TestHistorySetupsAreValidConfigs(t *testing.T) {
	dir := t.TempDir()
	want := map[string]herald.History{"off": {Store: "memory"}, "memory": {Store: "memory"},
		"disk-batched": {Store: "disk", Fsync: "200ms"}, "disk-always": {Store: "disk", Fsync: "always"}}
	for _, s := range historySetups(100, 200*time.Millisecond) {
		file := filepath.Join(dir, s.Name+".yaml")
		yaml := serverConfig(1234, "key", "secret") + s.yaml(filepath.Join(dir, "data"))
		if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := config.Check(config.Options{File: file})
		if err != nil {
			t.Fatalf("%s: %v\n%s", s.Name, err, yaml)
		}
		if h := c.History; h.Store != want[s.Name].Store || (s.Store == "disk" && h.Fsync != want[s.Name].Fsync) {
			t.Errorf("%s: history %+v, want %+v", s.Name, h, want[s.Name])
		}
		if got := c.Namespaces[historyNS].HistorySize; got != s.Size {
			t.Errorf("%s: history_size %d, want %d", s.Name, got, s.Size)
		}
	}
}

func TestHistoryJudge(t *testing.T) {
	runs := func(rates ...float64) HistoryReport {
		var r HistoryReport
		for i, s := range historySetups(100, time.Second) {
			r.Runs = append(r.Runs, HistoryRun{historySetup: s, PublishesPerSec: rates[i]})
		}
		return r
	}
	r := runs(1000, 900, 700, 100)
	r.judge()
	if !r.MeetsTarget || r.BatchedRatio != 0.7 || r.Runs[0].RatioToOff != 1 || r.Runs[3].RatioToOff != 0.1 {
		t.Errorf("at 70%%: %+v", r)
	}
	r = runs(1000, 900, 699, 100)
	r.judge()
	if r.MeetsTarget || !strings.Contains(r.Verdict, "70%") {
		t.Errorf("at 69.9%%: met %v, %q", r.MeetsTarget, r.Verdict)
	}
	r = runs(1000, 900, 800, 100)
	r.Runs[1].Errors = 1
	r.judge()
	if r.MeetsTarget || !strings.Contains(r.Verdict, "failed") {
		t.Errorf("with errors: met %v, %q", r.MeetsTarget, r.Verdict)
	}
}

func TestResumeAccount(t *testing.T) {
	ok := resumeOutcome{reconnected: true, recovered: true, reply: time.Millisecond, done: 2 * time.Millisecond}
	r := ResumeReport{Clients: 3, Subscribed: 3}
	r.account([]resumeOutcome{ok, ok, ok}, 3*time.Millisecond)
	if !r.Passed || r.Complete != 3 || r.Recovered != 3 || r.Done.Count != 3 || r.TotalSeconds != 0.003 || r.Failures != nil {
		t.Errorf("all complete: %+v", r)
	}
	bad := resumeOutcome{reconnected: true, recovered: true, kind: "stream", err: errors.New("publication 3 of 50 is offset 9")}
	r = ResumeReport{Clients: 3, Subscribed: 3}
	r.account([]resumeOutcome{ok, bad, bad}, time.Second)
	if r.Passed || r.Complete != 1 || r.Failed != 2 || r.Failures["stream"] != 2 || len(r.Examples) != 1 || r.Done.Count != 1 {
		t.Errorf("two out of order: %+v", r)
	}
	r = ResumeReport{Clients: 3, Subscribed: 3, DeliveredWhileGone: 1}
	r.account([]resumeOutcome{ok, ok, ok}, time.Second)
	if r.Passed {
		t.Error("passed although a client got a publication while it was gone")
	}
}
