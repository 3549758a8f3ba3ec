package hub

import (
	"hash/maphash"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
)

// shardCount spreads channels over locks, so subscribing and fan-out
// rarely wait for each other.
const shardCount = 64

// queueLength bounds messages waiting for fan-out; publishers wait when it
// is full rather than letting memory grow.
const queueLength = 16384

// Hub holds this node's subscriptions.
type Hub struct {
	seed   maphash.Seed
	shards [shardCount]shard
	users  users
	// queue feeds the one fan-out goroutine: every message of the node
	// passes through it, so messages reach each subscriber in the order
	// they were handed to the hub, across channels too.
	queue chan *Message
	sweep *sweep
	// delivered counts fan-out deliveries, added once per message.
	delivered atomic.Int64
	// pending estimates the bytes of messages handed to Broadcast and not
	// yet queued to their subscribers; see Pending.
	pending   atomic.Int64
	done      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
}

type shard struct {
	mu       sync.RWMutex
	channels map[string]*subscribers
}

// New starts a hub, its fan-out goroutine and its writers.
func New() *Hub {
	h := &Hub{seed: maphash.MakeSeed(), done: make(chan struct{}), queue: make(chan *Message, queueLength)}
	h.users.init()
	h.sweep = newSweep(runtime.GOMAXPROCS(0))
	for i := range h.shards {
		h.shards[i].channels = make(map[string]*subscribers)
	}
	h.wg.Add(1)
	go h.fanout()
	return h
}

// Close stops the fan-out goroutine and the writers; messages still
// queued are dropped. Calling it again does nothing.
func (h *Hub) Close() {
	h.closeOnce.Do(func() {
		close(h.done)
		h.wg.Wait()
		h.sweep.stop()
	})
}

func (h *Hub) shard(ch string) *shard {
	return &h.shards[maphash.String(h.seed, ch)%shardCount]
}

// Subscribe adds sub to ch and reports whether it is the channel's first
// subscriber on this node. Subscribing twice is a no-op that returns false.
func (h *Hub) Subscribe(ch string, sub Subscriber) (first bool) {
	s := h.shard(ch)
	s.mu.Lock()
	defer s.mu.Unlock()
	subs := s.channels[ch]
	if subs == nil {
		subs = newSubscribers()
		s.channels[ch] = subs
		first = true
	}
	subs.add(sub)
	return first
}

// Unsubscribe removes sub from ch and reports whether ch has no
// subscribers left on this node (false if sub was not subscribed).
func (h *Hub) Unsubscribe(ch string, sub Subscriber) (last bool) {
	s := h.shard(ch)
	s.mu.Lock()
	defer s.mu.Unlock()
	subs := s.channels[ch]
	if subs == nil || !subs.remove(sub) {
		return false
	}
	if subs.len() == 0 {
		delete(s.channels, ch)
		return true
	}
	return false
}

// Subscribers returns ch's subscribers on this node.
func (h *Hub) Subscribers(ch string) []Subscriber {
	s := h.shard(ch)
	s.mu.RLock()
	defer s.mu.RUnlock()
	if subs := s.channels[ch]; subs != nil {
		return append([]Subscriber(nil), subs.list...)
	}
	return nil
}

// NumSubscribers is how many subscribers ch has on this node.
func (h *Hub) NumSubscribers(ch string) int {
	s := h.shard(ch)
	s.mu.RLock()
	defer s.mu.RUnlock()
	if subs := s.channels[ch]; subs != nil {
		return subs.len()
	}
	return 0
}

// ChannelCount is one channel and its subscriber count.
type ChannelCount struct {
	Channel     string `json:"channel"`
	Subscribers int    `json:"subscribers"`
}

// Channels lists channels with subscribers on this node, sorted by name.
func (h *Hub) Channels() []ChannelCount {
	var out []ChannelCount
	for i := range h.shards {
		s := &h.shards[i]
		s.mu.RLock()
		for ch, subs := range s.channels {
			out = append(out, ChannelCount{ch, subs.len()})
		}
		s.mu.RUnlock()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Channel < out[j].Channel })
	return out
}

// NumChannels is how many channels have subscribers on this node.
func (h *Hub) NumChannels() int {
	n := 0
	for i := range h.shards {
		s := &h.shards[i]
		s.mu.RLock()
		n += len(s.channels)
		s.mu.RUnlock()
	}
	return n
}

// Broadcast queues m for every subscriber of m.Channel, or for
// m.Targets when it is addressed to connections. Each subscriber receives
// messages in the order Broadcast was called.
func (h *Hub) Broadcast(m *Message) {
	receivers := len(m.Targets)
	if m.Targets == nil {
		receivers = h.NumSubscribers(m.Channel)
	}
	m.owed = int64(m.size()) * int64(receivers)
	h.pending.Add(m.owed)
	select {
	case h.queue <- m:
	case <-h.done:
		h.pending.Add(-m.owed)
	}
}

// Pending estimates the bytes of the messages waiting for fan-out, as
// their subscribers' queues will hold them: with the transports' queued
// bytes, the node's backlog. Messages accepted while fan-out is behind
// wait here first, so a bound that looked only at the queues would let a
// flood through.
func (h *Hub) Pending() int64 { return h.pending.Load() }

// Delivered is how many times fan-out has queued a message to a
// subscriber since the hub started.
func (h *Hub) Delivered() int64 { return h.delivered.Load() }
