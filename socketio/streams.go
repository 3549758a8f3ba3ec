package socketio

import (
	"github.com/heraldhq/herald/internal/core"
	"github.com/heraldhq/herald/internal/protocol/record"
)

// Room broadcasts on channels that keep history are recovered from the
// channel streams, not from the socket's log: a socket whose transport
// dropped stays in its rooms but lets their broadcasts go by, and when
// its client comes back each room is caught up from its stream, from
// where that client stopped. The log still holds what the socket was
// sent while connected, so the server knows where that is, and what only
// the socket's log can hold: emits to the socket alone, and broadcasts to
// rooms whose channel keeps no history.

// streamMark is where a publication stands in its channel's stream.
type streamMark struct {
	channel string
	offset  uint64
	epoch   string
}

// kept reports whether the mark names a stream recovery can read.
func (m streamMark) kept() bool { return m.channel != "" }

// markStream notes where ev, the event of publication p, stands in p's
// channel's stream, when the channel keeps history and the event is one
// recovery replays.
func (n *Namespace) markStream(ev *encodedEvent, p *record.Publication) {
	if ev == nil || !ev.replayable || p.Offset == 0 || !n.srv.keepsStream(p.Channel) {
		return
	}
	ev.stream = streamMark{channel: p.Channel, offset: p.Offset, epoch: p.Epoch}
}

// keepsStream reports whether channel ch keeps publications to replay.
func (srv *Server) keepsStream(ch string) bool {
	p, _ := srv.core.PolicyFor(ch)
	return p.HistorySize > 0
}

// streamMarks are a socket's marks, one per room channel: a slice
// searched in order, as a socket is in few rooms, and fan-out updates
// one for every broadcast it delivers.
type streamMarks []streamMark

// passed records that the socket was sent m's publication: its client
// has m's room up to there. o.mu held.
func (o *outbox) passed(m streamMark) {
	if o.marks == nil {
		o.marks = new(streamMarks)
	}
	marks := *o.marks
	for i := range marks {
		if marks[i].channel == m.channel {
			marks[i] = m
			return
		}
	}
	*o.marks = append(marks, m)
}

// mark returns the socket's mark for room channel ch. o.mu held.
func (o *outbox) mark(ch string) (streamMark, bool) {
	if o.marks != nil {
		for _, m := range *o.marks {
			if m.channel == ch {
				return m, true
			}
		}
	}
	return streamMark{}, false
}

// joinedAt records where the stream of room channel ch stood when the
// socket joined it: a client that was sent nothing of it since has it up
// to there. Later deliveries, in flight at the join included, overwrite
// it in fan-out's order; one delivered before the join returned, on a
// broker that delivers as soon as it is subscribed, is not undone.
func (s *Socket) joinedAt(ch string, pos core.Subscription) {
	if !s.srv.recoveryOn() || !s.srv.keepsStream(ch) {
		return
	}
	m := streamMark{channel: ch, offset: pos.Position.Offset, epoch: pos.Position.Epoch}
	s.out.mu.Lock()
	if had, ok := s.out.mark(ch); !ok || had.epoch != m.epoch || had.offset < m.offset {
		s.out.passed(m)
	}
	s.out.mu.Unlock()
}

// sinceFor is where a client that has every event numbered up to after
// stands in ch's stream: just before the first broadcast of ch the log
// holds after it, or else the last one the socket was sent. ok is false
// when the socket has no record of ch. o.mu held.
func (o *outbox) sinceFor(ch string, after uint64) (since core.Since, ok bool) {
	for i := range int(o.log.n) {
		if ev := o.log.at(i); ev.numbered.offset > after && ev.stream.channel == ch {
			return core.Since{Offset: ev.stream.offset - 1, Epoch: ev.stream.epoch}, true
		}
	}
	m, ok := o.mark(ch)
	return core.Since{Offset: m.offset, Epoch: m.epoch}, ok
}

// catchUp starts catching the socket up on each of its rooms that keeps
// a stream, from where its client, which has every event up to after,
// stands: from now on the rooms' broadcasts wait for the replay. ok is
// false when one cannot be (no record of the room, the stream no longer
// reaches back or is another epoch, past history.recovery_max): the
// client then gets a new socket, never part of what it missed. Every
// subscription returned must be started, whatever happens next, to end
// the wait.
func (s *Socket) catchUp(after uint64) (subs []core.Subscription, ok bool) {
	for _, ch := range s.client.Channels() {
		if !s.srv.keepsStream(ch) {
			continue
		}
		s.out.mu.Lock()
		since, known := s.out.sinceFor(ch, after)
		s.out.mu.Unlock()
		if !known {
			return subs, false
		}
		sub, e := s.srv.core.CatchUp(&s.client, ch, since)
		if e != nil {
			return subs, false
		}
		subs = append(subs, sub)
		if !sub.Resume.Recovered {
			return subs, false
		}
	}
	return subs, true
}

// startAll replays what each room's stream holds for the client and
// lets the rooms' live broadcasts through again.
func startAll(subs []core.Subscription) {
	for _, sub := range subs {
		sub.Start()
	}
}
