package hub

import "github.com/heraldhq/herald/internal/protocol/record"

// fanout is the hub's delivery loop. Each message is queued to its
// subscribers as soon as it arrives — cheap: an append per subscriber —
// and the subscribers that now need a write join the sweep, whose writers
// flush them in the order they became dirty. A subscriber the sweep has not
// reached yet keeps collecting frames, so when writing is the bottleneck a
// subscriber gets many messages in one write, and no message waits for
// more than one pass over the subscribers. One goroutine queues every
// message of the node, which is what orders them; the writes, which cost a
// syscall each, are spread over every core.
func (h *Hub) fanout() {
	defer h.wg.Done()
	var dirty []Subscriber
	for {
		select {
		case <-h.done:
			return
		case m := <-h.queue:
			dirty = h.deliver(m, dirty[:0])
			h.pending.Add(-m.owed)
			h.sweep.add(dirty)
			clear(dirty)
		}
	}
}

// deliver queues m to its subscribers, each in its format, and collects
// those that need a flush.
func (h *Hub) deliver(m *Message, dirty []Subscriber) []Subscriber {
	var enc encodings
	if m.Targets != nil {
		for _, sub := range m.Targets {
			if sub.Deliver(m, enc.of(sub.Format(), m)) {
				dirty = append(dirty, sub)
			}
		}
		h.delivered.Add(int64(len(m.Targets)))
		return dirty
	}
	s := h.shard(m.Channel)
	s.mu.RLock()
	n := 0
	if subs := s.channels[m.Channel]; subs != nil {
		n = len(subs.list)
		for _, sub := range subs.list {
			if sub.Deliver(m, enc.of(sub.Format(), m)) {
				dirty = append(dirty, sub)
			}
		}
	}
	s.mu.RUnlock()
	h.delivered.Add(int64(n))
	return dirty
}

// HandlePublication delivers a publication the broker hands this node to
// the node's subscribers of its channel, in the order the broker hands
// them over.
func (h *Hub) HandlePublication(pub *record.Publication) {
	h.Broadcast(&Message{Kind: KindPublication, Channel: pub.Channel, Pub: pub})
}

// HandleJoin tells the node's subscribers of ch that info joined it.
func (h *Hub) HandleJoin(ch string, info *record.ClientInfo) {
	h.Broadcast(&Message{Kind: KindJoin, Channel: ch, Client: info})
}

// HandleLeave tells the node's subscribers of ch that info left it.
func (h *Hub) HandleLeave(ch string, info *record.ClientInfo) {
	h.Broadcast(&Message{Kind: KindLeave, Channel: ch, Client: info})
}
