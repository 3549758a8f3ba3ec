package websocket

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/heraldhq/herald/internal/backlog"
	"github.com/heraldhq/herald/internal/poll"
	"github.com/lesismal/nbio"
	"github.com/lesismal/nbio/logging"
)

// Config tunes an Engine. Zero values mean the defaults named on each field.
type Config struct {
	// MaxMessageSize is the largest message a peer may send, in bytes;
	// larger ones close the connection with 1009. Zero means 65536.
	MaxMessageSize int
	// MaxQueueBytes bounds each connection's unsent outbound bytes; a
	// connection that would pass it is closed with 1013. Zero means 1 MiB.
	MaxQueueBytes int
	// PingInterval is how long a connection may stay silent before the
	// server pings it. Zero means 25s.
	PingInterval time.Duration
	// PongTimeout is how long a ping may go unanswered before the
	// connection is dropped. Zero means 10s.
	PongTimeout time.Duration
	// CloseTimeout is how long the server waits for the peer to finish a
	// closing handshake. Zero means 3s.
	CloseTimeout time.Duration
	// WriteTimeout bounds a blocking write on connections that could not
	// be moved to the poller. Zero means 10s.
	WriteTimeout time.Duration
	// HandshakeTimeout bounds writing the upgrade response. Zero means 10s.
	HandshakeTimeout time.Duration
	// Backlog, when set, counts every connection's queued and unsent
	// bytes: the node's fan-out backlog, which several engines may share.
	Backlog *backlog.Meter
}

func (c Config) withDefaults() Config {
	setInt(&c.MaxMessageSize, 64<<10)
	setInt(&c.MaxQueueBytes, 1<<20)
	setDur(&c.PingInterval, 25*time.Second)
	setDur(&c.PongTimeout, 10*time.Second)
	setDur(&c.CloseTimeout, 3*time.Second)
	setDur(&c.WriteTimeout, 10*time.Second)
	setDur(&c.HandshakeTimeout, 10*time.Second)
	return c
}

func setInt(v *int, def int) {
	if *v <= 0 {
		*v = def
	}
}

func setDur(v *time.Duration, def time.Duration) {
	if *v <= 0 {
		*v = def
	}
}

// Stats are counters an Engine keeps for metrics.
type Stats struct {
	// Accepted counts upgraded connections.
	Accepted atomic.Int64
	// SlowConsumers counts connections closed because their queue was full.
	SlowConsumers atomic.Int64
	// HeartbeatTimeouts counts connections dropped for not answering pings.
	HeartbeatTimeouts atomic.Int64
	// ProtocolErrors counts connections closed for a bad frame, bad UTF-8
	// or an oversized message.
	ProtocolErrors atomic.Int64
}

// Engine owns the heartbeat and a set of open connections.
type Engine struct {
	cfg      Config
	nb       *nbio.Engine
	conns    registry
	stats    Stats
	done     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

// NewEngine starts an engine and its heartbeat.
func NewEngine(cfg Config) (*Engine, error) {
	nb, err := sharedPoller()
	if err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg.withDefaults(), nb: nb, done: make(chan struct{})}
	e.conns.init()
	e.wg.Add(1)
	go e.heartbeat()
	return e, nil
}

var (
	pollerOnce sync.Once
	poller     *nbio.Engine
	pollerErr  error
)

// sharedPoller starts the process's one nbio engine: GOMAXPROCS epoll
// goroutines serving every Engine's connections, like Go's own netpoller.
// It lives as long as the process. Sharing it is also what makes Engine.Stop
// safe at any moment: nbio's pollers reset their shutdown flag when their
// loop starts, so stopping an nbio engine right after starting it can hang.
func sharedPoller() (*nbio.Engine, error) {
	pollerOnce.Do(func() {
		logging.SetLevel(logging.LevelError)
		// nbio indexes connections by fd in a slice of this length; size
		// it to what this process may open instead of nbio's 2M default.
		var rl syscall.Rlimit
		if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) == nil && rl.Cur > 0 && rl.Cur < 1<<22 {
			nbio.MaxOpenFiles = int(rl.Cur) + 64
		}
		nb := nbio.NewEngine(nbio.Config{Name: "herald", NPoller: runtime.GOMAXPROCS(0)})
		nb.OnData(func(nc *nbio.Conn, data []byte) {
			if c := connOf(nc); c != nil {
				c.onData(data)
			}
		})
		nb.OnClose(func(nc *nbio.Conn, _ error) {
			if c := connOf(nc); c != nil {
				c.onTransportClosed()
			}
		})
		nb.OnWrittenSize(func(nc *nbio.Conn, _ []byte, n int) {
			if c := connOf(nc); c != nil {
				c.onWritten(n)
			}
		})
		if pollerErr = nb.Start(); pollerErr == nil {
			poller = nb
		}
	})
	return poller, pollerErr
}

// MaxQueueBytes is the bound on each connection's unsent bytes.
func (e *Engine) MaxQueueBytes() int { return e.cfg.MaxQueueBytes }

// Stats returns the engine's live counters.
func (e *Engine) Stats() *Stats { return &e.stats }

// Len is the number of open connections.
func (e *Engine) Len() int { return e.conns.len() }

// CloseAll starts the closing handshake on every connection.
func (e *Engine) CloseAll(code int, reason string) {
	for _, c := range e.conns.snapshot() {
		c.Close(code, reason)
	}
}

// Drain waits until every connection is gone or ctx ends, then drops
// whatever is left.
func (e *Engine) Drain(ctx context.Context) error {
	err := poll.Until(ctx, 10*time.Millisecond, func() bool { return e.Len() == 0 })
	if err != nil {
		for _, c := range e.conns.snapshot() {
			c.abort()
		}
	}
	return err
}

// Stop drops every connection and stops the heartbeat. Calling it again
// does nothing.
func (e *Engine) Stop() {
	e.stopOnce.Do(func() {
		close(e.done)
		e.wg.Wait()
		for _, c := range e.conns.snapshot() {
			c.abort()
		}
	})
}

func (e *Engine) forget(c *Conn) { e.conns.remove(c) }

// connOf finds the Conn a poller connection carries.
func connOf(nc *nbio.Conn) *Conn {
	c, ok := nc.Session().(*Conn)
	if !ok || !c.published.Load() {
		return nil
	}
	return c
}
