//go:build loadtest

package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// buildHerald builds the herald binary into a test's temporary directory.
func buildHerald(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "herald")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/heraldhq/herald/cmd/herald")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building herald: %v\n%s", err, out)
	}
	return bin
}

// leftovers lists running processes of bin: none may outlive a bench.
func leftovers(bin string) []string {
	var out []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err == nil && exe == bin {
			out = append(out, e.Name())
		}
	}
	return out
}

func checkNoLeftovers(t *testing.T, bin string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		left := leftovers(bin)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes of %s still running: %v", bin, left)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestWorkerAndPublisher runs a worker in this process (so the race
// detector sees it) against a real server, publishes through the API and
// checks the worker's account of it.
func TestWorkerAndPublisher(t *testing.T) {
	bin := buildHerald(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv, err := startServer(ctx, bin, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { srv.stop(); checkNoLeftovers(t, bin) }()

	const conns = 20
	next, stdinW, done := runWorkerInProcess(t, ctx, "--url", srv.wsURL, "--conns", fmt.Sprint(conns),
		"--local-ip", "127.0.0.2", "--channel", "bench", "--deadline", "1m")
	if m := next("ready"); m.Connected != conns || m.Failed != 0 {
		t.Fatalf("ready: %+v", m)
	}
	ps := publish(ctx, publishConfig{urls: []string{srv.httpURL + "/api/publish"}, apiKey: srv.apiKey, channel: "bench",
		rate: 100, duration: 500 * time.Millisecond, size: 100, conc: 2})
	if ps.Errors != 0 || ps.OK != 50 || ps.MaxSeq != 50 || ps.Delivered != 50*conns {
		t.Fatalf("publisher: %+v", ps)
	}
	for {
		m := next("progress")
		if m.Received >= uint64(ps.OK*conns) {
			break
		}
	}
	fmt.Fprintf(stdinW, "report %d\n", ps.MaxSeq)
	res := next("result").Result
	if res == nil {
		t.Fatal("no result")
	}
	want := uint64(ps.OK * conns)
	if res.Unique != want || res.Received != want || res.Duplicates != 0 || res.Extra != 0 || res.ConnsWithLoss != 0 || res.Closed != 0 {
		t.Fatalf("result: %+v", res)
	}
	if res.Latency.Count != want || res.Latency.Max <= 0 || res.Latency.Max > int64(5*time.Second) {
		t.Fatalf("latency: count %d max %d", res.Latency.Count, res.Latency.Max)
	}
	if res.LastRecv < ps.LastSend.UnixNano() {
		t.Fatalf("last receipt %d before last send %d", res.LastRecv, ps.LastSend.UnixNano())
	}
	// Asking again gives the same account (the connections are closed).
	fmt.Fprintf(stdinW, "report %d\n", ps.MaxSeq)
	if again := next("result").Result; again == nil || again.Unique != res.Unique || again.Received != res.Received {
		t.Fatalf("second report %+v, first %+v", again, res)
	}
	stdinW.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-ctx.Done():
		t.Fatal("the worker did not exit when its stdin closed")
	}
}

// runBenchCLI runs the built binary's bench with --json and decodes it.
func runBenchCLI(t *testing.T, bin string, v any, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"bench"}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("herald bench %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), v); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, stdout.String())
	}
	checkNoLeftovers(t, bin)
}

func TestIdleEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a server and a worker for a few seconds")
	}
	bin := buildHerald(t)
	var r IdleReport
	runBenchCLI(t, bin, &r, "idle", "--conns", "50", "--procs", "1", "--hold", "2s", "--settle", "500ms", "--json")
	if r.Connected != 50 || r.Failed != 0 || r.ServerConns != 50 || r.ClosedDuring != 0 {
		t.Fatalf("connections: %+v", r)
	}
	if r.MemBefore == nil || r.MemAfter == nil || r.MemAfter.RSSKB <= 0 || r.RSSPerConn == 0 || r.MeetsTarget == nil {
		t.Fatalf("memory figures missing: %+v", r)
	}
	if r.ServerCPUPercent < 0 || r.ServerCPUPercent > 200 || r.HoldSeconds != 2 {
		t.Fatalf("cpu %v over %vs", r.ServerCPUPercent, r.HoldSeconds)
	}
}

func TestFanoutEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a server and a worker for a few seconds")
	}
	bin := buildHerald(t)
	var r FanoutReport
	runBenchCLI(t, bin, &r, "fanout", "--subs", "50", "--procs", "1", "--rate", "50", "--duration", "2s", "--json")
	if r.Subscribed != 50 || r.Sent != 100 || r.PublishErrors != 0 {
		t.Fatalf("setup: %+v", r)
	}
	if r.Expected != 5000 || r.Received != 5000 || r.Lost != 0 || r.Duplicates != 0 || r.ServerDelivered != 5000 {
		t.Fatalf("deliveries: %+v", r)
	}
	if l := r.Latency; l.Count != 5000 || l.P50 <= 0 || l.P50 > l.P99 || l.P99 > l.Max || l.Max > 5000 {
		t.Fatalf("latency: %+v", l)
	}
	if r.DeliveriesPerSec <= 0 || r.WindowSeconds < 1.9 {
		t.Fatalf("throughput %v over %vs", r.DeliveriesPerSec, r.WindowSeconds)
	}
}
