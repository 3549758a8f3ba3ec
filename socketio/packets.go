package socketio

import (
	"fmt"
	"runtime/debug"

	"github.com/heraldhq/herald/internal/core"
	"github.com/heraldhq/herald/internal/protocol/sioproto"
)

// onPacket handles a packet for this socket, on the connection's reading
// path: acknowledgements are resolved at once (a handler may be waiting
// for one), events go to the socket's handler goroutine.
func (s *Socket) onPacket(p sioproto.Packet) {
	switch p.Type {
	case sioproto.Event:
		if s.admitEvent(p) {
			s.run(func() { s.handleEvent(p) })
		}
	case sioproto.Ack:
		s.resolveAck(p)
	case sioproto.Disconnect:
		if c := s.conn(); c != nil {
			c.forget(s)
		}
		// Off the reading path: close runs the node's OnDisconnect hook,
		// which must not hold up the connections read with this one.
		s.run(func() { s.close("client namespace disconnect") })
	}
}

// handleEvent runs the handler of an event and sends its results as the
// acknowledgement when the client asked for one.
func (s *Socket) handleEvent(p sioproto.Packet) {
	if s.state.Load() != socketConnected {
		return // the reference ignores events that arrive after disconnect
	}
	name, err := p.EventName()
	if err != nil {
		s.reportError(err)
		return
	}
	args, err := argsOf(p)
	if err != nil {
		s.reportError(err)
		return
	}
	results, handled, err := s.dispatch(name, args)
	if err != nil {
		s.reportError(fmt.Errorf("event %q: %w", name, err))
		return
	}
	if p.HasID && handled {
		s.sendAck(p.ID, results)
	}
}

// dispatch calls the event's handler: the namespace's, else a built-in.
// Like the reference, an event nobody listens to is dropped, and its
// acknowledgement never comes.
func (s *Socket) dispatch(name string, args []Arg) (results []any, handled bool, err error) {
	if h := s.nsp.handler(name); h != nil {
		err := s.safeCall(func() error {
			var err error
			results, err = h.call(s, args)
			return err
		})
		return results, true, err
	}
	if !s.srv.cfg.NoBuiltinEvents {
		if b := builtins[name]; b != nil {
			return []any{b(s, args)}, true, nil
		}
	}
	return nil, false, nil
}

// admitEvent applies the node's event rate to what the client sends, and
// bounds the events waiting for the socket's handlers. A refused event
// with an acknowledgement gets {"error": …}; a burst-long run of refusals,
// or a backlog past the bound, disconnects the socket.
func (s *Socket) admitEvent(p sioproto.Packet) bool {
	ok, tooMany := s.client.AllowCommand()
	s.mu.Lock()
	pending := len(s.tasks)
	s.mu.Unlock()
	l := s.srv.core.Limits()
	maxPending := maxPendingEvents(l)
	if ok && pending < maxPending {
		return true
	}
	if tooMany || pending >= maxPending {
		if s.state.CompareAndSwap(socketConnected, socketDisconnecting) {
			// Off the poller: OnError is the application's, and the
			// DISCONNECT goes through the hub, whose queue may be full.
			s.srv.closers.Add(1)
			go func() {
				defer s.srv.closers.Add(-1)
				s.reportError(fmt.Errorf("disconnected: the client sends events faster than the server allows"))
				s.sendDisconnect()
			}()
		}
		return false
	}
	if p.HasID {
		// On the handler goroutine: after the acks of the events before
		// it, and never holding up the reader should the hub's queue be full.
		refusal := []any{map[string]string{"error": fmt.Sprintf("rate limit exceeded: at most %g events per second", l.CommandRate)}}
		s.run(func() { s.sendAck(p.ID, refusal) })
	}
	return false
}

// maxPendingEvents bounds the events waiting for a socket's handlers:
// four bursts' worth; past it the socket is disconnected.
func maxPendingEvents(l core.Limits) int { return 4 * l.CommandBurst }

// run queues f on the socket's handler goroutine, starting it if needed:
// a socket with nothing to do has no goroutine.
func (s *Socket) run(f func()) {
	s.mu.Lock()
	s.tasks = append(s.tasks, f)
	start := !s.running
	s.running = true
	s.mu.Unlock()
	if start {
		s.srv.closers.Add(1)
		go s.loop()
	}
}

func (s *Socket) loop() {
	defer s.srv.closers.Add(-1)
	for {
		s.mu.Lock()
		if len(s.tasks) == 0 {
			s.tasks, s.running = nil, false
			s.mu.Unlock()
			return
		}
		f := s.tasks[0]
		s.tasks[0] = nil
		s.tasks = s.tasks[1:]
		s.mu.Unlock()
		if err := s.safeCall(func() error { f(); return nil }); err != nil {
			s.reportError(err)
		}
	}
}

// safeCall runs application code, turning a panic into an error (which
// the caller reports) so one bad handler cannot take the server down.
func (s *Socket) safeCall(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
			s.srv.core.Log().Error("socket.io handler panicked", "socket", s.ID(), "panic", r, "stack", string(debug.Stack()))
		}
	}()
	return f()
}

// reportError tells the namespace's OnError.
func (s *Socket) reportError(err error) {
	s.nsp.mu.RLock()
	f := s.nsp.onError
	s.nsp.mu.RUnlock()
	if f != nil {
		f(s, err)
		return
	}
	s.srv.core.Log().Debug("socket.io error", "socket", s.ID(), "namespace", s.nsp.name, "err", err)
}

// Defer runs f on the socket's handler goroutine once the current handler
// has returned and its acknowledgement has been sent: for example, to
// disconnect a client right after answering it.
func (s *Socket) Defer(f func()) { s.run(f) }
