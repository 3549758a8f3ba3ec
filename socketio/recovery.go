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
	if err != nil || !old.canReplayAfter(after) || time.Since(old.disconnectedSince()) > srv.cfg.RecoveryWindow {
		old.close("transport close") // cannot recover: the socket ends for good
		return false
	}
	if err := srv.backend.Connected(context.Background(), old.describe()); err != nil {
		old.close("transport close")
		return false
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		srv.recovery.keep(old)
		return true
	}
	c.put(old)
	c.mu.Unlock()
	fresh.state.Store(socketClosed)
	old.recovered.Store(true)
	old.state.Store(socketConnected)
	c.joined()
	c.sendPacket(socketioConnect(old))
	old.replayAfter(c, after)
	old.run(old.onConnect)
	return true
}

func (s *Socket) disconnectedSince() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Unix(0, s.disconnectedAt)
}

// canReplayAfter reports whether the log holds every event the socket
// was sent after offset, and offset is one the socket could have been
// given.
func (s *Socket) canReplayAfter(after uint64) bool {
	o := &s.out
	o.mu.Lock()
	defer o.mu.Unlock()
	return after >= o.trimmed && after <= o.last
}

// replayAfter attaches the socket to c and queues the logged events after
// offset, with their offsets, before anything newer.
func (s *Socket) replayAfter(c *conn, after uint64) {
	o := &s.out
	o.mu.Lock()
	o.conn = c
	for i := range int(o.log.n) {
		if ev := o.log.at(i); ev.numbered.offset > after {
			c.enqueue(ev.numbered.text, ev.numbered.frame, ev)
		}
	}
	o.mu.Unlock()
	c.sess.Flush()
}

// expireLoop ends kept sockets whose window has passed.
func (srv *Server) expireLoop() {
	if !srv.recoveryOn() {
		return
	}
	t := time.NewTicker(min(srv.cfg.RecoveryWindow/4, time.Second))
	defer t.Stop()
	for {
		select {
		case <-srv.done:
			return
		case now := <-t.C:
			for _, s := range srv.recovery.expired(now, srv.cfg.RecoveryWindow) {
				s.close("transport close")
			}
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
