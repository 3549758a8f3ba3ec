// Package httpconn bounds what a server's plain HTTP connections (those
// not upgraded to WebSocket) may hold: how many there are at once, and how
// long a request body may take to arrive. net/http's own timeouts bound
// how long each connection may idle or take over its headers; this
// package bounds how many there are, so that clients which never finish a
// request cannot use up the process's file descriptors.
package httpconn

import (
	"container/list"
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
)

// phase is what a tracked connection is doing, which decides whether and
// in what order it may be shed.
type phase uint8

const (
	// serving: a request is being handled (a long-poll may be parked). Never shed.
	serving phase = iota
	// idle: between requests on a keep-alive connection, or sending the
	// headers of the next one.
	idle
	// headers: accepted, its first request's headers not complete yet.
	headers
	// body: its handler is reading a request body that has not all arrived.
	body
	phases
)

// Reasons a connection is shed, the label values of the shed counter:
// the phase of the connection closed to make room, or "full" for a new
// connection refused because every slot was serving a request.
var reasons = [phases]string{serving: "full", idle: "idle", headers: "headers", body: "body"}

// Reasons lists the values Shed accepts.
func Reasons() []string {
	return []string{reasons[idle], reasons[headers], reasons[body], reasons[serving]}
}

// entry is one tracked connection.
type entry struct {
	conn  net.Conn
	phase phase
	// elem is the entry's place in its phase's queue; nil while serving.
	elem *list.Element
}

// Tracker counts the connections of one or more http.Servers from accept
// until they are upgraded (hijacked) or closed, and keeps them under a
// cap. When a connection arrives with the cap reached it closes, to make
// room, the connection that has been idle longest; failing that, the one
// that has been sending its first request's headers longest; failing
// that, the one whose request body has been arriving longest. Only if
// every connection is serving a request is the new one refused. A client
// that opens connections and stalls therefore only ever displaces its own
// stalled connections, oldest first, and a client that sends a request
// promptly gets in.
//
// Install ConnState and ConnContext on the servers, and LimitBody around
// their handlers.
type Tracker struct {
	max int

	mu    sync.Mutex
	conns map[net.Conn]*entry
	// queues hold the sheddable entries of each phase, oldest first.
	queues [phases]list.List
	// stopped is set by CloseUnstarted: the servers are shutting down, and
	// a connection accepted from now on is closed at once.
	stopped bool

	shed [phases]atomic.Int64
}

// New returns a Tracker that keeps at most max connections.
func New(max int) *Tracker {
	return &Tracker{max: max, conns: make(map[net.Conn]*entry)}
}

// Len is the number of connections tracked: accepted, neither upgraded nor closed.
func (t *Tracker) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.conns)
}

// Shed is how many connections were closed for reason (one of Reasons).
func (t *Tracker) Shed(reason string) int64 {
	for p, r := range reasons {
		if r == reason {
			return t.shed[p].Load()
		}
	}
	return 0
}

// connKey keys the request context's net.Conn, set by ConnContext.
type connKey struct{}

// ConnContext is for http.Server.ConnContext: it lets LimitBody find the
// connection a request came on.
func (t *Tracker) ConnContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// ConnState is for http.Server.ConnState.
func (t *Tracker) ConnState(c net.Conn, s http.ConnState) {
	switch s {
	case http.StateNew:
		t.admit(c)
	case http.StateActive:
		t.move(c, serving, phases)
	case http.StateIdle:
		t.move(c, idle, phases)
	case http.StateHijacked, http.StateClosed:
		t.forget(c)
	}
}

// admit tracks a new connection, making room for it or refusing it. It
// runs on the server's accept goroutine, before the connection is served.
func (t *Tracker) admit(c net.Conn) {
	t.mu.Lock()
	if t.stopped {
		t.mu.Unlock()
		closeNow(c)
		return
	}
	var victim *entry
	if len(t.conns) >= t.max {
		if victim = t.oldestSheddableLocked(); victim == nil {
			t.mu.Unlock()
			t.shed[serving].Add(1)
			closeNow(c)
			return
		}
		t.shed[victim.phase].Add(1)
		t.removeLocked(victim)
	}
	e := &entry{conn: c, phase: serving}
	t.conns[c] = e
	t.setPhaseLocked(e, headers)
	t.mu.Unlock()
	if victim != nil {
		closeNow(victim.conn)
	}
}

// oldestSheddableLocked is the connection to close to make room: the
// oldest of the first non-empty queue, in the order idle, headers, body.
func (t *Tracker) oldestSheddableLocked() *entry {
	for _, p := range []phase{idle, headers, body} {
		if front := t.queues[p].Front(); front != nil {
			return front.Value.(*entry)
		}
	}
	return nil
}

// move puts c in phase to, if it is in phase from (any phase when from is
// phases). Connections no longer tracked are left alone.
func (t *Tracker) move(c net.Conn, to, from phase) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e := t.conns[c]; e != nil && (from == phases || e.phase == from) {
		t.setPhaseLocked(e, to)
	}
}

func (t *Tracker) setPhaseLocked(e *entry, p phase) {
	if e.elem != nil {
		t.queues[e.phase].Remove(e.elem)
		e.elem = nil
	}
	e.phase = p
	if p != serving {
		e.elem = t.queues[p].PushBack(e)
	}
}

func (t *Tracker) removeLocked(e *entry) {
	t.setPhaseLocked(e, serving)
	delete(t.conns, e.conn)
}

func (t *Tracker) forget(c net.Conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e := t.conns[c]; e != nil {
		t.removeLocked(e)
	}
}

// CloseUnstarted closes every connection that is not serving a request
// and has not sent a whole one (idle, or still sending headers), and
// every connection accepted from now on. Call it once the servers have
// begun shutting down: net/http would drop a request whose headers arrive
// after that without answering it, and waits up to 5 s for connections
// that never send one.
func (t *Tracker) CloseUnstarted() {
	t.mu.Lock()
	t.stopped = true
	var unstarted []*entry
	for _, p := range []phase{idle, headers} {
		for el := t.queues[p].Front(); el != nil; el = el.Next() {
			unstarted = append(unstarted, el.Value.(*entry))
		}
	}
	for _, e := range unstarted {
		t.removeLocked(e)
	}
	t.mu.Unlock()
	for _, e := range unstarted {
		closeNow(e.conn)
	}
}

// closeNow closes c's socket without a TLS close_notify: that alert is a
// write, which a client that does not read could hold up.
func closeNow(c net.Conn) {
	if tc, ok := c.(interface{ NetConn() net.Conn }); ok {
		c = tc.NetConn()
	}
	_ = c.Close()
}
