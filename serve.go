package herald

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/heraldhq/herald/internal/httpconn"
	"github.com/prometheus/client_golang/prometheus"
)

// Serve accepts connections on ln and serves h on them (nil: Handler)
// with the settings of Config.HTTP: idle, header and body timeouts, and
// the cap on plain HTTP connections (http.max_connections), so that
// clients which open connections and stall cannot use up the process's
// open files. An application that mounts Handler in its own mux passes
// the mux; its own handlers then get the same bounds. Serve may be called
// for several listeners; for TLS, pass a tls.NewListener. It returns
// http.ErrServerClosed once Shutdown has finished (Shutdown closes ln
// after the shutdown delay), or, earlier, the error that stopped it
// accepting.
func (n *Node) Serve(ln net.Listener, h http.Handler) error {
	if h == nil {
		h = n.Handler()
	}
	n.warnIfTooFewFiles()
	n.advertise(ln.Addr())
	srv := n.httpServer(n.limitBody(h))
	l := &onceCloseListener{Listener: ln}
	if !n.servers.add(srv, l) {
		_ = l.Close()
		<-n.stopped
		return http.ErrServerClosed
	}
	err := srv.Serve(l)
	if !n.servers.remove(srv) {
		// Shutdown took the server (and closed the listener, which may
		// have ended Serve before net/http knew it was shutting down).
		<-n.stopped
		return http.ErrServerClosed
	}
	return err
}

// advertise tells the other nodes of a cluster where to reach this one,
// when cluster.url does not say: at the first address it serves on.
func (n *Node) advertise(addr net.Addr) {
	if n.cfg.Cluster.URL != "" || !n.core.Clustered() {
		return
	}
	n.advertiseOnce.Do(func() { n.core.Advertise(listenURL(addr)) })
}

// listenURL is an http:// URL for a listening address, with the host
// name in place of an unspecified IP (0.0.0.0, ::).
func listenURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host, _ = os.Hostname()
	}
	return "http://" + net.JoinHostPort(host, port)
}

// fileMargin is the open files a node needs besides its connections:
// listeners, pollers, logs, what the application opens.
const fileMargin = 100

// warnIfTooFewFiles warns when the process may not open as many files as
// the limits allow connections: a flood could then exhaust them before
// the limits apply, and the node would stop answering even /healthz.
func (n *Node) warnIfTooFewFiles() {
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) != nil {
		return
	}
	need := uint64(n.cfg.Limits.MaxConnections + n.cfg.HTTP.MaxConnections + fileMargin)
	if rl.Cur < need {
		n.log.Warn("the open-files limit is below limits.max_connections + http.max_connections + 100: "+
			"raise it (ulimit -n, LimitNOFILE=) or lower those limits (docs/operations.md)",
			"open_files_limit", rl.Cur, "needed", need)
	}
}

// httpServer is the http.Server Serve runs: net/http's own timeouts bound
// the idle time and the headers, the node's tracker the connection count
// and (through handler) the body time.
func (n *Node) httpServer(handler http.Handler) *http.Server {
	h := n.cfg.HTTP
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: h.HeaderTimeout,
		IdleTimeout:       h.IdleTimeout,
		MaxHeaderBytes:    h.MaxHeaderBytes,
		ConnState:         n.conns.ConnState,
		ConnContext:       n.conns.ConnContext,
		ErrorLog:          slog.NewLogLogger(n.log.Handler(), slog.LevelWarn),
	}
}

// servers are the http.Servers Serve runs, for Shutdown to stop.
type servers struct {
	mu     sync.Mutex
	closed bool
	bySrv  map[*http.Server]net.Listener
}

// add records srv serving on ln; false once shutdown has taken the list.
func (s *servers) add(srv *http.Server, ln net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if s.bySrv == nil {
		s.bySrv = make(map[*http.Server]net.Listener)
	}
	s.bySrv[srv] = ln
	return true
}

// remove forgets srv; false once shutdown has taken the list.
func (s *servers) remove(srv *http.Server) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	delete(s.bySrv, srv)
	return true
}

// close takes the list; later add calls fail.
func (s *servers) close() map[*http.Server]net.Listener {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return s.bySrv
}

// waitShutdownDelay keeps the node serving, not ready, for the shutdown
// delay or until ctx ends.
func (n *Node) waitShutdownDelay(ctx context.Context) {
	if n.cfg.ShutdownDelay <= 0 {
		return
	}
	t := time.NewTimer(n.cfg.ShutdownDelay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// errRequestsCut reports HTTP requests still running at the deadline.
var errRequestsCut = errors.New("herald: HTTP requests still in flight at the shutdown timeout were cut")

// stopServing stops the servers Serve runs: their listeners close now,
// and so do connections without a request under way; requests in flight
// may finish until ctx ends, when what is left is cut. The channel gets
// the outcome once every server has stopped.
func (n *Node) stopServing(ctx context.Context) <-chan error {
	srvs := n.servers.close()
	for _, ln := range srvs {
		_ = ln.Close()
	}
	n.conns.CloseUnstarted()
	done := make(chan error, 1)
	var wg sync.WaitGroup
	errs := make(chan error, len(srvs))
	for srv := range srvs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if srv.Shutdown(ctx) != nil {
				_ = srv.Close()
				errs <- errRequestsCut
			}
		}()
	}
	go func() {
		wg.Wait()
		close(errs)
		var err error
		for e := range errs {
			err = e
		}
		done <- err
	}()
	return done
}

// onceCloseListener lets Shutdown close the listener before net/http's
// own Shutdown closes it again.
type onceCloseListener struct {
	net.Listener
	once sync.Once
	err  error
}

func (l *onceCloseListener) Close() error {
	l.once.Do(func() { l.err = l.Listener.Close() })
	return nil
}

// httpCollectors report the plain HTTP connections of the servers Serve
// runs: how many are open, and how many were shed at the cap, by what
// they were doing (idle, headers, body) or "full" for a newcomer refused.
func (n *Node) httpCollectors() []prometheus.Collector {
	cs := []prometheus.Collector{gaugeFunc("http_connections",
		"Plain HTTP connections open (accepted, not upgraded to WebSocket).", func() float64 { return float64(n.conns.Len()) })}
	for _, reason := range httpconn.Reasons() {
		cs = append(cs, prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "herald", Name: "http_connections_shed_total",
			Help:        "Plain HTTP connections closed at http.max_connections to make room (reason: what they were doing), or refused (full).",
			ConstLabels: prometheus.Labels{"reason": reason}}, func() float64 { return float64(n.conns.Shed(reason)) }))
	}
	return cs
}
