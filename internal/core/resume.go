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
	marker := &releaseMarker{cl: s.cl, ch: s.ch, hold: s.hold, last: s.Resume.Position.Offset}
	s.cl.core.hub.Broadcast(&hub.Message{Kind: hub.KindDirect, Targets: []hub.Subscriber{sess}, Payload: marker})
}

// releaseMarker, reaching its client through fan-out, ends the holding
// of ch: publications up to last were replayed.
type releaseMarker struct {
	cl   *Client
	ch   string
	hold uint64 // which holding of ch: a stale marker leaves a later one be
	last uint64
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
type heldQueue struct {
	id   uint64
	msgs []heldMessage
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
		return true, cl.release(r.ch, r.hold, r.last, sess)
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
	q.msgs = append(q.msgs, heldMessage{m, encoded})
	return true, false
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

// release delivers ch's held messages (of holding id), but for publications at or before
// last (the replay, or what the client is told it has), stops holding ch
// and reports whether the session needs a flush. It runs on fan-out, or
// with fan-out waiting on the holding's lock, so nothing overtakes them.
func (cl *Client) release(ch string, id, last uint64, sess Replayer) (needsFlush bool) {
	h := cl.holding(false)
	if h == nil {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	q := h.channels[ch]
	if q == nil || q.id != id {
		return false // a later holding of ch has its own release coming
	}
	for _, x := range q.msgs {
		if x.m.Kind == hub.KindPublication && x.m.Pub.Offset <= last {
			continue
		}
		needsFlush = sess.DeliverNow(x.m, x.encoded) || needsFlush
	}
	delete(h.channels, ch)
	if len(h.channels) == 0 && !h.dead {
		// The flag goes before the holding does, so a resume starting
		// now, which sets it again on a new holding, is not undone.
		h.dead = true
		cl.flags.And(^flagHolding)
		cl.core.holdings.CompareAndDelete(cl, h)
	}
	return needsFlush
}
