package socketio

import (
	"strconv"
	"sync"
	"time"
)

// recoveryStore holds sockets whose transport dropped, by private id,
// until their client comes back or RecoveryWindow passes.
type recoveryStore struct {
	mu      sync.Mutex
	sockets map[string]*Socket
}

func (r *recoveryStore) init() { r.sockets = map[string]*Socket{} }

// keep holds s for its client, unless it has been closed meanwhile (a
// close drops it from the store after marking it closed).
func (r *recoveryStore) keep(s *Socket) {
	r.mu.Lock()
	if s.state.Load() == socketRecoverable {
		r.sockets[s.pid] = s
	}
	r.mu.Unlock()
}

func (r *recoveryStore) drop(s *Socket) {
	r.mu.Lock()
	if r.sockets[s.pid] == s {
		delete(r.sockets, s.pid)
	}
	r.mu.Unlock()
}

// all removes and returns every kept socket.
func (r *recoveryStore) all() []*Socket {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*Socket, 0, len(r.sockets))
	for pid, s := range r.sockets {
		out = append(out, s)
		delete(r.sockets, pid)
	}
	return out
}

// holds reports whether a socket is kept under pid.
func (r *recoveryStore) holds(pid string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sockets[pid] != nil
}

// take removes and returns the socket kept under pid in namespace nsp.
func (r *recoveryStore) take(pid string, nsp *Namespace) *Socket {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.sockets[pid]
	if s == nil || s.nsp != nsp {
		return nil
	}
	delete(r.sockets, pid)
	return s
}

func (srv *Server) recoveryOn() bool { return srv.cfg.RecoveryWindow > 0 }

// restore gives the socket kept under pid back to its client on c, if it
// is still within the window and its log still holds every event after
// offset; fresh is the socket the CONNECT would otherwise become. The
// client gets the socket's id and rooms back, then the events it missed.
// It reports false when the CONNECT is to go on with fresh.
func (srv *Server) restore(c *conn, fresh *Socket, pid, offset string) bool {
	old := srv.recovery.take(pid, fresh.nsp)
	if old == nil {
		return false
	}
	after, err := strconv.ParseUint(offset, 36, 64)
	if err != nil || old.client.Expired() || time.Since(old.disconnectedSince()) > srv.cfg.RecoveryWindow ||
		!old.pinLogAfter(after) {
		old.close("transport close") // cannot recover: the socket ends for good
		return false
	}
	// The log now keeps the events after offset until resume, however long
	// the application's hook takes (up to pinnedEvents).
	if e := srv.core.Reattach(&old.client, old.RemoteAddr()); e != nil {
		old.close("transport close")
		return false
	}
	subs, ok := old.catchUp(after)
	if !ok {
		startAll(subs) // to a socket still detached: only ends the wait
		old.detach("transport close")
		old.close("transport close")
		return false
	}
	result := old.resume(c, fresh, after)
	startAll(subs)
	switch result {
	case resumed:
		fresh.abandon()
		c.sess.Flush()
		return true
	case resumeConnClosed:
		fresh.abandon()
		old.detach("transport close")
		if srv.closing.Load() {
			old.close("server shutting down") // no node left to recover with
		} else {
			srv.recovery.keep(old) // for the client's next try
		}
		return true
	default: // the log overflowed, or the application closed the socket
		old.detach("transport close")
		old.close("transport close")
		return false
	}
}

type resumeResult int8

const (
	resumed resumeResult = iota
	resumeConnClosed
	resumeLost
)

// resume attaches the kept socket to c and replays the logged events
// after offset, unless c has closed, the socket was closed meanwhile, or
// its log lost one of those events while pinned. It holds the outbox
// lock throughout, so no event slips between the check and the replay,
// and a close of c, which takes that lock too, finds the socket connected
// with OnConnect already queued: the application hears OnConnect then
// OnDisconnect. OnConnect is queued before the client hears CONNECT, so
// it runs before any event the client sends back, as for a new socket.
// Lock order: the outbox, then the connection, then the socket's own.
func (s *Socket) resume(c *conn, fresh *Socket, after uint64) resumeResult {
	o := &s.out
	o.mu.Lock()
	defer o.mu.Unlock()
	s.pinned = false
	if after < o.trimmed {
		return resumeLost
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return resumeConnClosed
	}
	if !s.state.CompareAndSwap(socketRecoverable, socketConnected) {
		c.mu.Unlock()
		return resumeLost
	}
	c.put(s)
	c.stopTimer()
	fresh.state.Store(socketClosed)
	s.recovered.Store(true)
	c.mu.Unlock()
	s.run(s.onConnect)
	c.sendPacket(socketioConnect(s))
	for i := range int(o.log.n) {
		// Broadcasts to rooms that keep a stream come from the stream.
		if ev := o.log.at(i); ev.numbered.offset > after && !ev.stream.kept() {
			c.enqueue(ev.numbered.text, ev.numbered.frame, ev)
		}
	}
	o.conn = c
	return resumed
}

func (s *Socket) disconnectedSince() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Unix(0, s.disconnectedAt)
}

// pinLogAfter reports whether the log holds every event the socket was
// sent after offset, and offset is one the socket could have been given.
// If so it pins the log: nothing is trimmed from it by age, and it keeps
// up to pinnedEvents, until resume.
func (s *Socket) pinLogAfter(after uint64) bool {
	o := &s.out
	o.mu.Lock()
	defer o.mu.Unlock()
	s.pinned = after >= o.trimmed && after <= o.last()
	return s.pinned
}

// expireLoop ends kept sockets whose window has passed.
func (srv *Server) expireLoop() {
	if !srv.recoveryOn() {
		return
	}
	t := time.NewTicker(min(srv.cfg.RecoveryWindow/4, time.Second))
	defer t.Stop()
	lastTrim := time.Now()
	for {
		select {
		case <-srv.done:
			return
		case now := <-t.C:
			for _, s := range srv.recovery.expired(now, srv.cfg.RecoveryWindow) {
				s.close("transport close")
			}
			if now.Sub(lastTrim) >= srv.cfg.RecoveryWindow/4 {
				srv.trimLogs(now.Add(-srv.cfg.RecoveryWindow))
				srv.sessions.forget(srv.withinWindow)
				lastTrim = now
			}
		}
	}
}

// trimLogs drops logged events older than cutoff from every socket. A log
// is otherwise trimmed only when the next event arrives, and a socket
// that has gone quiet would keep its last events (a welcome emit, say)
// for as long as it stays connected.
func (srv *Server) trimLogs(cutoff time.Time) {
	for _, n := range srv.namespaces() {
		for _, s := range n.allSockets() {
			o := &s.out
			o.mu.Lock()
			if !s.pinned {
				o.trimBefore(cutoff)
				if o.log.n == 0 {
					o.log.reset() // let go of the ring too
				}
			}
			o.mu.Unlock()
		}
	}
}

func (r *recoveryStore) expired(now time.Time, window time.Duration) []*Socket {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*Socket
	for pid, s := range r.sockets {
		if now.Sub(s.disconnectedSince()) > window {
			delete(r.sockets, pid)
			out = append(out, s)
		}
	}
	return out
}
