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

func (w pollerWire) write(c *Conn, bufs [][]byte, n int) error {
	if len(bufs) == 1 {
		_, err := w.nb.Write(bufs[0])
		return err
	}
	// nbio writes one buffer per call; joining small frames costs a copy
	// and saves a syscall per frame. nbio copies whatever the kernel does
	// not take, so the joined buffer is free again when Write returns.
	bp := joinPool.Get().(*[]byte)
	joined := (*bp)[:0]
	for _, b := range bufs {
		joined = append(joined, b...)
	}
	_, err := w.nb.Write(joined)
	if cap(joined) <= maxPooledJoin {
		*bp = joined[:0]
		joinPool.Put(bp)
	}
	return err
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

func (w pollerWire) close() { _ = w.nb.Close() }

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
