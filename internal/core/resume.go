package core

import (
	"sync"
	"sync/atomic"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/hub"
	"github.com/heraldhq/herald/internal/protocol/record"
)

// Since is where a client's copy of a channel's stream stands: the
// offset of the last publication it has, in the stream's epoch.
type Since struct {
	Offset uint64
	Epoch  string
}

// Resumed says how a resuming subscribe went.
type Resumed struct {
	// Position is where the stream stands; live publications follow it.
	Position broker.StreamPosition
	// Recovered is true when every publication after Since is replayed:
	// the client's copy has no gap. False when the epoch changed, the
	// history no longer reaches back, or the gap is past the recovery
	// bound.
	Recovered bool
	// Replayed is how many publications the replay holds.
	Replayed int
}

// Replayer is a session that takes missed publications before its live
// ones: Subscribe with a Since needs one.
type Replayer interface {
	hub.Subscriber
	// DeliverNow queues m as Deliver does, without asking Client.Holds:
	// the core replays and releases held messages through it.
	DeliverNow(m *hub.Message, encoded any) bool
}

// resume decides what a client resuming ch at since is sent: it reads
// the stream once, after the client joined the hub, so every publication
// past what it reads reaches the client live (and is held until the
// replay is done). cl.mu held.
func (c *Core) resume(cl *Client, ch string, since Since) (Resumed, []*record.Publication) {
	bound := c.cfg.RecoveryMax
	pubs, pos, err := c.broker.History(cl, ch, broker.HistoryOptions{Since: since.Offset, Limit: bound})
	if err != nil {
		c.log.Warn("reading history to resume", "channel", ch, "err", err)
		return Resumed{Position: c.position(cl, ch)}, nil
	}
	r := Resumed{Position: pos}
	switch {
	case since.Offset > 0 && since.Epoch != pos.Epoch, since.Offset > pos.Offset:
		return r, nil // another stream: its offsets say nothing of the client's
	case pos.Offset-since.Offset > uint64(bound), replayBytes(pubs) > c.cfg.MaxReplayBytes:
		return r, nil // past the bound: the client reloads instead
	}
	r.Recovered = uint64(len(pubs)) == pos.Offset-since.Offset
	r.Replayed = len(pubs)
	return r, pubs
}

func replayBytes(pubs []*record.Publication) int {
	n := 0
	for _, p := range pubs {
		n += len(p.Data) + len(p.Channel) + 64
	}
	return n
}

// Subscription is what Subscribe did.
type Subscription struct {
	// Position is where the channel's stream stands.
	Position broker.StreamPosition
	// Resume says how the resume went, when Subscribe was given a Since.
	Resume *Resumed

	cl     *Client
	ch     string
	hold   uint64
	replay []*record.Publication
}

// Start sends a resuming client the replay, then lets the live
// publications through: those that fan-out brought meanwhile and that
// come after the replay, then the later ones. The adapter calls it once
// the subscribe reply is queued, so the client hears how the resume went
// first. Without a resume it does nothing.
//
// The release goes through the hub's queue behind every publication the
// replay holds: fan-out may still be on its way with some of them, queued
// before the client joined the channel and delivered after. Released any
// earlier, those would reach the client a second time, after newer ones.
func (s Subscription) Start() {
	if s.Resume == nil {
		return
	}
	sess, _ := s.cl.session.(Replayer)
	f := sess.Format()
	for _, p := range s.replay {
		m := &hub.Message{Kind: hub.KindPublication, Channel: s.ch, Pub: p}
		sess.DeliverNow(m, f.Encode(m))
	}
	sess.Flush()
	marker := &releaseMarker{cl: s.cl, ch: s.ch, hold: s.hold, last: s.Resume.Position.Offset, epoch: s.Resume.Position.Epoch}
	s.cl.core.hub.Broadcast(&hub.Message{Kind: hub.KindDirect, Targets: []hub.Subscriber{sess}, Payload: marker})
}

// releaseMarker, reaching its client through fan-out, ends the holding
// of ch: publications up to last were replayed.
type releaseMarker struct {
	cl    *Client
	ch    string
	hold  uint64 // which holding of ch: a stale marker leaves a later one be
	last  uint64
	epoch string
}

// holding is what a client holds back while it resumes channels: the
// live messages fan-out brought for each, in order. A holding emptied by
// its last release is dead: the client's next resume makes another.
type holding struct {
	mu       sync.Mutex
	channels map[string]*heldQueue
	dead     bool
}

// heldQueue is one channel's held messages; id tells one holding of the
// channel from the next (unsubscribed and resumed again meanwhile).
//
// On a shared broker a released queue stays as a filter: the broker
// delivers through its own connection, not in step with the history
// read, so a publication the replay held may still arrive after the
// release marker. Until the channel's first publication past last (of
// the same epoch) arrives, later copies of those already sent are
// dropped; the broker delivers a channel in offset order, so none comes
// after that one.
type heldQueue struct {
	id       uint64
	msgs     []heldMessage
	filtered bool
	last     uint64
	epoch    string
}

// holdSeq numbers holdings, for heldQueue.id.
var holdSeq atomic.Uint64

type heldMessage struct {
	m       *hub.Message
	encoded any
}

// Holds is what a session's Deliver asks first: while the client resumes
// m's channel, m waits for the replay and Holds takes it (held). The end
// of a resume comes this way too, and needsFlush says the messages it let
// through need a flush. Fan-out calls it for every delivery, so it costs
// one atomic load when nothing is held.
func (cl *Client) Holds(m *hub.Message, encoded any) (held, needsFlush bool) {
	if cl.flags.Load()&flagHolding == 0 {
		return false, false
	}
	if r, ok := m.Payload.(*releaseMarker); ok && r.cl == cl {
		sess, _ := cl.session.(Replayer)
		return true, cl.release(r, sess)
	}
	if m.Targets != nil {
		return false, false
	}
	h := cl.holding(false)
	if h == nil {
		return false, false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	q := h.channels[m.Channel]
	if q == nil || h.dead {
		return false, false
	}
	if q.filtered {
		return cl.filter(h, q, m), false
	}
	q.msgs = append(q.msgs, heldMessage{m, encoded})
	return true, false
}

// filter drops a late copy of a publication the client was sent already,
// and ends the filter at the first one past them; h.mu held.
func (cl *Client) filter(h *holding, q *heldQueue, m *hub.Message) (dropped bool) {
	if m.Kind != hub.KindPublication {
		return false
	}
	if m.Pub.Epoch == q.epoch && m.Pub.Offset <= q.last {
		return true
	}
	cl.forget(h, m.Channel)
	return false
}

// forget stops holding ch, and ends the holding with its last channel;
// h.mu held.
func (cl *Client) forget(h *holding, ch string) {
	delete(h.channels, ch)
	if len(h.channels) == 0 && !h.dead {
		// The flag goes before the holding does, so a resume starting
		// now, which sets it again on a new holding, is not undone.
		h.dead = true
		cl.flags.And(^flagHolding)
		cl.core.holdings.CompareAndDelete(cl, h)
	}
}

// holding returns the client's holding, making one if asked.
func (cl *Client) holding(create bool) *holding {
	if v, ok := cl.core.holdings.Load(cl); ok {
		return v.(*holding)
	}
	if !create {
		return nil
	}
	v, _ := cl.core.holdings.LoadOrStore(cl, &holding{channels: map[string]*heldQueue{}})
	return v.(*holding)
}

// hold starts holding ch's live messages and returns the holding's id,
// which its release names.
func (cl *Client) hold(ch string) uint64 {
	id := holdSeq.Add(1)
	for {
		h := cl.holding(true)
		h.mu.Lock()
		if !h.dead {
			h.channels[ch] = &heldQueue{id: id}
			cl.flags.Or(flagHolding)
			h.mu.Unlock()
			return id
		}
		h.mu.Unlock() // emptied meanwhile: take the next one
	}
}

// release delivers r.ch's held messages (of holding r.hold), but for
// publications at or before r.last (the replay, or what the client is
// told it has), stops holding the channel (or, on a shared broker, keeps
// filtering it: see heldQueue) and reports whether the session needs a
// flush. It runs on fan-out, or with fan-out waiting on the holding's
// lock, so nothing overtakes them.
func (cl *Client) release(r *releaseMarker, sess Replayer) (needsFlush bool) {
	h := cl.holding(false)
	if h == nil {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	q := h.channels[r.ch]
	if q == nil || q.id != r.hold || q.filtered {
		return false // a later holding of the channel has its own release coming
	}
	past := false
	for _, x := range q.msgs {
		if x.m.Kind == hub.KindPublication {
			if x.m.Pub.Offset <= r.last && x.m.Pub.Epoch == r.epoch {
				continue
			}
			past = true
		}
		needsFlush = sess.DeliverNow(x.m, x.encoded) || needsFlush
	}
	if cl.core.sharedBroker && !past {
		q.msgs, q.filtered, q.last, q.epoch = nil, true, r.last, r.epoch
		return needsFlush
	}
	cl.forget(h, r.ch)
	return needsFlush
}

// dropHold ends holding ch (of holding id) without delivering anything:
// the subscribe that began it failed.
func (cl *Client) dropHold(ch string, id uint64) {
	h := cl.holding(false)
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if q := h.channels[ch]; q != nil && q.id == id {
		cl.forget(h, ch)
	}
}
