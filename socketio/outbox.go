package socketio

import (
	"strconv"
	"sync"
	"time"
)

// outbox is where a socket's packets go: its connection while it has
// one, and with recovery on, a log of recent events with their offsets so
// a client that comes back can get what it missed.
type outbox struct {
	mu sync.Mutex
	// conn is the socket's connection; nil while the transport is gone.
	conn *conn
	// flushed is the connection the last packet was queued on: flush
	// writes it even if the socket has since let go of it (a DISCONNECT
	// must still leave after the socket closes).
	flushed *conn
	// offset numbers events for recovery; the client echoes the last one
	// it processed when it reconnects.
	offset uint64
	// log holds recent events, oldest first; only with recovery on.
	log []logged
}

// logged is an event kept for recovery.
type logged struct {
	offset uint64
	ev     *encodedEvent
	at     time.Time
}

// send queues ev for the socket and reports whether a flush is needed.
// keep is false for events recovery must not replay (acks, volatile).
func (s *Socket) send(ev *encodedEvent, keep bool) bool {
	o := &s.out
	o.mu.Lock()
	defer o.mu.Unlock()
	recover := keep && s.srv.recoveryOn()
	if recover {
		o.offset++
		o.remember(ev, s.srv.cfg.RecoveryEvents, s.srv.cfg.RecoveryWindow)
	}
	c := o.conn
	if c == nil {
		return false
	}
	if ev.volatile && !c.sess.Writable() {
		return false
	}
	o.flushed = c
	if recover {
		return c.enqueue(ev.withOffset(offsetString(o.offset)), nil, ev)
	}
	return c.enqueue(ev.text, ev.frame, ev)
}

// remember logs ev under the current offset, dropping the oldest entries
// past the count or the recovery window.
func (o *outbox) remember(ev *encodedEvent, maxEvents int, window time.Duration) {
	now := time.Now()
	drop := 0
	for drop < len(o.log) && (len(o.log)-drop >= maxEvents || now.Sub(o.log[drop].at) > window) {
		drop++
	}
	if drop > 0 {
		clear(o.log[:drop])
		o.log = append(o.log[:0], o.log[drop:]...)
	}
	o.log = append(o.log, logged{offset: o.offset, ev: ev, at: now})
}

// flush writes what send queued.
func (s *Socket) flush() {
	s.out.mu.Lock()
	c := s.out.flushed
	s.out.mu.Unlock()
	if c != nil {
		c.sess.Flush()
	}
}

// enqueue queues an event's text (framed for WebSocket when frame is nil)
// and its attachments on the connection.
func (c *conn) enqueue(text, frame []byte, ev *encodedEvent) bool {
	needs, err := c.sess.Enqueue(text, frame)
	if err != nil {
		return false
	}
	for i, b := range ev.bins {
		n, _ := c.sess.EnqueueBinary(b, ev.binFrames[i])
		needs = needs || n
	}
	return needs
}

func offsetString(n uint64) string { return strconv.FormatUint(n, 36) }
