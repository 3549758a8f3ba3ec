package socketio

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/core"
)

// In a cluster an Engine.IO session lives on the node that made it, and
// its id starts with that node's id. A polling request or an upgrade that
// a load balancer sends to another node is forwarded to the owner over
// HTTP, at the URL the owner announced (cluster.url), so polling needs
// no sticky sessions. Forwarding beats sharing the session's state: a
// session is a queue and a parked GET, which only one node can hold
// without a round trip per packet. A forwarded request is never
// forwarded again: a node that does not hold its session answers
// "Session ID unknown", and the client starts a new one.

// lookupTimeout bounds the registry read that finds a node which joined
// since this one last read it.
const lookupTimeout = 2 * time.Second

// forwardedHeader names the node a forwarded request came through.
const forwardedHeader = "Herald-Forwarded-By"

// forwarder forwards requests to the node holding their session.
type forwarder struct {
	core  *core.Core
	proxy *httputil.ReverseProxy

	mu sync.Mutex
	// open cancels the requests being forwarded, upgrades included, so
	// that a shutdown ends them (net/http's Shutdown does not know
	// hijacked connections).
	open   map[uint64]context.CancelFunc
	next   uint64
	closed bool
}

// targetKey carries a forwarded request's destination in its context.
type targetKey struct{}

func newForwarder(c *core.Core) *forwarder {
	f := &forwarder{core: c, open: map[uint64]context.CancelFunc{}}
	f.proxy = &httputil.ReverseProxy{
		Rewrite:        f.rewrite,
		Transport:      forwardTransport(),
		ModifyResponse: f.forwarded,
		ErrorHandler:   f.failed,
	}
	return f
}

// forwardTransport dials the other nodes directly: no proxy from the
// environment, a bounded dial, and no bound on a response's wait, since
// a long-polling GET waits up to the ping interval by design.
func forwardTransport() *http.Transport {
	return &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout: 5 * time.Second,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
	}
}

// elsewhere is engineio.Config.Elsewhere: the handler forwarding a
// request for session sid to its node, or nil when there is none.
func (f *forwarder) elsewhere(r *http.Request, sid string) http.Handler {
	own := f.core.ID()
	if r.Header.Get(forwardedHeader) != "" || len(sid) <= len(own) || sid[:len(own)] == own {
		return nil
	}
	ctx, cancel := context.WithTimeout(r.Context(), lookupTimeout)
	defer cancel()
	raw, ok := f.core.NodeURL(ctx, sid[:len(own)])
	if !ok {
		return nil
	}
	target, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, done, ok := f.track(context.WithValue(r.Context(), targetKey{}, target))
		if !ok {
			http.Error(w, "server shutting down", http.StatusServiceUnavailable)
			return
		}
		defer done()
		f.proxy.ServeHTTP(w, r.WithContext(ctx))
	})
}

// rewrite points the request at its node, keeping the Host the client
// asked for: the owner applies its origin policy to it.
func (f *forwarder) rewrite(pr *httputil.ProxyRequest) {
	pr.SetURL(pr.In.Context().Value(targetKey{}).(*url.URL))
	pr.Out.Host = pr.In.Host
	pr.Out.Header.Set(forwardedHeader, f.core.ID())
}

func (f *forwarder) forwarded(*http.Response) error {
	f.core.Metrics().Forwarded.WithLabelValues("ok").Inc()
	return nil
}

// failed answers a request whose node could not be reached; the client
// takes it as a transport error and connects again.
func (f *forwarder) failed(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		// The client left (it reads nothing), or this node is closing.
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		return
	}
	f.core.Metrics().Forwarded.WithLabelValues("unreachable").Inc()
	target := r.Context().Value(targetKey{}).(*url.URL)
	http.Error(w, "the node holding this session ("+target.Host+") does not answer: "+err.Error(), http.StatusBadGateway)
}

// track registers a forwarded request's cancel until done is called.
func (f *forwarder) track(parent context.Context) (ctx context.Context, done func(), ok bool) {
	ctx, cancel := context.WithCancel(parent)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		cancel()
		return nil, nil, false
	}
	id := f.next
	f.next++
	f.open[id] = cancel
	return ctx, func() {
		f.mu.Lock()
		delete(f.open, id)
		f.mu.Unlock()
		cancel()
	}, true
}

// close ends every forwarded request and refuses new ones.
func (f *forwarder) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	for _, cancel := range f.open {
		cancel()
	}
	f.proxy.Transport.(*http.Transport).CloseIdleConnections()
}
