package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"
)

// workerProc is a worker process as its parent sees it.
type workerProc struct {
	id      int
	localIP string
	conns   int
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	stderr  bytes.Buffer // bounded by what a worker writes: errors only
	exited  chan struct{}

	mu     sync.Mutex
	last   workerMsg // newest progress or ready line
	ready  chan struct{}
	result chan workerMsg
	fatal  string
}

// workerSet is all the worker processes of one run.
type workerSet struct {
	procs []*workerProc
}

// spreadConns splits n connections over procs processes.
func spreadConns(n, procs int) []int {
	out := make([]int, procs)
	for i := range out {
		out[i] = n / procs
		if i < n%procs {
			out[i]++
		}
	}
	return out
}

// maxProcs bounds the worker processes (and source addresses) of a run.
const maxProcs = 200

// localIP returns the source address of worker i: 127.0.0.2, 127.0.0.3, ...
func localIP(i int) string { return fmt.Sprintf("127.0.0.%d", i+2) }

// workerOpts are the settings every worker of a run gets.
type workerOpts struct {
	// wsURLs are the servers: worker i connects to wsURLs[i mod len].
	wsURLs       []string
	channel      string
	proto, event string // "" is herald's protocol
	dialConc     int
	readBuf      int
	gomaxprocs   int // 0: the Go default (every core)
	deadline     time.Duration
}

// startWorkers spawns one worker per share of the connections.
func startWorkers(exe string, o workerOpts, shares []int) (*workerSet, error) {
	return spawnWorkers(shares, o.gomaxprocs, func(i, n int) *exec.Cmd {
		cmd := exec.Command(exe, "bench", "worker", "--url", o.wsURLs[i%len(o.wsURLs)], "--conns", strconv.Itoa(n),
			"--local-ip", localIP(i), "--channel", o.channel, "--dial-concurrency", strconv.Itoa(o.dialConc),
			"--read-buffer", strconv.Itoa(o.readBuf), "--deadline", o.deadline.String())
		if o.proto != "" {
			cmd.Args = append(cmd.Args, "--proto", o.proto, "--event", o.event)
		}
		return cmd
	})
}

// spawnWorkers starts the command command(i, n) gives for every share i
// of n connections (none for an empty share), with GOMAXPROCS set when
// gomaxprocs > 0.
func spawnWorkers(shares []int, gomaxprocs int, command func(i, n int) *exec.Cmd) (*workerSet, error) {
	ws := &workerSet{}
	for i, n := range shares {
		if n == 0 {
			continue
		}
		p := &workerProc{id: i, localIP: localIP(i), conns: n, exited: make(chan struct{}),
			ready: make(chan struct{}), result: make(chan workerMsg, 1)}
		p.cmd = command(i, n)
		p.cmd.Env = append(os.Environ(), p.cmd.Env...)
		if gomaxprocs > 0 {
			p.cmd.Env = append(p.cmd.Env, "GOMAXPROCS="+strconv.Itoa(gomaxprocs))
		}
		setChildAttrs(p.cmd)
		stdin, err := p.cmd.StdinPipe()
		if err != nil {
			ws.kill()
			return nil, err
		}
		stdout, err := p.cmd.StdoutPipe()
		if err != nil {
			ws.kill()
			return nil, err
		}
		p.stdin = stdin
		p.cmd.Stderr = &limitedWriter{w: &p.stderr, n: 64 << 10}
		if err := p.cmd.Start(); err != nil {
			ws.kill()
			return nil, fmt.Errorf("starting worker %d: %w", i, err)
		}
		ws.procs = append(ws.procs, p)
		go p.readLines(stdout)
	}
	return ws, nil
}

type limitedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
	n  int
}

func (l *limitedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := l.n - l.w.Len(); room > 0 {
		l.w.Write(b[:min(len(b), room)])
	}
	return len(b), nil
}

func (p *workerProc) readLines(r io.Reader) {
	defer func() { _ = p.cmd.Wait(); close(p.exited) }()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	readyClosed := false
	for sc.Scan() {
		var m workerMsg
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			continue
		}
		p.mu.Lock()
		switch m.Type {
		case "progress", "ready":
			p.last = m
			if m.Type == "ready" && !readyClosed {
				close(p.ready)
				readyClosed = true
			}
		case "result":
			p.last = m
			select {
			case p.result <- m:
			default:
			}
		case "fatal":
			p.fatal = m.FirstError
		}
		p.mu.Unlock()
	}
}

func (p *workerProc) snapshot() workerMsg {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last
}

func (p *workerProc) describeExit() string {
	p.mu.Lock()
	fatal := p.fatal
	p.mu.Unlock()
	s := fmt.Sprintf("worker %d (%s) exited", p.id, p.localIP)
	if p.cmd.ProcessState != nil {
		s += ": " + p.cmd.ProcessState.String()
	}
	if fatal != "" {
		s += ": " + fatal
	}
	if e := bytes.TrimSpace(p.stderr.Bytes()); len(e) > 0 {
		s += ": " + truncate(e, 1000)
	}
	return s
}

// total sums the newest progress of every worker.
func (ws *workerSet) total() workerMsg {
	var t workerMsg
	for _, p := range ws.procs {
		m := p.snapshot()
		t.Connected += m.Connected
		t.Failed += m.Failed
		t.Closed += m.Closed
		t.Received += m.Received
		if t.FirstError == "" {
			t.FirstError = m.FirstError
		}
		t.DialMillis = max(t.DialMillis, m.DialMillis)
	}
	return t
}

// waitReady waits until every worker has finished setting up its
// connections, calling tick with the totals now and then.
func (ws *workerSet) waitReady(ctx context.Context, limit time.Duration, srvs nodes, tick func(workerMsg)) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for _, p := range ws.procs {
		for waiting := true; waiting; {
			select {
			case <-p.ready:
				waiting = false
			case <-p.exited:
				return fmt.Errorf("%s", p.describeExit())
			case <-t.C:
				if err := srvs.exited(); err != nil {
					return err
				}
				if tick != nil {
					tick(ws.total())
				}
			case <-ctx.Done():
				return fmt.Errorf("connections not set up within %s: %+v", limit, ws.total())
			}
		}
	}
	return nil
}

// report asks every worker for its results up to maxSeq.
func (ws *workerSet) report(ctx context.Context, maxSeq int64) ([]workerResult, error) {
	msgs, err := ws.ask(ctx, fmt.Sprintf("report %d", maxSeq))
	if err != nil {
		return nil, err
	}
	var out []workerResult
	for _, m := range msgs {
		if m.Result != nil {
			out = append(out, *m.Result)
		}
	}
	return out, nil
}

// broadcast writes one command line to every worker.
func (ws *workerSet) broadcast(line string) error {
	for _, p := range ws.procs {
		if _, err := io.WriteString(p.stdin, line+"\n"); err != nil {
			return fmt.Errorf("worker %d: %w", p.id, err)
		}
	}
	return nil
}

// ask writes a command to every worker and waits (at most a minute) for
// the result line each answers it with.
func (ws *workerSet) ask(ctx context.Context, line string) ([]workerMsg, error) {
	if err := ws.broadcast(line); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var out []workerMsg
	for _, p := range ws.procs {
		select {
		case m := <-p.result:
			out = append(out, m)
		case <-p.exited:
			return nil, fmt.Errorf("%s", p.describeExit())
		case <-ctx.Done():
			return nil, fmt.Errorf("worker %d sent no result", p.id)
		}
	}
	return out, nil
}

// stop closes every worker's stdin, which makes it close its connections
// and exit, and kills those that have not exited within limit.
func (ws *workerSet) stop(limit time.Duration) {
	for _, p := range ws.procs {
		_ = p.stdin.Close()
	}
	deadline := time.After(limit)
	for _, p := range ws.procs {
		select {
		case <-p.exited:
		case <-deadline:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	}
}

// kill ends every worker at once (on errors during start).
func (ws *workerSet) kill() {
	for _, p := range ws.procs {
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// pids lists the worker processes, for CPU accounting.
func (ws *workerSet) pids() []int {
	var out []int
	for _, p := range ws.procs {
		out = append(out, p.cmd.Process.Pid)
	}
	return out
}

// cpuOf sums the CPU time of several processes; those gone are skipped.
func cpuOf(pids []int) CPUTime {
	var t CPUTime
	t.At = time.Now()
	for _, pid := range pids {
		if c, err := ReadCPU(pid); err == nil {
			t.User += c.User
			t.System += c.System
		}
	}
	return t
}
