package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// A soak worker (`herald bench soak-worker`, hidden) holds slots
// --first-slot .. +--conns, one connection each, closes and reopens a
// share of them every second (--churn percent a minute), reopens those
// the server closes, and accounts for every message against the table
// the bench sends it. Its commands, one a line on stdin:
//
//	table {"e":[[KIND,STREAM,SEQ,SENT_NS],…]}  accepted messages
//	sample                                    answer with the account so far
//	final                                     the same, open lives owing everything
//	quiet                                     stop churning and reconnecting
//
// and EOF closes everything. It answers sample and final with a result
// line whose "soak" is a soakAccount.

// soakTokenSecretEnv passes the token secret to the workers, out of their
// command lines.
const soakTokenSecretEnv = "HERALD_BENCH_TOKEN_SECRET"

type soakWorkerFlags struct {
	url, sioURL, localIP        string
	conns, firstSlot            int
	channels, users, sioPercent int
	churn                       float64 // percent of the connections a minute
	dialConc, readBuf           int
	deadline                    time.Duration
}

// soakAccount is a worker's account of its lives.
type soakAccount struct {
	Live         int        `json:"live"`  // connections open now
	Lives        int        `json:"lives"` // connections opened, churned and reopened ones included
	Churned      int        `json:"churned"`
	ServerClosed int        `json:"server_closed"`
	DialFailed   int        `json:"dial_failed"`
	FirstError   string     `json:"first_error,omitempty"`
	Unrecognised int64      `json:"unrecognised"` // messages that were no soak message
	Pub          soakCounts `json:"publications"`
	Push         soakCounts `json:"pushes"`
	Herald       soakCounts `json:"herald_protocol"` // both kinds, herald-protocol lives
	SocketIO     soakCounts `json:"socketio"`        // both kinds, Socket.IO lives
}

func (a *soakAccount) plus(o soakAccount) {
	a.Live += o.Live
	a.Lives += o.Lives
	a.Churned += o.Churned
	a.ServerClosed += o.ServerClosed
	a.DialFailed += o.DialFailed
	if a.FirstError == "" {
		a.FirstError = o.FirstError
	}
	a.Unrecognised += o.Unrecognised
	a.Pub.plus(o.Pub)
	a.Push.plus(o.Push)
	a.Herald.plus(o.Herald)
	a.SocketIO.plus(o.SocketIO)
}

// Total is both kinds together.
func (a soakAccount) Total() soakCounts {
	t := a.Pub
	t.plus(a.Push)
	return t
}

type soakWorker struct {
	f      soakWorkerFlags
	secret string
	dialer *websocket.Dialer
	outMu  sync.Mutex
	out    *json.Encoder
	table  soakTable // the command loop's alone

	mu           sync.Mutex
	lives        []*soakLife
	open         []*soakConn // by slot - first slot; nil while (re)dialing
	failed       int
	churned      int
	serverClosed int
	firstError   string

	quiet   atomic.Bool     // no more churn or reconnects
	done    chan struct{}   // closed when the worker shuts down
	ctx     context.Context // cancelled when done is closed: ends dials
	wg      sync.WaitGroup
	dialSem chan struct{}
}

func runSoakWorker(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench soak-worker", stderr)
	var f soakWorkerFlags
	fs.StringVar(&f.url, "url", "", "herald-protocol WebSocket URL (…/ws)")
	fs.StringVar(&f.sioURL, "sio-url", "", "Socket.IO WebSocket URL (…/socket.io/?EIO=4&transport=websocket)")
	fs.StringVar(&f.localIP, "local-ip", "", "source address for the connections")
	fs.IntVar(&f.conns, "conns", 0, "connections (slots) to hold")
	fs.IntVar(&f.firstSlot, "first-slot", 0, "number of this worker's first slot")
	fs.IntVar(&f.channels, "channels", 1, "channels soak-0 … soak-N-1")
	fs.IntVar(&f.users, "users", 1, "users soak-u0 … soak-uN-1")
	fs.IntVar(&f.sioPercent, "sio-percent", 0, "percent of the slots speaking Socket.IO")
	fs.Float64Var(&f.churn, "churn", 0, "percent of the connections closed and reopened a minute")
	fs.IntVar(&f.dialConc, "dial-concurrency", 32, "connections being set up at once")
	fs.IntVar(&f.readBuf, "read-buffer", 1024, "read buffer of each connection, bytes")
	fs.DurationVar(&f.deadline, "deadline", time.Hour, "exit after this long whatever happens")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if f.url == "" || f.sioURL == "" || f.conns <= 0 || f.channels <= 0 || f.users <= 0 {
		return usagef("bench soak-worker needs --url, --sio-url, --conns, --channels and --users")
	}
	secret := os.Getenv(soakTokenSecretEnv)
	if secret == "" {
		return usagef("bench soak-worker needs the token secret in %s", soakTokenSecretEnv)
	}
	var ip net.IP
	if f.localIP != "" {
		if ip = net.ParseIP(f.localIP); ip == nil {
			return usagef("bad --local-ip %q", f.localIP)
		}
	}
	w := &soakWorker{f: f, secret: secret, out: json.NewEncoder(stdout), open: make([]*soakConn, f.conns),
		done: make(chan struct{}), dialSem: make(chan struct{}, max(1, f.dialConc))}
	w.dialer = &websocket.Dialer{
		NetDialContext:   (&net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 10 * time.Second, Control: dialControl}).DialContext,
		ReadBufferSize:   f.readBuf,
		WriteBufferSize:  256,
		WriteBufferPool:  &sync.Pool{},
		HandshakeTimeout: 10 * time.Second,
	}
	return w.run(stdin)
}

func (w *soakWorker) emit(m workerMsg) {
	w.outMu.Lock()
	defer w.outMu.Unlock()
	_ = w.out.Encode(m)
}

func (w *soakWorker) run(stdin io.Reader) error {
	deadline := time.AfterFunc(w.f.deadline, func() {
		w.emit(workerMsg{Type: "fatal", FirstError: "worker deadline reached"})
		os.Exit(3)
	})
	defer deadline.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w.ctx = ctx
	go func() { <-w.done; cancel() }()
	go w.progress()

	cmds := make(chan string)
	go func() {
		defer close(cmds)
		sc := bufio.NewScanner(stdin)
		sc.Buffer(make([]byte, 64<<10), 256<<20)
		for sc.Scan() {
			cmds <- sc.Text()
		}
	}()
	dialsDone := make(chan struct{})
	go func() {
		defer close(dialsDone)
		w.dialAll(ctx)
	}()
	for {
		select {
		case <-dialsDone:
			dialsDone = nil
			w.emit(w.status("ready"))
			w.wg.Add(1)
			go w.churnLoop()
		case cmd, ok := <-cmds:
			if !ok {
				w.shutdown()
				if dialsDone != nil {
					<-dialsDone
				}
				return nil
			}
			w.command(cmd)
		}
	}
}

// command runs one line from the bench.
func (w *soakWorker) command(cmd string) {
	verb, rest, _ := strings.Cut(cmd, " ")
	switch verb {
	case "table":
		if err := w.addTable(rest); err != nil {
			w.emit(workerMsg{Type: "fatal", FirstError: err.Error()})
		}
	case "sample", "final":
		a := w.account(verb == "final")
		m := w.status("result")
		m.Soak = &a
		w.emit(m)
	case "quiet":
		w.quiet.Store(true)
	default:
		w.emit(workerMsg{Type: "fatal", FirstError: "bad command " + truncate([]byte(cmd), 100)})
	}
}

func (w *soakWorker) addTable(js string) error {
	var batch struct {
		E [][4]int64 `json:"e"`
	}
	if err := json.Unmarshal([]byte(js), &batch); err != nil {
		return fmt.Errorf("bad table: %w", err)
	}
	for _, e := range batch.E {
		if !w.table.add(int(e[0]), e[1], e[2], e[3]) {
			return fmt.Errorf("bad table entry %v", e)
		}
	}
	return nil
}

func (w *soakWorker) status(typ string) workerMsg {
	w.mu.Lock()
	defer w.mu.Unlock()
	m := workerMsg{Type: typ, Failed: w.failed, Closed: w.serverClosed, FirstError: w.firstError}
	for _, c := range w.open {
		if c != nil {
			m.Connected++
		}
	}
	return m
}

// progress writes a progress line when something changed, four times a
// second at most.
func (w *soakWorker) progress() {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	var last workerMsg
	for {
		select {
		case <-w.done:
			return
		case <-t.C:
			if m := w.status("progress"); m != last {
				w.emit(m)
				last = m
			}
		}
	}
}

// account checks every life against the table.
func (w *soakWorker) account(final bool) soakAccount {
	w.mu.Lock()
	lives := slices.Clone(w.lives)
	a := soakAccount{Lives: len(lives), Churned: w.churned, ServerClosed: w.serverClosed, DialFailed: w.failed, FirstError: w.firstError}
	for _, c := range w.open {
		if c != nil {
			a.Live++
		}
	}
	w.mu.Unlock()
	for _, l := range lives {
		counts, unrecognised := l.tally(&w.table, final)
		a.Unrecognised += unrecognised
		a.Pub.plus(counts[kindPub])
		a.Push.plus(counts[kindPush])
		proto := &a.Herald
		if l.sio {
			proto = &a.SocketIO
		}
		proto.plus(counts[kindPub])
		proto.plus(counts[kindPush])
	}
	return a
}
