// Package bench is `herald bench`: load generators that measure a herald
// server on this machine.
//
//	idle    hold many subscribed, silent connections; report the server's
//	        memory per connection and its CPU while they idle
//	fanout  subscribe many connections to one channel, publish through the
//	        HTTP API at a given rate; report deliveries/s, loss and latency
//	socketio idle|fanout
//	        the same with Socket.IO v4 clients, against herald and/or the
//	        Node reference server (npm socket.io), compared side by side
//	soak    hold many connections for a long time with churn, publishes
//	        and pushes; report the server's memory, goroutines and open
//	        files over time and every delivery lost
//	history publish flat out under history off, in memory and on disk
//	        (batched and per-publish fsync); report publishes/s of each
//	resume  drop many subscribers of a channel with history, publish,
//	        reconnect them all with since; report how long until each
//	        has every missed publication, and that it has them in order
//
// Without --url a scenario starts its own server (this executable's
// `serve`, with a config of its own on a free loopback port) and stops it
// at the end. The connections are held by worker processes (`herald bench
// worker`, hidden) so that no process needs more than the machine's file
// limit, each bound to its own loopback source address (127.0.0.2,
// 127.0.0.3, ...) for ports of its own. Every process this package starts
// ends with the run, and every wait is bounded.
package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// UsageError is an error in how bench was called; the CLI exits 2.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func usagef(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// Usage describes `herald bench`.
const Usage = `herald bench — measure a herald server on this machine (loopback only)

Usage:
  herald bench idle   [--conns 15000] [--procs 3] [--hold 20s] [--json]
  herald bench fanout [--subs 10000] [--rate 50] [--duration 20s] [--size 64] [--procs 3] [--json]
  herald bench socketio idle   [--target herald|node|both] [--conns 15000] ...
  herald bench socketio fanout [--target herald|node|both] [--subs 10000] [--rates 25,50,100] ...
  herald bench soak   [--conns 15000] [--duration 30m] [--churn 5] [--rate 200] [--push-rate 50] ...
  herald bench history [--duration 15s] [--publishers 32] [--channels 100] [--history-size 100] [--json]
  herald bench resume  [--clients 1000] [--missed 50] [--store memory|disk] [--json]

Without --url the bench starts its own server (this binary's serve, on a
free 127.0.0.1 port) and stops it at the end. With --url ws://127.0.0.1:PORT/ws
it uses a running one: give --server-pid for memory and CPU figures, and
--api-key for fanout.

Connections are held by worker processes (--procs), each with its own
source address 127.0.0.2, 127.0.0.3, ... Run "herald bench idle -h" or
"herald bench fanout -h" for every flag. "herald bench socketio" runs the
same scenarios with Socket.IO v4 clients against herald and the Node
reference server (bench/nodesio): "herald bench socketio -h". "herald bench
soak -h" describes the soak. "herald bench history" and "herald bench
resume" always start their own servers (one per config for history).
`

// Env is what Main runs with.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Executable is the herald binary to run as server and workers;
	// empty means this process's own executable.
	Executable string
}

// Main runs `herald bench ARGS`.
func Main(args []string, env Env) error {
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, Usage)
		return usagef("bench needs a scenario: idle, fanout, socketio, soak, history or resume")
	}
	if env.Executable == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("finding the herald executable: %w", err)
		}
		env.Executable = exe
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "idle":
		return runScenario(env, func(ctx context.Context) error { return runIdle(ctx, rest, env) })
	case "fanout":
		return runScenario(env, func(ctx context.Context) error { return runFanout(ctx, rest, env) })
	case "socketio":
		return runScenario(env, func(ctx context.Context) error { return runSocketIO(ctx, rest, env) })
	case "soak":
		return runScenario(env, func(ctx context.Context) error { return runSoak(ctx, rest, env) })
	case "history":
		return runScenario(env, func(ctx context.Context) error { return runHistory(ctx, rest, env) })
	case "resume":
		return runScenario(env, func(ctx context.Context) error { return runResume(ctx, rest, env) })
	case "worker":
		return runWorker(rest, env.Stdin, env.Stdout, env.Stderr)
	case "soak-worker":
		return runSoakWorker(rest, env.Stdin, env.Stdout, env.Stderr)
	case "-h", "--help", "help":
		fmt.Fprint(env.Stdout, Usage)
		return flag.ErrHelp
	default:
		fmt.Fprint(env.Stderr, Usage)
		return usagef("unknown bench scenario %q: use idle, fanout, socketio, soak, history or resume", cmd)
	}
}

// runScenario runs f with a context cancelled by SIGINT or SIGTERM, so
// that an interrupted bench still stops the processes it started.
func runScenario(env Env, f func(ctx context.Context) error) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return f(ctx)
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("herald "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// common are the flags every scenario has.
type common struct {
	procs     int
	url       string
	serverPID int
	apiKey    string
	jsonOut   bool
	outFile   string
	dialConc  int
	setup     time.Duration
	channel   string
	readBuf   int
	workerGMP int
	// proto and event are the workers' protocol and the publications'
	// event name; both empty for herald's protocol (bench socketio sets
	// them).
	proto, event string
}

// register adds the common flags; readBuf is the scenario's default read
// buffer per connection (small for idle connections, larger for fan-out,
// where a subscriber that is behind gets many frames at once and a small
// buffer costs it a read() each).
func (c *common) register(fs *flag.FlagSet, readBuf int) {
	fs.IntVar(&c.procs, "procs", 3, "worker processes holding the connections (each with its own source address)")
	fs.StringVar(&c.url, "url", "", "bench a running server at this ws:// URL (loopback) instead of starting one")
	fs.IntVar(&c.serverPID, "server-pid", 0, "with --url: the server's PID, for memory and CPU figures")
	fs.StringVar(&c.apiKey, "api-key", "", "with --url: the server's API key (fanout publishes with it; idle reads /api/info)")
	fs.BoolVar(&c.jsonOut, "json", false, "print one JSON object instead of a table")
	fs.StringVar(&c.outFile, "out", "", "also write the JSON object to this file")
	fs.IntVar(&c.dialConc, "dial-concurrency", 32, "connections each worker sets up at once")
	fs.DurationVar(&c.setup, "setup-timeout", 0, "how long connecting may take (default: 30s + 2ms per connection)")
	fs.IntVar(&c.readBuf, "read-buffer", readBuf, "read buffer of each worker connection, bytes")
	fs.IntVar(&c.workerGMP, "worker-gomaxprocs", 0, "GOMAXPROCS of each worker process (0: Go's default, every core)")
	fs.StringVar(&c.channel, "channel", "bench", "channel the connections subscribe to (the spawned server lets anyone subscribe to channels without a namespace)")
}

// check validates the common flags for n connections and returns the
// number of worker processes to use.
func (c *common) check(n int, stderr io.Writer) (int, error) {
	if c.procs < 1 || c.procs > maxProcs {
		return 0, usagef("--procs must be 1..%d", maxProcs)
	}
	if c.url == "" && (c.serverPID != 0 || c.apiKey != "") {
		return 0, usagef("--server-pid and --api-key go with --url")
	}
	if c.dialConc < 1 {
		return 0, usagef("--dial-concurrency must be at least 1")
	}
	if c.readBuf < 64 || c.readBuf > 1<<20 || c.workerGMP < 0 {
		return 0, usagef("--read-buffer must be 64..1048576, --worker-gomaxprocs not negative")
	}
	procs := c.procs
	if need := (n + maxConnsPerProc - 1) / maxConnsPerProc; need > procs {
		fmt.Fprintf(stderr, "bench: %d connections need %d worker processes (at most %d each); using %d\n", n, need, maxConnsPerProc, need)
		procs = need
	}
	if procs > maxProcs {
		return 0, usagef("%d connections are too many for one machine's %d worker processes", n, maxProcs)
	}
	if c.setup == 0 {
		c.setup = 30*time.Second + time.Duration(n)*2*time.Millisecond
	}
	return procs, nil
}

// workers returns the settings for a run's workers.
func (c *common) workers(srvs nodes, deadline time.Duration) workerOpts {
	var urls []string
	for _, t := range srvs {
		urls = append(urls, t.wsURL)
	}
	return workerOpts{wsURLs: urls, channel: c.channel, proto: c.proto, event: c.event, dialConc: c.dialConc,
		readBuf: c.readBuf, gomaxprocs: c.workerGMP, deadline: deadline}
}

// connectWorkers starts workers holding n connections to srvs (worker i
// to node i mod len(srvs)), alive until deadline, and waits until they
// are all set up. The caller stops the returned workers; on error they
// are already stopped.
func (c *common) connectWorkers(ctx context.Context, env Env, srvs nodes, deadline time.Duration, n, procs int) (*workerSet, workerMsg, float64, error) {
	ws, err := startWorkers(env.Executable, c.workers(srvs, deadline), spreadConns(n, procs))
	if err != nil {
		return nil, workerMsg{}, 0, err
	}
	start := time.Now()
	if err := ws.waitReady(ctx, c.setup, srvs, progressLine(env.Stderr, n)); err != nil {
		ws.stop(15 * time.Second)
		return nil, workerMsg{}, 0, interrupted(ctx, err)
	}
	return ws, ws.total(), time.Since(start).Seconds(), nil
}

// emit prints the report as a table or JSON, and writes --out.
func (c *common) emit(w io.Writer, rep any, table func(io.Writer)) error {
	if c.outFile != "" {
		f, err := os.Create(c.outFile)
		if err != nil {
			return err
		}
		err = writeJSON(f, rep)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	if c.jsonOut {
		return writeJSON(w, rep)
	}
	table(w)
	return nil
}

// maxConnsPerProc keeps a worker below the machine's 20,000 open files.
const maxConnsPerProc = 19000

// connect finds or starts the server.
func (c *common) connect(ctx context.Context, env Env) (*target, error) {
	if c.url != "" {
		return externalTarget(ctx, c.url, c.apiKey, c.serverPID)
	}
	return startServer(ctx, env.Executable, nil)
}

// machine describes where the bench ran.
type machine struct {
	Date      string `json:"date"`
	GoVersion string `json:"go_version"`
	CPUs      int    `json:"cpus"`        // the machine's
	Usable    int    `json:"usable_cpus"` // this process's affinity (taskset)
	Kernel    string `json:"kernel,omitempty"`
	Command   string `json:"command"`
}

func thisMachine(scenario string, args []string) machine {
	k, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return machine{
		Date: time.Now().UTC().Format(time.RFC3339), GoVersion: runtime.Version(), CPUs: machineCores(), Usable: runtime.NumCPU(),
		Kernel: strings.TrimSpace(string(k)), Command: strings.TrimSpace("herald bench " + scenario + " " + strings.Join(args, " ")),
	}
}

// sleepCtx sleeps d unless ctx ends first.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// progressLine prints connection progress to stderr on one line.
func progressLine(w io.Writer, want int) func(workerMsg) {
	return func(m workerMsg) {
		fmt.Fprintf(w, "bench: %d/%d connected, %d failed\n", m.Connected, want, m.Failed)
	}
}

var errInterrupted = errors.New("interrupted")

func interrupted(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return errInterrupted
	}
	return err
}
