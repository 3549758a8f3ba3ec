//go:build loadtest

package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// runWorkerInProcess runs a worker in this process (so that the race
// detector sees it) and returns a function giving its next line of a
// type, and its stdin.
func runWorkerInProcess(t *testing.T, ctx context.Context, args ...string) (next func(string) workerMsg, stdin io.WriteCloser, done chan error) {
	t.Helper()
	return runInProcess(t, ctx, runWorker, args...)
}

// runInProcess is runWorkerInProcess for any kind of worker.
func runInProcess(t *testing.T, ctx context.Context, worker func([]string, io.Reader, io.Writer, io.Writer) error,
	args ...string) (next func(string) workerMsg, stdin io.WriteCloser, done chan error) {
	t.Helper()
	stdinR, stdinW := io.Pipe()
	stdoutR, stdoutW := io.Pipe()
	done = make(chan error, 1)
	go func() {
		err := worker(args, stdinR, stdoutW, io.Discard)
		stdoutW.Close()
		done <- err
	}()
	lines := make(chan workerMsg, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdoutR)
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			var m workerMsg
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Errorf("worker wrote %q: %v", sc.Text(), err)
				continue
			}
			lines <- m
		}
	}()
	next = func(typ string) workerMsg {
		t.Helper()
		for {
			select {
			case m, ok := <-lines:
				if !ok {
					t.Fatalf("worker output ended before %q", typ)
				}
				if m.Type == typ {
					return m
				}
				if m.Type == "fatal" {
					t.Fatalf("worker: %s", m.FirstError)
				}
			case <-ctx.Done():
				t.Fatalf("no %q from the worker", typ)
			}
		}
	}
	return next, stdinW, done
}

// TestSocketIOEndToEnd runs Socket.IO workers in this process against
// the stock herald serve (recovery on, its default, and off), publishes
// through the API and checks the workers' account: a few sockets for a
// second. It is not skipped with -short.
func TestSocketIOEndToEnd(t *testing.T) {
	bin := buildHerald(t)
	for _, recovery := range []bool{true, false} {
		t.Run(fmt.Sprintf("recovery=%v", recovery), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			srv, err := startServerConfig(ctx, bin, nil, sioHeraldYAML(recovery))
			if err != nil {
				t.Fatal(err)
			}
			defer func() { srv.stop(); checkNoLeftovers(t, bin) }()
			srv.wsURL = sioURL(srv.httpURL)

			const conns = 5
			next, stdin, done := runWorkerInProcess(t, ctx, "--url", srv.wsURL, "--conns", fmt.Sprint(conns),
				"--local-ip", "127.0.0.2", "--channel", "bench", "--proto", "socketio", "--event", "tick", "--deadline", "1m")
			if m := next("ready"); m.Connected != conns || m.Failed != 0 {
				t.Fatalf("ready: %+v", m)
			}
			if info, err := srv.info(ctx); err != nil || info["connections"] != float64(conns) {
				t.Fatalf("/api/info: %v %v", info, err)
			}
			ps := publish(ctx, publishConfig{urls: []string{srv.httpURL + "/api/publish"}, apiKey: srv.apiKey, channel: "bench", event: "tick",
				rate: 50, duration: time.Second, size: 64, conc: 2})
			if ps.Errors != 0 || ps.OK != 50 || ps.Delivered != 50*conns {
				t.Fatalf("publisher: %+v", ps)
			}
			want := uint64(ps.OK * conns)
			for m := next("progress"); m.Received < want; m = next("progress") {
			}
			fmt.Fprintf(stdin, "report %d\n", ps.MaxSeq)
			res := next("result").Result
			if res == nil {
				t.Fatal("no result")
			}
			if res.Unique != want || res.Received != want || res.Duplicates != 0 || res.Extra != 0 || res.Unparsed != 0 ||
				res.ConnsWithLoss != 0 || res.Closed != 0 {
				t.Fatalf("result: %+v", res)
			}
			if res.Latency.Count != want || res.Latency.Max <= 0 || res.Latency.Max > int64(5*time.Second) {
				t.Fatalf("latency: count %d max %d", res.Latency.Count, res.Latency.Max)
			}
			stdin.Close()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-ctx.Done():
				t.Fatal("the worker did not exit when its stdin closed")
			}
		})
	}
}

// TestSocketIOJoinRefused checks that a worker reports a room herald's
// policy refuses instead of counting the socket as subscribed.
func TestSocketIOJoinRefused(t *testing.T) {
	bin := buildHerald(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := startServerConfig(ctx, bin, nil, "namespaces:\n  closed:\n    subscribe: nobody\n")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { srv.stop(); checkNoLeftovers(t, bin) }()
	next, stdin, _ := runWorkerInProcess(t, ctx, "--url", sioURL(srv.httpURL), "--conns", "1", "--local-ip", "127.0.0.2",
		"--channel", "closed:room", "--proto", "socketio", "--deadline", "1m")
	defer stdin.Close()
	if m := next("ready"); m.Connected != 0 || m.Failed != 1 || m.FirstError == "" {
		t.Fatalf("ready: %+v", m)
	}
}

// TestSocketIOCLI runs `herald bench socketio` against herald end to end.
func TestSocketIOCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("runs servers and workers for several seconds")
	}
	bin := buildHerald(t)
	var f SocketIOReport
	runBenchCLI(t, bin, &f, "socketio", "fanout", "--subs", "20", "--procs", "1", "--rates", "20,40", "--duration", "1s",
		"--quiet-wait", "0", "--json")
	if len(f.Fanout) != 2 || len(f.Summary.Targets) != 1 {
		t.Fatalf("report: %+v", f)
	}
	for _, r := range f.Fanout {
		if r.Target != "herald" || r.Subscribed != 20 || r.Lost != 0 || r.Received != uint64(20*r.Sent) || r.Unparsed != 0 ||
			r.Sustained == nil || !*r.Sustained {
			t.Fatalf("step: %+v", r)
		}
	}
	var i SocketIOReport
	runBenchCLI(t, bin, &i, "socketio", "idle", "--conns", "30", "--procs", "1", "--hold", "1s", "--settle", "200ms",
		"--recovery=false", "--quiet-wait", "0", "--json")
	if len(i.Idle) != 1 || i.Idle[0].Connected != 30 || i.Idle[0].ServerConns != 30 || i.Idle[0].RSSPerConn == 0 {
		t.Fatalf("idle: %+v", i)
	}
}

// TestSocketIONode runs the comparison against the Node reference
// server: skipped with -short, and when node or npm is missing (npm ci
// needs the npm registry, or its cache, the first time).
func TestSocketIONode(t *testing.T) {
	if testing.Short() {
		t.Skip("installs and runs the Node reference server")
	}
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: the Node reference server cannot run (%v)", tool, err)
		}
	}
	// Install it here, so that the runs below do not, and so that a
	// machine without the npm registry (or its cache) skips rather than
	// fails.
	dir, err := findNodeDir("")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := prepareNode(ctx, dir, io.Discard); err != nil {
		if errors.Is(err, errNoNode) || strings.Contains(err.Error(), "npm ci") {
			t.Skipf("the Node reference server cannot be installed here: %v", err)
		}
		t.Fatal(err)
	}
	bin := buildHerald(t)
	var f SocketIOReport
	runBenchCLI(t, bin, &f, "socketio", "fanout", "--target", "both", "--subs", "10", "--procs", "1", "--rate", "20",
		"--duration", "1s", "--quiet-wait", "0", "--json")
	if f.Node == nil || f.Node.SocketIO == "" || f.Node.Node == "" || len(f.Fanout) != 2 {
		t.Fatalf("report: %+v", f)
	}
	for _, r := range f.Fanout {
		if r.Subscribed != 10 || r.Lost != 0 || r.Received != uint64(10*r.Sent) || r.Sent != 20 || r.ServerDelivered != 200 ||
			r.ServerRSSAfter == nil {
			t.Fatalf("%s: %+v", r.Target, r)
		}
	}
	if f.Fanout[1].Target != "node" || f.Summary.ThroughputRatio == 0 {
		t.Fatalf("summary: %+v", f.Summary)
	}
	var i SocketIOReport
	runBenchCLI(t, bin, &i, "socketio", "idle", "--target", "node", "--conns", "20", "--procs", "1", "--hold", "1s",
		"--settle", "200ms", "--quiet-wait", "0", "--json")
	if len(i.Idle) != 1 || i.Idle[0].Connected != 20 || i.Idle[0].ServerConns != 20 || i.Idle[0].ServerMemory == nil {
		t.Fatalf("idle: %+v", i)
	}
}
