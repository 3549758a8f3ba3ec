package hub

import "sync/atomic"

// fanout is a shard's delivery loop. Each message is queued to every
// subscriber of its channel as soon as it arrives — cheap: an append per
// subscriber — and the subscribers that now need a write join the sweep,
// whose writers flush them in the order they became dirty. A subscriber
// the sweep has not reached yet keeps collecting frames, so when writing is
// the bottleneck a subscriber gets many messages in one write, and no
// message waits for more than one pass over the subscribers.
func (h *Hub) fanout(s *shard) {
	defer h.wg.Done()
	var dirty []Subscriber
	for {
		select {
		case <-h.done:
			return
		case m := <-s.queue:
			dirty = s.deliver(m, dirty[:0], &h.delivered)
			h.sweep.add(dirty)
			clear(dirty)
		}
	}
}

// deliver queues m to the channel's subscribers and collects those that
// need a flush.
func (s *shard) deliver(m *Message, dirty []Subscriber, delivered *atomic.Int64) []Subscriber {
	s.mu.RLock()
	n := 0
	if subs := s.channels[m.Channel]; subs != nil {
		n = len(subs.list)
		for _, sub := range subs.list {
			if sub.Deliver(m) {
				dirty = append(dirty, sub)
			}
		}
	}
	s.mu.RUnlock()
	delivered.Add(int64(n))
	return dirty
}
