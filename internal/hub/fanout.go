package hub

import "sync/atomic"

// fanout is a shard's delivery loop. It takes every message waiting (up to
// maxBatch), queues each to its channel's subscribers, and then flushes
// each touched subscriber once, so a burst of N messages costs a
// subscriber one write instead of N.
func (h *Hub) fanout(s *shard) {
	defer h.wg.Done()
	batch := make([]*Message, 0, maxBatch)
	var dirty []Subscriber
	for {
		select {
		case <-h.done:
			return
		case m := <-s.queue:
			batch = append(batch[:0], m)
		}
		batch = drain(s.queue, batch)
		for _, m := range batch {
			dirty = s.deliver(m, dirty, &h.delivered)
		}
		h.flusher.flush(dirty)
		clear(dirty)
		dirty = dirty[:0]
		clear(batch)
	}
}

// maxBatchBytes bounds the payload one round queues to a subscriber
// before flushing, so batching never pushes a healthy subscriber past
// its outbound limit.
const maxBatchBytes = 64 << 10

// drain appends whatever is already waiting in q, up to maxBatch
// messages or maxBatchBytes of payload.
func drain(q chan *Message, batch []*Message) []*Message {
	size := batch[0].size()
	for len(batch) < maxBatch && size < maxBatchBytes {
		select {
		case m := <-q:
			batch = append(batch, m)
			size += m.size()
		default:
			return batch
		}
	}
	return batch
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
