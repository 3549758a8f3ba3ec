package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/heraldhq/herald/internal/protocol/jsonproto"
)

// A worker is a child process (`herald bench worker`) holding a share of
// the connections, so that no process needs more than its file limit and
// every process has a source address (and its ~28k ephemeral ports) of
// its own. It talks to its parent in JSON lines: it writes workerMsg
// lines to stdout and reads commands from stdin ("report MAXSEQ", or EOF
// to close everything and exit).

// workerMsg is one line a worker writes.
type workerMsg struct {
	Type       string        `json:"type"` // progress, ready, result, fatal
	Connected  int           `json:"connected"`
	Failed     int           `json:"failed"`
	Closed     int           `json:"closed"` // connections the server ended
	Received   uint64        `json:"received"`
	FirstError string        `json:"first_error,omitempty"`
	DialMillis int64         `json:"dial_ms,omitempty"`
	Result     *workerResult `json:"result,omitempty"`
	Soak       *soakAccount  `json:"soak,omitempty"` // a soak worker's account (soakworker.go)
}

// workerResult is what a worker saw of the publications up to MAXSEQ.
type workerResult struct {
	Conns         int               `json:"conns"`
	Received      uint64            `json:"received"`        // publications parsed, duplicates included
	Unique        uint64            `json:"unique"`          // distinct (connection, seq) pairs with seq in 1..MAXSEQ
	Duplicates    uint64            `json:"duplicates"`      // the same seq again on a connection
	Extra         uint64            `json:"extra"`           // seq outside 1..MAXSEQ
	Unparsed      uint64            `json:"unparsed"`        // server messages that were not bench publications
	Bursts        uint64            `json:"bursts"`          // arrivals more than burstGap after the previous one
	ConnsWithLoss int               `json:"conns_with_loss"` // connections missing at least one seq
	Closed        int               `json:"closed"`          // connections the server ended
	Pings         uint64            `json:"pings,omitempty"` // Engine.IO pings answered (Socket.IO)
	FirstRecv     int64             `json:"first_recv_ns"`   // unix nanos
	LastRecv      int64             `json:"last_recv_ns"`
	Latency       HistogramSnapshot `json:"latency"`
}

type workerFlags struct {
	url, localIP, channel string
	conns, dialConc       int
	readBuf               int
	deadline              time.Duration
	// proto is the protocol the connections speak: protoHerald (herald's
	// JSON protocol at /ws) or protoSocketIO (Socket.IO v4 over a
	// WebSocket at /socket.io/), and event the Socket.IO event name of the
	// bench publications.
	proto, event string
}

// The protocols a worker speaks.
const (
	protoHerald   = "herald"
	protoSocketIO = "socketio"
)

func runWorker(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench worker", stderr)
	var f workerFlags
	fs.StringVar(&f.url, "url", "", "server WebSocket URL")
	fs.StringVar(&f.localIP, "local-ip", "", "source address for the connections")
	fs.StringVar(&f.channel, "channel", "bench", "channel to subscribe to (empty: none)")
	fs.IntVar(&f.conns, "conns", 0, "connections to hold")
	fs.IntVar(&f.dialConc, "dial-concurrency", 32, "connections being set up at once")
	fs.IntVar(&f.readBuf, "read-buffer", 512, "read buffer of each connection, bytes")
	fs.DurationVar(&f.deadline, "deadline", 10*time.Minute, "exit after this long whatever happens")
	fs.StringVar(&f.proto, "proto", protoHerald, "protocol: herald (JSON protocol at /ws) or socketio (Socket.IO v4 over WebSocket)")
	fs.StringVar(&f.event, "event", "tick", "with --proto socketio: the event name of the bench publications")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if f.url == "" || f.conns <= 0 {
		return usagef("bench worker needs --url and --conns")
	}
	if f.proto != protoHerald && f.proto != protoSocketIO {
		return usagef("bench worker: --proto must be herald or socketio")
	}
	w := &worker{f: f, hist: NewHistogram(), out: json.NewEncoder(stdout)}
	return w.run(stdin)
}

type worker struct {
	f     workerFlags
	hist  *Histogram
	outMu sync.Mutex
	out   *json.Encoder

	mu         sync.Mutex
	conns      []*wconn
	failed     int
	firstError string

	stopping atomic.Bool
	readers  sync.WaitGroup
}

// wconn is one connection. The reader goroutine alone touches the fields
// below recv until it has ended.
type wconn struct {
	ws     *websocket.Conn
	recv   atomic.Uint64 // publications parsed
	closed atomic.Bool   // ended by the server or the network, not by us

	seen                  []uint64 // bit seq is set once seq arrived
	dups, extra, unparsed uint64
	firstRecv, lastRecv   int64
	bursts                uint64 // publications that arrived more than burstGap after the one before
	pings                 uint64 // Engine.IO pings answered (Socket.IO)
}

// burstGap tells publications that arrived together (in one server write,
// or read in one go) from those that came on their own: received/bursts
// is how many publications the server coalesced per write, as far as a
// subscriber can tell.
const burstGap = int64(2 * time.Millisecond)

// maxTrackedSeq bounds the per-connection receipt bitmap (8 MB at most).
const maxTrackedSeq = 1 << 26

func (w *worker) emit(m workerMsg) {
	w.outMu.Lock()
	defer w.outMu.Unlock()
	_ = w.out.Encode(m)
}

func (w *worker) status(typ string) workerMsg {
	w.mu.Lock()
	defer w.mu.Unlock()
	m := workerMsg{Type: typ, Connected: len(w.conns), Failed: w.failed, FirstError: w.firstError}
	for _, c := range w.conns {
		m.Received += c.recv.Load()
		if c.closed.Load() {
			m.Closed++
		}
	}
	return m
}

func (w *worker) run(stdin io.Reader) error {
	// The parent may die without closing our stdin properly; the
	// deadline ends us regardless, and the kernel closes the sockets.
	deadline := time.AfterFunc(w.f.deadline, func() {
		w.emit(workerMsg{Type: "fatal", FirstError: "worker deadline reached"})
		os.Exit(3)
	})
	defer deadline.Stop()

	var ip net.IP
	if w.f.localIP != "" {
		if ip = net.ParseIP(w.f.localIP); ip == nil {
			return usagef("bad --local-ip %q", w.f.localIP)
		}
	}
	dialer := &websocket.Dialer{
		NetDialContext:   (&net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 10 * time.Second, Control: dialControl}).DialContext,
		ReadBufferSize:   w.f.readBuf,
		WriteBufferSize:  256,
		WriteBufferPool:  &sync.Pool{}, // the write buffer is only held while writing
		HandshakeTimeout: 10 * time.Second,
	}

	progressDone := make(chan struct{})
	go w.progress(progressDone)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmds := make(chan string)
	go func() { // stdin: commands, EOF ends the worker
		defer close(cmds)
		sc := bufio.NewScanner(stdin)
		for sc.Scan() {
			cmds <- strings.TrimSpace(sc.Text())
		}
	}()

	start := time.Now()
	dialsDone := make(chan struct{})
	go func() {
		defer close(dialsDone)
		w.dialAll(ctx, dialer)
	}()
	// waitDials waits for the dialing to end, if it has not already.
	waitDials := func() {
		if dialsDone != nil {
			<-dialsDone
			dialsDone = nil
		}
	}
	for {
		select {
		case <-dialsDone:
			dialsDone = nil
			m := w.status("ready")
			m.DialMillis = time.Since(start).Milliseconds()
			w.emit(m)
		case cmd, ok := <-cmds:
			if !ok {
				cancel()
				waitDials()
				close(progressDone)
				w.closeAll()
				return nil
			}
			if rest, found := strings.CutPrefix(cmd, "report "); found {
				maxSeq, err := strconv.ParseInt(rest, 10, 64)
				if err != nil || maxSeq < 0 {
					w.emit(workerMsg{Type: "fatal", FirstError: "bad command " + strconv.Quote(cmd)})
					continue
				}
				cancel()
				waitDials()
				close(progressDone)
				progressDone = make(chan struct{}) // closed again on EOF
				w.closeAll()
				m := w.status("result")
				m.Result = w.result(maxSeq)
				w.emit(m)
			}
		}
	}
}

// progress writes a progress line whenever something changed, four times
// a second at most.
func (w *worker) progress(done chan struct{}) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	var last workerMsg
	for {
		select {
		case <-done:
			return
		case <-t.C:
			m := w.status("progress")
			if m != last {
				w.emit(m)
				last = m
			}
		}
	}
}

func (w *worker) dialAll(ctx context.Context, d *websocket.Dialer) {
	next := make(chan struct{})
	go func() {
		defer close(next)
		for range w.f.conns {
			select {
			case next <- struct{}{}:
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range max(1, min(w.f.dialConc, w.f.conns)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range next {
				c, err := w.dialOne(ctx, d)
				w.mu.Lock()
				if err != nil {
					w.failed++
					if w.firstError == "" {
						w.firstError = err.Error()
					}
				} else if w.stopping.Load() {
					_ = c.ws.Close()
				} else {
					w.conns = append(w.conns, c)
					w.readers.Add(1)
					go c.read(w)
				}
				w.mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

var errNoReply = errors.New("no subscribe reply")

// dialOne connects and subscribes, trying three times.
func (w *worker) dialOne(ctx context.Context, d *websocket.Dialer) (*wconn, error) {
	var err error
	for attempt := range 3 {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(time.Duration(attempt) * 200 * time.Millisecond):
			}
		}
		var ws *websocket.Conn
		ws, _, err = d.DialContext(ctx, w.f.url, nil)
		if err != nil {
			continue
		}
		if err = w.subscribe(ws); err != nil {
			_ = ws.Close()
			continue
		}
		return &wconn{ws: ws}, nil
	}
	return nil, err
}

func (w *worker) subscribe(ws *websocket.Conn) error {
	if w.f.proto == protoSocketIO {
		return w.sioHandshake(ws)
	}
	if w.f.channel == "" {
		return nil
	}
	cmd := fmt.Sprintf(`{"id":1,"op":"subscribe","channel":%q}`, w.f.channel)
	_ = ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := ws.WriteMessage(websocket.TextMessage, []byte(cmd)); err != nil {
		return err
	}
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, msg, err := ws.ReadMessage()
	if err != nil {
		return err
	}
	if !bytes.Contains(msg, []byte(`"id":1,`)) || !bytes.Contains(msg, []byte(`"result"`)) {
		return fmt.Errorf("%w: %s", errNoReply, truncate(msg, 200))
	}
	_ = ws.SetReadDeadline(time.Time{})
	_ = ws.SetWriteDeadline(time.Time{})
	return nil
}

// framePool holds read buffers: a connection holds one only while it has
// a frame in hand, none while idle.
var framePool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// read is a connection's one goroutine: it reads frames (gorilla answers
// pings meanwhile) and accounts for every bench publication in them.
func (c *wconn) read(w *worker) {
	defer w.readers.Done()
	for {
		typ, r, err := c.ws.NextReader()
		if err != nil {
			if !w.stopping.Load() {
				c.closed.Store(true)
			}
			return
		}
		if typ != websocket.TextMessage {
			continue
		}
		bp := framePool.Get().(*[]byte)
		frame, err := readFrame(r, (*bp)[:0])
		if err != nil {
			*bp = frame[:0]
			framePool.Put(bp)
			continue // NextReader reports the connection's error
		}
		now := time.Now().UnixNano()
		if w.f.proto == protoSocketIO {
			c.onSIOMessage(w, frame, now)
		} else {
			jsonproto.Split(frame, func(line []byte) { c.account(w.hist, line, now) })
		}
		if cap(frame) <= 64<<10 {
			*bp = frame[:0]
			framePool.Put(bp)
		}
	}
}

// readFrame appends the rest of r to b.
func readFrame(r io.Reader, b []byte) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

func (c *wconn) account(h *Histogram, line []byte, now int64) {
	seq, sent, ok := ParsePublication(line)
	if !ok {
		c.unparsed++
		return
	}
	c.record(h, seq, sent, now)
}

// accountSIO accounts for one Socket.IO message: a bench event, or
// anything else (counted as unparsed).
func (c *wconn) accountSIO(h *Histogram, msg []byte, event string, now int64) {
	seq, sent, ok := ParseSIOEvent(msg, event)
	if !ok {
		c.unparsed++
		return
	}
	c.record(h, seq, sent, now)
}

// record accounts for publication seq, sent at unix nanos sent and
// received at now.
func (c *wconn) record(h *Histogram, seq, sent, now int64) {
	c.recv.Add(1)
	h.Record(now - sent)
	if c.firstRecv == 0 {
		c.firstRecv = now
	}
	if now-c.lastRecv > burstGap {
		c.bursts++
	}
	c.lastRecv = now
	if seq < 1 || seq >= maxTrackedSeq {
		c.extra++
		return
	}
	i := int(seq >> 6)
	if i >= len(c.seen) {
		c.seen = append(c.seen, make([]uint64, max(i+1-len(c.seen), len(c.seen)))...)
	}
	bit := uint64(1) << (seq & 63)
	if c.seen[i]&bit != 0 {
		c.dups++
		return
	}
	c.seen[i] |= bit
}

// closeAll closes every connection and waits for the readers to end.
func (w *worker) closeAll() {
	w.stopping.Store(true)
	w.mu.Lock()
	conns := w.conns
	w.mu.Unlock()
	for _, c := range conns {
		_ = c.ws.Close()
	}
	w.readers.Wait()
}

// result sums up the connections once their readers have ended.
func (w *worker) result(maxSeq int64) *workerResult {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := &workerResult{Conns: len(w.conns), Latency: w.hist.Snapshot()}
	for _, c := range w.conns {
		r.Received += c.recv.Load()
		r.Duplicates += c.dups
		r.Bursts += c.bursts
		r.Unparsed += c.unparsed
		r.Extra += c.extra
		r.Pings += c.pings
		if c.closed.Load() {
			r.Closed++
		}
		if c.firstRecv != 0 && (r.FirstRecv == 0 || c.firstRecv < r.FirstRecv) {
			r.FirstRecv = c.firstRecv
		}
		r.LastRecv = max(r.LastRecv, c.lastRecv)
		unique, extra := countSeen(c.seen, maxSeq)
		r.Unique += unique
		r.Extra += extra
		if unique < uint64(maxSeq) {
			r.ConnsWithLoss++
		}
	}
	return r
}

// countSeen counts the bits set for seq 1..maxSeq, and those above.
func countSeen(seen []uint64, maxSeq int64) (in, above uint64) {
	for i, word := range seen {
		lo := int64(i) << 6
		for word != 0 {
			b := int64(bits.TrailingZeros64(word))
			word &= word - 1
			if s := lo + b; s >= 1 && s <= maxSeq {
				in++
			} else {
				above++
			}
		}
	}
	return in, above
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
