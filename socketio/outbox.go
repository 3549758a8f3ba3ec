package socketio

import (
	"strconv"
	"sync"
	"time"
)

// outbox is where a socket's packets go: its connection while it has
// one, and with recovery on, a log of recent events so a client that
// comes back can get what it missed.
type outbox struct {
	mu sync.Mutex
	// conn is the socket's connection; nil while the transport is gone.
	conn *conn
	// flushed is the connection the last packet was queued on: flush
	// writes it even if the socket has since let go of it (a DISCONNECT
	// must still leave after the socket closes).
	flushed *conn
	// trimmed is the offset of the newest event the log let go of: the
	// log holds every event the socket was sent after it.
	trimmed uint64
	// log holds recent events, oldest first; only with recovery on.
	log eventLog
	// marks are, by room channel that keeps a stream, the last of its
	// publications the socket was sent while connected (see streams.go).
	marks *streamMarks
}

// send queues ev for the socket and reports whether a flush is needed.
// keep is false for events recovery must not replay (acks, volatile).
func (s *Socket) send(ev *encodedEvent, keep bool) bool {
	recover := keep && s.srv.recoveryOn()
	if recover {
		s.srv.number(ev)
	}
	o := &s.out
	o.mu.Lock()
	defer o.mu.Unlock()
	c := o.conn
	if c == nil && ev.stream.kept() {
		return false // its room's stream keeps it for the client's return
	}
	if recover {
		o.remember(ev, s.srv.cfg.RecoveryEvents, s.srv.cfg.RecoveryWindow, s.pinned)
		if ev.stream.kept() {
			o.passed(ev.stream)
		}
	}
	if c == nil {
		return false
	}
	if ev.volatile && !c.sess.Writable() {
		return false
	}
	o.flushed = c
	if recover {
		return c.enqueue(ev.numbered.text, ev.numbered.frame, ev)
	}
	return c.enqueue(ev.text, ev.plainFrame(), ev)
}

// remember logs ev, first dropping the events older than the recovery
// window and the oldest beyond maxEvents. Pinned, it drops none by age
// and keeps up to pinnedEvents.
func (o *outbox) remember(ev *encodedEvent, maxEvents int, window time.Duration, pinned bool) {
	if pinned {
		maxEvents = pinnedEvents(maxEvents)
	} else {
		o.trimBefore(ev.numbered.at.Add(-window))
	}
	if dropped := o.log.push(ev, maxEvents); dropped != nil {
		o.trimmed = dropped.numbered.offset
	}
}

// pinnedEvents bounds the log of a socket whose client is recovering
// while the application's OnConnect hook decides: a slow hook while events
// pour in costs at most this much. Past it the oldest go, and the
// recovery fails: the client gets a new socket, never a partial replay.
func pinnedEvents(maxEvents int) int { return 4 * maxEvents }

// last is the offset of the newest event logged.
func (o *outbox) last() uint64 {
	if o.log.n == 0 {
		return o.trimmed // every event logged has been let go of
	}
	return o.log.at(int(o.log.n) - 1).numbered.offset
}

// trimBefore drops the logged events numbered before t.
func (o *outbox) trimBefore(t time.Time) {
	for old := o.log.oldest(); old != nil && old.numbered.at.Before(t); old = o.log.oldest() {
		o.trimmed = o.log.dropOldest().numbered.offset
	}
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
