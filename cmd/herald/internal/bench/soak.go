package bench

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// SoakUsage describes `herald bench soak`.
const SoakUsage = `herald bench soak — hold many connections for a long time under churn and traffic

Usage:
  herald bench soak [--conns 15000] [--duration 30m] [--interval 30s] [--warmup 5m]
                    [--churn 5] [--channels 1000] [--rate 200] [--users 5000] [--push-rate 50]
                    [--sio 20] [--max-rss-growth 5] [--procs 3] [--json] [--out FILE]

Every connection belongs to a user (a token signed with the server's
secret) and subscribes to one of --channels channels; --sio percent of
them speak Socket.IO, the others herald's protocol. Each minute --churn
percent of the connections close and reconnect. The bench publishes
--rate messages a second round robin over the channels (POST /api/publish)
and pushes --push-rate a second round robin over the users (POST
/api/push), and checks that every connection gets every message owed to
it: each accepted message sent after its subscription was acknowledged,
with no gap in any channel's or user's sequence while it was connected,
through to the last one for the connections open at the end.

Every --interval it samples the server's RSS, open files and threads
(/proc), goroutines (go_goroutines in /metrics, when exported) and
connections (/api/info), and the messages owed and missing so far. The
summary gives RSS growth after --warmup (median of the first three samples
after it against the last three; the warm-up has to outlast the server's
climb to its steady state, which includes socketio.recovery_window), the
min and max of goroutines and open files after it, and the total loss. The exit status is 1 when anything was
lost, duplicated or refused, a connection failed or was closed by the
server, or RSS grew more than --max-rss-growth percent.

With --url ws://127.0.0.1:PORT/ws it soaks a running server: give
--server-pid, --api-key and --token-secret (its HS256 token_secret) too.
`

// soakOpts are the flags of bench soak.
type soakOpts struct {
	c                      common
	conns, channels, users int
	sioPercent, size, pubs int
	rate, pushRate, churn  float64
	duration, interval     time.Duration
	warmup, drain          time.Duration
	maxGrowth              float64
	tokenSecret            string
}

func parseSoakFlags(args []string, env Env) (*soakOpts, error) {
	fs := newFlagSet("bench soak", env.Stderr)
	fs.Usage = func() {
		fmt.Fprint(env.Stderr, SoakUsage+"\nFlags:\n")
		fs.PrintDefaults()
	}
	o := &soakOpts{}
	c := &o.c
	fs.IntVar(&c.procs, "procs", 3, "worker processes holding the connections (each with its own source address)")
	fs.StringVar(&c.url, "url", "", "soak a running server at this ws:// URL (loopback; its /ws) instead of starting one")
	fs.IntVar(&c.serverPID, "server-pid", 0, "with --url: the server's PID, for its memory, files and CPU")
	fs.StringVar(&c.apiKey, "api-key", "", "with --url: the server's API key")
	fs.StringVar(&o.tokenSecret, "token-secret", "", "with --url: the server's token_secret, to sign the users' tokens")
	fs.BoolVar(&c.jsonOut, "json", false, "print one JSON object instead of a table")
	fs.StringVar(&c.outFile, "out", "", "also write the JSON object to this file")
	fs.IntVar(&c.dialConc, "dial-concurrency", 32, "connections each worker sets up at once")
	fs.DurationVar(&c.setup, "setup-timeout", 0, "how long connecting may take (default: 30s + 2ms per connection)")
	fs.IntVar(&c.readBuf, "read-buffer", 1024, "read buffer of each worker connection, bytes")
	fs.IntVar(&c.workerGMP, "worker-gomaxprocs", 0, "GOMAXPROCS of each worker process (0: Go's default, every core)")
	fs.IntVar(&o.conns, "conns", 15000, "connections to hold")
	fs.DurationVar(&o.duration, "duration", 30*time.Minute, "how long to soak")
	fs.DurationVar(&o.interval, "interval", 30*time.Second, "how often to sample")
	fs.DurationVar(&o.warmup, "warmup", 0, "what RSS growth is measured after (default: a sixth of --duration, at most 5m)")
	fs.Float64Var(&o.churn, "churn", 5, "percent of the connections that close and reconnect each minute")
	fs.IntVar(&o.channels, "channels", 1000, "channels the connections are spread over")
	fs.Float64Var(&o.rate, "rate", 200, "publishes a second, round robin over the channels")
	fs.IntVar(&o.users, "users", 5000, "users the connections belong to (each has conns/users of them)")
	fs.Float64Var(&o.pushRate, "push-rate", 50, "pushes a second, round robin over the users")
	fs.IntVar(&o.sioPercent, "sio", 20, "percent of the connections speaking Socket.IO (the others speak herald's protocol)")
	fs.IntVar(&o.size, "size", 64, "bytes of each message's data")
	fs.IntVar(&o.pubs, "publishers", 4, "HTTP connections publishing and pushing")
	fs.DurationVar(&o.drain, "drain", 30*time.Second, "after the load stops, how long to wait for what is owed")
	fs.Float64Var(&o.maxGrowth, "max-rss-growth", 5, "fail when RSS grows more than this percent after the warm-up")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, usagef("bench soak takes no arguments, got %q", fs.Args())
	}
	return o, o.check()
}

func (o *soakOpts) check() error {
	if o.warmup == 0 {
		o.warmup = min(o.duration/6, 5*time.Minute)
	}
	switch {
	case o.conns < 1:
		return usagef("--conns must be positive")
	case o.duration <= 0 || o.duration > 24*time.Hour:
		return usagef("--duration must be positive, at most 24h")
	case o.interval < time.Second:
		return usagef("--interval must be at least 1s")
	case o.warmup < 0 || o.duration-o.warmup < 2*o.interval:
		return usagef("--duration must leave at least two --interval samples after --warmup")
	case o.churn < 0 || o.churn > 100:
		return usagef("--churn must be 0..100 (percent a minute)")
	case o.channels < 1 || o.channels > 100000 || o.users < 1 || o.users > maxSoakStreams:
		return usagef("--channels must be 1..100000, --users 1..%d", maxSoakStreams)
	case o.rate < 0 || o.rate > 100000 || o.pushRate < 0 || o.pushRate > 100000 || o.rate+o.pushRate == 0:
		return usagef("--rate and --push-rate must be 0..100000, not both 0")
	case o.sioPercent < 0 || o.sioPercent > 100:
		return usagef("--sio must be 0..100")
	case o.size < 0 || o.size > 1<<16 || o.pubs < 1 || o.pubs > 256:
		return usagef("--size must be 0..65536, --publishers 1..256")
	case o.drain <= 0 || o.drain > 10*time.Minute:
		return usagef("--drain must be positive, at most 10m")
	case o.maxGrowth < 0:
		return usagef("--max-rss-growth must not be negative")
	case o.c.url != "" && (o.c.serverPID == 0 || o.c.apiKey == "" || o.tokenSecret == ""):
		return usagef("with --url, give --server-pid, --api-key and --token-secret")
	case o.c.url == "" && o.tokenSecret != "":
		return usagef("--token-secret goes with --url")
	}
	return nil
}

func runSoak(ctx context.Context, args []string, env Env) error {
	o, err := parseSoakFlags(args, env)
	if err != nil {
		return err
	}
	procs, err := o.c.check(o.conns, env.Stderr)
	if err != nil {
		return err
	}
	srv, err := o.c.connect(ctx, env)
	if err != nil {
		return interrupted(ctx, err)
	}
	defer srv.stop()
	if o.tokenSecret != "" {
		srv.tokenSecret = o.tokenSecret
	}
	rep := SoakReport{Scenario: "soak", machine: thisMachine("soak", args), Conns: o.conns, Procs: procs,
		Channels: o.channels, Users: o.users, SIOPercent: o.sioPercent, Rate: o.rate, PushRate: o.pushRate,
		Size: o.size, Churn: o.churn, Duration: o.duration.Seconds(), Interval: o.interval.Seconds(),
		Warmup: o.warmup.Seconds(), MaxRSSGrowth: o.maxGrowth}
	runErr := o.soak(ctx, env, srv, procs, &rep)
	if ctx.Err() != nil {
		return errInterrupted
	}
	rep.summarize()
	if err := o.c.emit(env.Stdout, rep, func(w io.Writer) { printSoak(w, rep) }); err != nil {
		return err
	}
	if runErr != nil {
		return runErr
	}
	if len(rep.Failures) > 0 {
		return fmt.Errorf("soak failed: %s", strings.Join(rep.Failures, "; "))
	}
	return nil
}

// soakRun is one soak in progress.
type soakRun struct {
	o       *soakOpts
	env     Env
	srv     *target
	ws      *workerSet
	load    *soakLoad
	start   time.Time
	lastCPU CPUTime
}

// soak connects the workers, runs the load for the duration while
// sampling, drains, and fills in rep.
func (o *soakOpts) soak(ctx context.Context, env Env, srv *target, procs int, rep *SoakReport) error {
	if err := sleepCtx(ctx, time.Second); err != nil { // let the server finish starting
		return errInterrupted
	}
	r := &soakRun{o: o, env: env, srv: srv}
	if m, err := ReadMem(srv.pid); err == nil {
		rep.MemBefore = &m
	}
	deadline := o.c.setup + o.duration + o.drain + 5*time.Minute
	ws, err := r.startWorkers(spreadConns(o.conns, procs), deadline)
	if err != nil {
		return err
	}
	r.ws = ws
	defer ws.stop(15 * time.Second)
	began := time.Now()
	if err := ws.waitReady(ctx, o.c.setup, nodes{srv}, progressLine(env.Stderr, o.conns)); err != nil {
		return interrupted(ctx, err)
	}
	tot := ws.total()
	rep.Connected, rep.ConnectFailed, rep.ConnectSeconds = tot.Connected, tot.Failed, time.Since(began).Seconds()
	fmt.Fprintf(env.Stderr, "bench: %d connected, %d failed in %.1fs; soaking for %s\n",
		tot.Connected, tot.Failed, rep.ConnectSeconds, o.duration)

	r.load = &soakLoad{httpURL: srv.httpURL, apiKey: srv.apiKey, rate: o.rate, pushRate: o.pushRate,
		channels: o.channels, users: o.users, size: o.size, conc: o.pubs}
	err = r.run(ctx, rep)
	rep.Load = r.load.snapshot()
	return err
}

// startWorkers spawns the workers, each holding its share of the slots.
func (r *soakRun) startWorkers(shares []int, deadline time.Duration) (*workerSet, error) {
	first := make([]int, len(shares))
	for i := 1; i < len(shares); i++ {
		first[i] = first[i-1] + shares[i-1]
	}
	o := r.o
	return spawnWorkers(shares, o.c.workerGMP, func(i, n int) *exec.Cmd {
		cmd := exec.Command(r.env.Executable, "bench", "soak-worker", "--url", r.srv.wsURL, "--sio-url", sioURL(r.srv.httpURL),
			"--local-ip", localIP(i), "--conns", strconv.Itoa(n), "--first-slot", strconv.Itoa(first[i]),
			"--channels", strconv.Itoa(o.channels), "--users", strconv.Itoa(o.users), "--sio-percent", strconv.Itoa(o.sioPercent),
			"--churn", strconv.FormatFloat(o.churn, 'g', -1, 64), "--dial-concurrency", strconv.Itoa(o.c.dialConc),
			"--read-buffer", strconv.Itoa(o.c.readBuf), "--deadline", deadline.String())
		cmd.Env = []string{soakTokenSecretEnv + "=" + r.srv.tokenSecret}
		return cmd
	})
}

// tableLag holds back accepted messages from the workers' tables until
// their answer is this old, so that a message still on its way is not
// counted as missing in the samples taken during the run.
const tableLag = 2 * time.Second

// run publishes and samples for the duration, then stops the load and
// the churn, hands the workers the rest of the table and waits for what
// is owed (at most --drain) before the final sample.
func (r *soakRun) run(ctx context.Context, rep *SoakReport) error {
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	loadDone := make(chan struct{})
	r.start = time.Now()
	go func() { defer close(loadDone); r.load.run(loadCtx) }()

	t := time.NewTicker(r.o.interval)
	defer t.Stop()
	var err error
	for err == nil {
		if err = r.sample(ctx, rep, "sample"); err != nil || time.Since(r.start) >= r.o.duration {
			break
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			err = errInterrupted
		}
	}
	stopLoad()
	<-loadDone
	if err != nil {
		return err
	}
	if err := r.ws.broadcast("quiet"); err != nil {
		return err
	}
	return r.drain(ctx, rep)
}

// drain hands the workers the whole table and asks for the final account
// until nothing is missing or --drain has passed, then takes the final
// sample.
func (r *soakRun) drain(ctx context.Context, rep *SoakReport) error {
	if line := r.load.takeTable(time.Now().Add(time.Hour)); line != "" {
		if err := r.ws.broadcast(line); err != nil {
			return err
		}
	}
	until := time.Now().Add(r.o.drain)
	for {
		a, err := r.account(ctx, "final")
		if err != nil {
			return err
		}
		if a.Total().Missing() == 0 || time.Now().After(until) {
			break
		}
		if err := sleepCtx(ctx, 500*time.Millisecond); err != nil {
			return errInterrupted
		}
	}
	return r.sample(ctx, rep, "final")
}

// account hands the workers the table so far and sums their accounts.
func (r *soakRun) account(ctx context.Context, cmd string) (soakAccount, error) {
	if line := r.load.takeTable(time.Now().Add(-tableLag)); line != "" {
		if err := r.ws.broadcast(line); err != nil {
			return soakAccount{}, err
		}
	}
	msgs, err := r.ws.ask(ctx, cmd)
	if err != nil {
		return soakAccount{}, interrupted(ctx, err)
	}
	var a soakAccount
	for _, m := range msgs {
		if m.Soak == nil {
			return soakAccount{}, fmt.Errorf("a worker answered %q without an account", cmd)
		}
		a.plus(*m.Soak)
	}
	return a, nil
}

// sample takes one sample of the server and the workers' accounts.
func (r *soakRun) sample(ctx context.Context, rep *SoakReport, cmd string) error {
	if !r.srv.alive() {
		rep.ServerExited = true
		return fmt.Errorf("the server exited during the soak: %s", r.srv.logTail())
	}
	a, err := r.account(ctx, cmd)
	if err != nil {
		return err
	}
	s := SoakSample{At: time.Since(r.start).Seconds(), Final: cmd == "final", Goroutines: r.srv.goroutines(ctx), ServerConns: -1}
	if m, err := ReadMem(r.srv.pid); err == nil {
		s.RSSKB, s.AnonKB, s.FDs, s.Threads = m.RSSKB, m.AnonKB, m.FDs, m.Threads
	}
	if cpu, err := ReadCPU(r.srv.pid); err == nil {
		if len(rep.Samples) > 0 { // the first sample has no interval before it
			s.CPUPercent = CPUPercent(r.lastCPU, cpu)
		}
		r.lastCPU = cpu
	}
	if info, err := r.srv.info(ctx); err == nil {
		if v, ok := info["connections"].(float64); ok {
			s.ServerConns = int64(v)
		}
	}
	ls := r.load.snapshot()
	tot := a.Total()
	s.Live, s.Churned, s.ServerClosed, s.DialFailed = a.Live, a.Churned, a.ServerClosed, a.DialFailed
	s.Published, s.Pushed, s.Refused, s.Failed = ls.Published, ls.Pushed, ls.Refused, ls.Failed
	s.Expected, s.Received, s.Missing = tot.Expected, tot.Received, tot.Missing()
	rep.Samples = append(rep.Samples, s)
	rep.Account = a
	fmt.Fprintf(r.env.Stderr, "bench: %s\n", s.line())
	return nil
}
