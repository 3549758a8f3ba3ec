package websocket

import (
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/lesismal/nbio"
)

// wire is the byte pipe under a connection.
type wire interface {
	// write sends bufs (n bytes in all), oldest first.
	write(c *Conn, bufs [][]byte, n int) error
	// shutWrite half-closes the socket after the close frame has left.
	shutWrite()
	// close closes the socket.
	close()
	// blocking reports whether write may block, so flushes must run on
	// their own goroutine instead of the caller's.
	blocking() bool
}

// pollerWire is a socket owned by the nbio poller: writes never block, and
// what the kernel does not take at once is kept by nbio until it can.
type pollerWire struct{ nb *nbio.Conn }

// joinPool holds buffers for joining queued frames into one write.
var joinPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// maxPooledJoin keeps rare large joins from pinning memory in the pool.
const maxPooledJoin = 64 << 10

// write sends bufs itself, as far as the kernel takes them at once, and
// hands nbio only the rest, which nbio keeps and writes when the socket
// is writable again.
//
// Why not nb.Write for everything: when a write fails (the peer reset),
// nbio closes the descriptor on the writing goroutine. A poller may at
// that moment hold an event for it already taken from epoll; if a new
// connection is given the freed descriptor number before the poller
// gets to that event, the poller applies it to the new connection and
// closes a healthy bystander. A failed write here only shuts the socket
// down, and the poller closes it in its own loop, where no stale event
// can follow.
func (w pollerWire) write(c *Conn, bufs [][]byte, n int) error {
	data := bufs[0]
	if len(bufs) > 1 {
		// Joining small frames costs a copy and saves a syscall per frame.
		bp := joinPool.Get().(*[]byte)
		joined := (*bp)[:0]
		for _, b := range bufs {
			joined = append(joined, b...)
		}
		data = joined
		defer func() {
			if cap(joined) <= maxPooledJoin {
				*bp = joined[:0]
				joinPool.Put(bp)
			}
		}()
	}
	// Bytes nbio still holds from an earlier write must leave first.
	nbioHolds := c.unsent.Load() > int64(n)
	sent, err := w.writeNow(data, nbioHolds)
	if sent > 0 {
		c.onWritten(sent)
	}
	if err != nil || sent == len(data) {
		return err
	}
	// nbio copies what the kernel does not take, so data is free again
	// when Write returns.
	_, err = w.nb.Write(data[sent:])
	return err
}

// writeNow writes as much of data as the socket takes without blocking,
// unless nbio holds earlier bytes. It holds nbio's lock, under which nbio
// marks a connection closed before closing its descriptor, so the
// descriptor written to is still this connection's. A failed write shuts
// the socket down for the poller to close.
func (w pollerWire) writeNow(data []byte, nbioHolds bool) (int, error) {
	w.nb.Lock()
	defer w.nb.Unlock()
	if closed, _ := w.nb.IsClosed(); closed {
		return 0, net.ErrClosed
	}
	if nbioHolds {
		return 0, nil
	}
	rc, err := w.nb.SyscallConn()
	if err != nil {
		return 0, err
	}
	sent, werr := 0, error(nil)
	_ = rc.Control(func(fd uintptr) {
		for sent < len(data) {
			k, e := syscall.Write(int(fd), data[sent:])
			if k > 0 {
				sent += k
			}
			switch {
			case e == syscall.EINTR:
				continue
			case e == syscall.EAGAIN:
				return
			case e != nil:
				werr = e
				_ = syscall.Shutdown(int(fd), syscall.SHUT_RDWR)
				return
			case k <= 0:
				return
			}
		}
	})
	return sent, werr
}

// shutWrite shuts the write side of the socket. nbio marks a connection
// closed under its lock before it closes the descriptor, so holding the
// lock while the connection is open guarantees the descriptor is still
// ours: a closed one may already have been reused by a new connection.
func (w pollerWire) shutWrite() {
	w.nb.Lock()
	defer w.nb.Unlock()
	if closed, _ := w.nb.IsClosed(); closed {
		return
	}
	rc, err := w.nb.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) { _ = syscall.Shutdown(int(fd), syscall.SHUT_WR) })
}

// close shuts the socket down and leaves closing the descriptor to the
// poller, in its own loop (see write for why no other goroutine may).
func (w pollerWire) close() {
	w.nb.Lock()
	defer w.nb.Unlock()
	if closed, _ := w.nb.IsClosed(); closed {
		return
	}
	if rc, err := w.nb.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) { _ = syscall.Shutdown(int(fd), syscall.SHUT_RDWR) })
	}
}

func (w pollerWire) blocking() bool { return false }

// streamWire is a plain net.Conn (TLS from a standard server, for
// example): a goroutine reads it and writes block up to a deadline.
type streamWire struct {
	conn    net.Conn
	timeout time.Duration
}

func (w streamWire) write(c *Conn, bufs [][]byte, n int) error {
	_ = w.conn.SetWriteDeadline(time.Now().Add(w.timeout))
	nb := net.Buffers(bufs)
	_, err := nb.WriteTo(w.conn)
	c.release(n) // written, or lost with the connection the error ends
	return err
}

func (w streamWire) shutWrite() {
	if cw, ok := w.conn.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
}

func (w streamWire) close() { _ = w.conn.Close() }

func (w streamWire) blocking() bool { return true }

// readLoop feeds a streamWire's bytes to the frame reader until the
// socket fails or closes.
func (c *Conn) readLoop(conn net.Conn) {
	buf := make([]byte, 4096)
	for !c.closed() {
		n, err := conn.Read(buf)
		if n > 0 {
			c.onData(buf[:n])
		}
		if err != nil {
			break
		}
	}
	_ = conn.Close()
	c.onTransportClosed()
}
