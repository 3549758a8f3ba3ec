package socketio

import (
	"context"
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

func (r *recoveryStore) keep(s *Socket) {
	r.mu.Lock()
	r.sockets[s.pid] = s
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
func (srv *Server) restore(c *conn, fresh *Socket, pid, offset string) bool {
	old := srv.recovery.take(pid, fresh.nsp)
	if old == nil {
		return false
	}
	after, err := strconv.ParseUint(offset, 36, 64)
	if err != nil || old.tokenExpired() || time.Since(old.disconnectedSince()) > srv.cfg.RecoveryWindow ||
		!old.pinLogAfter(after) {
		old.close("transport close") // cannot recover: the socket ends for good
		return false
	}
	// The log now keeps every event after offset until replayAfter, however
	// long the application's hook takes and however many events arrive.
	if err := srv.backend.Connected(context.Background(), old.describe()); err != nil {
		old.close("transport close")
		return false
	}
	old.setRestoring(true)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		old.setRestoring(false)
		old.unpinLog()
		srv.backend.Disconnected(context.Background(), old.describe(), "transport close")
		if srv.closing.Load() {
			old.close("server shutting down") // no node left to recover with
		} else {
			srv.recovery.keep(old)
		}
		return true
	}
	// Connected before c.mu is let go: from here on, a close of c finds
	// the socket on it, connected, and winds it down as any other.
	c.put(old)
	fresh.state.Store(socketClosed)
	old.recovered.Store(true)
	old.state.Store(socketConnected)
	c.mu.Unlock()
	c.joined()
	c.sendPacket(socketioConnect(old))
	if !old.replayAfter(c, after) {
		old.settleRestore() // c closed meanwhile, and its close has the socket
		return true
	}
	old.stopExpiry() // the token's timer fired, or not, while the socket was away
	old.armExpiry()
	old.settleRestore()
	return true
}

func (s *Socket) setRestoring(v bool) {
	s.mu.Lock()
	s.restoring = v
	s.mu.Unlock()
}

// settleRestore queues OnConnect for a restored socket, unless the close
// of its new connection got there first (notifyDisconnect): then the
// application hears of neither. Queued in the same step that settles it,
// OnConnect always precedes the notice of any later close.
func (s *Socket) settleRestore() {
	s.mu.Lock()
	start := s.restoring && s.queueLocked(s.onConnect)
	s.restoring = false
	s.mu.Unlock()
	s.startLoop(start)
}

func (s *Socket) disconnectedSince() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Unix(0, s.disconnectedAt)
}

// pinLogAfter reports whether the log holds every event the socket was
// sent after offset, and offset is one the socket could have been given.
// If so it pins the log: nothing is trimmed from it until replayAfter or
// unpinLog.
func (s *Socket) pinLogAfter(after uint64) bool {
	o := &s.out
	o.mu.Lock()
	defer o.mu.Unlock()
	o.pinned = after >= o.trimmed && after <= o.last()
	return o.pinned
}

func (s *Socket) unpinLog() {
	s.out.mu.Lock()
	s.out.pinned = false
	s.out.mu.Unlock()
}

// tokenExpired reports whether the socket's token expired while it was
// away: such a socket is not given back.
func (s *Socket) tokenExpired() bool {
	return s.expires != 0 && time.Now().UnixNano() >= s.expires
}

// replayAfter attaches the socket to c and queues the logged events after
// offset, with their offsets, before anything newer; it unpins the log.
// It attaches nothing and reports false once c has closed: c's close
// then winds the socket down, and must not find it on a dead connection.
func (s *Socket) replayAfter(c *conn, after uint64) bool {
	o := &s.out
	o.mu.Lock()
	o.pinned = false
	if c.isClosed() {
		o.mu.Unlock()
		return false
	}
	o.conn = c
	for i := range int(o.log.n) {
		if ev := o.log.at(i); ev.numbered.offset > after {
			c.enqueue(ev.numbered.text, ev.numbered.frame, ev)
		}
	}
	o.mu.Unlock()
	c.sess.Flush()
	return true
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
	srv.mu.RLock()
	nsps := make([]*Namespace, 0, len(srv.nsps))
	for _, n := range srv.nsps {
		nsps = append(nsps, n)
	}
	srv.mu.RUnlock()
	for _, n := range nsps {
		for _, s := range n.allSockets() {
			o := &s.out
			o.mu.Lock()
			if !o.pinned {
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
