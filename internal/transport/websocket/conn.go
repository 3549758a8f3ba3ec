package websocket

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// ErrClosed is returned when writing to a connection that is closing or closed.
var ErrClosed = errors.New("websocket: connection closed")

// ErrSlowConsumer is returned when a frame would push a connection's
// outbound queue past its byte limit; the connection is then closed 1013.
var ErrSlowConsumer = errors.New("websocket: outbound queue full (slow consumer)")

// Handler receives what a connection reads. Calls for one connection never
// overlap, and may start before Upgrade returns.
type Handler interface {
	// OnMessage is called for each complete data message. payload is only
	// valid during the call.
	OnMessage(c *Conn, text bool, payload []byte)
	// OnClose is called once, when the connection is gone. code is the
	// close code that ended it (1006 when the TCP connection just dropped).
	OnClose(c *Conn, code int, reason string)
	// Farewell returns a frame to send just before a close frame the
	// server initiates, or nil. It may run on any goroutine, including
	// one fanning out under hub locks, so it must not block or lock.
	Farewell(code int, reason string) []byte
}

// connection states; a connection only moves forward through them.
const (
	stateOpen    int32 = iota
	stateClosing       // a close frame is queued or sent; no more data goes out
	stateClosed        // the socket is closed and the handler told
)

// Conn is one server-side WebSocket connection.
type Conn struct {
	// The fields fan-out touches for every frame come first, together, so
	// queueing to thousands of connections costs one or two cache lines
	// each.

	engine *Engine
	mu     sync.Mutex
	// state is one of stateOpen, stateClosing, stateClosed.
	state atomic.Int32
	// writing is true while a flush owns the socket's write side.
	writing bool
	// queued is the byte length of queue.
	queued int
	// queue holds frames waiting to be written, oldest first.
	queue [][]byte
	// unsent counts bytes handed to the poller that the kernel has not
	// taken yet; it is part of the outbound queue's byte budget.
	unsent atomic.Int64
	wire   wire

	handler Handler
	remote  net.Addr
	// slot is the registry shard this connection lives in.
	slot uint8
	// published is set once the connection is fully built, before the
	// poller may see it. The kernel orders the hand-over (epoll_ctl before
	// epoll_wait); this atomic makes that order visible to the race detector.
	published atomic.Bool

	// reader is touched only by the goroutine that reads the socket.
	reader reader

	// lastRead is when bytes last arrived (unix nanoseconds).
	lastRead atomic.Int64
	// pingSent is when the outstanding heartbeat ping left; 0 when none.
	pingSent atomic.Int64
	// partialSince is when the connection started holding an incomplete
	// message (unix nanoseconds; 0 when none): the heartbeat drops a peer
	// that trickles one in for longer than a ping interval and timeout,
	// which would otherwise pin up to a message's worth of buffer
	// indefinitely.
	partialSince atomic.Int64

	// end is how the connection is ending; nil until it starts to. (Kept
	// out of line: a server holds a Conn per client, and few are closing.)
	end *ending
}

// ending is the state of a connection's close.
type ending struct {
	// code and reason record how the connection is ending.
	code   int
	reason string
	// peerSentClose is true once the peer's close frame arrived.
	peerSentClose bool
	// writeShut is true once the write side has been shut after the close frame.
	writeShut bool
	// timer ends a close handshake the peer never finishes.
	timer *time.Timer
}

// ending returns the connection's close state, creating it; c.mu held.
func (c *Conn) ending() *ending {
	if c.end == nil {
		c.end = &ending{}
	}
	return c.end
}

func newConn(e *Engine, h Handler, remote net.Addr) *Conn {
	c := &Conn{engine: e, handler: h, remote: remote}
	c.touch()
	return c
}

// RemoteAddr is the peer's address.
func (c *Conn) RemoteAddr() net.Addr { return c.remote }

func (c *Conn) touch() { c.lastRead.Store(time.Now().UnixNano()) }

func (c *Conn) closing() bool { return c.state.Load() != stateOpen }

// Closing reports whether the connection has started closing; nothing
// more can be sent on it.
func (c *Conn) Closing() bool { return c.closing() }

func (c *Conn) closed() bool { return c.state.Load() == stateClosed }

// Enqueue appends a pre-built frame to the outbound queue without writing.
// It reports whether this call made the queue need a flush: the caller
// that gets true must call Flush, typically after enqueueing to many
// connections so each gets one write for everything queued.
func (c *Conn) Enqueue(frame []byte) (needsFlush bool, err error) {
	c.mu.Lock()
	if c.state.Load() != stateOpen {
		c.mu.Unlock()
		return false, ErrClosed
	}
	if c.queued+int(c.unsent.Load())+len(frame) > c.engine.cfg.MaxQueueBytes {
		c.mu.Unlock()
		c.engine.stats.SlowConsumers.Add(1)
		c.Close(CloseTryAgainLater, "slow consumer")
		return false, ErrSlowConsumer
	}
	needsFlush = len(c.queue) == 0 && !c.writing
	c.queueLocked(frame)
	c.mu.Unlock()
	return needsFlush, nil
}

// Backlogged reports whether frames are queued or handed to the kernel
// but not yet taken: a frame sent now would wait behind them.
func (c *Conn) Backlogged() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.queue) > 0 || c.writing || c.unsent.Load() > 0
}

// Send queues one frame and flushes.
func (c *Conn) Send(frame []byte) error {
	needsFlush, err := c.Enqueue(frame)
	if needsFlush {
		c.Flush()
	}
	return err
}

// SendText frames payload as a text message, queues it and flushes.
func (c *Conn) SendText(payload []byte) error {
	return c.Send(TextFrame(payload))
}

// sendControl queues a control frame outside the byte budget: a pong or a
// close must not be refused because data is backed up.
func (c *Conn) sendControl(frame []byte) {
	c.mu.Lock()
	if c.state.Load() == stateClosed {
		c.mu.Unlock()
		return
	}
	c.queueLocked(frame)
	c.mu.Unlock()
	c.Flush()
}

// queueLocked appends frame to the outbound queue and counts it in the
// node's backlog; c.mu held.
func (c *Conn) queueLocked(frame []byte) {
	c.queue = append(c.queue, frame)
	c.queued += len(frame)
	c.engine.cfg.Backlog.Add(c.slot, len(frame))
}

// dropOwedLocked forgets what a closed connection still owed its peer,
// queued or unsent, and takes it out of the node's backlog; c.mu held.
func (c *Conn) dropOwedLocked() {
	c.engine.cfg.Backlog.Add(c.slot, -(c.queued + int(c.unsent.Swap(0))))
	c.queue, c.queued = nil, 0
}

// release is told that n bytes handed to the wire have left: the kernel
// took them, or a blocking write gave up on them. It returns what is still
// unsent. Bytes dropped when the connection closed were already released,
// so a late report releases nothing twice.
func (c *Conn) release(n int) int64 {
	for {
		cur := c.unsent.Load()
		took := min(cur, int64(n))
		if c.unsent.CompareAndSwap(cur, cur-took) {
			c.engine.cfg.Backlog.Add(c.slot, -int(took))
			return cur - took
		}
	}
}

// Flush writes everything queued. Only one flush writes at a time; a flush
// that finds another in progress returns at once and the writer picks up
// the new frames before it stops.
func (c *Conn) Flush() {
	c.mu.Lock()
	if c.writing || len(c.queue) == 0 {
		c.mu.Unlock()
		return
	}
	c.writing = true
	c.mu.Unlock()
	if c.wire.blocking() {
		go c.writeLoop()
		return
	}
	c.writeLoop()
}

// writeLoop drains the queue, one write per round, until it is empty.
func (c *Conn) writeLoop() {
	var spare [][]byte
	for {
		c.mu.Lock()
		if len(c.queue) == 0 || c.state.Load() == stateClosed {
			c.queue = spare[:0]
			c.writing = false
			c.mu.Unlock()
			c.maybeShutWrite()
			return
		}
		bufs, n := c.queue, c.queued
		c.queue, c.queued = spare, 0
		// Still under mu: the bytes are owed until the wire releases
		// them, and a close that drops what is owed must find them here.
		c.unsent.Add(int64(n))
		c.mu.Unlock()

		err := c.wire.write(c, bufs, n)
		clear(bufs)
		spare = bufs[:0]
		if err != nil {
			c.abort()
			return
		}
	}
}

// Close starts the closing handshake: the close frame goes out after what
// is already queued, then the write side is shut and the connection ends
// when the peer answers, hangs up, or the close timeout passes.
func (c *Conn) Close(code int, reason string) {
	c.startClose(code, reason, code, reason, c.handler.Farewell(code, reason))
}

// startClose sends farewell (if any) and a close frame with
// sent/sentReason, and records code/reason as what ended the connection.
func (c *Conn) startClose(sent int, sentReason string, code int, reason string, farewell []byte) {
	c.mu.Lock()
	if !c.state.CompareAndSwap(stateOpen, stateClosing) {
		c.mu.Unlock()
		return
	}
	e := c.ending()
	e.code, e.reason = code, reason
	e.timer = time.AfterFunc(c.engine.cfg.CloseTimeout, c.abort)
	if farewell != nil {
		c.queueLocked(farewell)
	}
	c.mu.Unlock()
	c.sendControl(closeFrame(sent, sentReason))
}

// peerClosed answers a close frame from the peer.
func (c *Conn) peerClosed(code int, reason string) {
	c.mu.Lock()
	e := c.ending()
	e.peerSentClose = true
	wasOpen := c.state.Load() == stateOpen
	shut := e.writeShut
	c.mu.Unlock()
	if !wasOpen {
		if shut {
			c.abort() // our close left first; the handshake is complete
		}
		return // otherwise maybeShutWrite ends it once our close has left
	}
	echo := code
	if code == CloseNoStatus {
		echo = CloseNormal
	}
	c.startClose(echo, reason, code, reason, nil)
}

// fail ends the connection because of what the peer sent: a close frame
// only, no farewell — the stream can no longer be trusted to carry one.
func (c *Conn) fail(err error) {
	var ce *closeError
	if errors.As(err, &ce) {
		c.engine.stats.ProtocolErrors.Add(1)
		c.startClose(ce.code, ce.reason, ce.code, ce.reason, nil)
		return
	}
	c.abort()
}

// maybeShutWrite shuts the write side once the close frame has fully left,
// or ends the connection if the peer already sent its close.
func (c *Conn) maybeShutWrite() {
	c.mu.Lock()
	e := c.end // set when closing
	ready := c.state.Load() == stateClosing && e != nil && !e.writeShut && !c.writing &&
		len(c.queue) == 0 && c.unsent.Load() == 0
	if ready {
		e.writeShut = true
	}
	peerDone := e != nil && e.peerSentClose
	c.mu.Unlock()
	if !ready {
		return
	}
	if peerDone {
		c.abort()
		return
	}
	c.wire.shutWrite()
}

// abort closes the socket now; the handler is told once the transport
// reports the close.
func (c *Conn) abort() {
	c.wire.close()
}

// onTransportClosed runs once the socket is gone, whoever closed it.
func (c *Conn) onTransportClosed() {
	c.mu.Lock()
	if c.state.Swap(stateClosed) == stateClosed {
		c.mu.Unlock()
		return
	}
	code, reason := CloseAbnormal, ""
	if e := c.end; e != nil {
		if e.timer != nil {
			e.timer.Stop()
		}
		if e.code != 0 {
			code, reason = e.code, e.reason
		}
	}
	c.dropOwedLocked()
	c.mu.Unlock()
	c.engine.forget(c)
	c.handler.OnClose(c, code, reason)
}

// onWritten is told how many handed-over bytes the kernel has taken. It
// runs under the poller's connection lock, so finishing a close (which
// takes that lock again) happens on another goroutine.
func (c *Conn) onWritten(n int) {
	if c.release(n) == 0 && c.closing() {
		go c.maybeShutWrite()
	}
}
