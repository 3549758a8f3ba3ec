package broker

import (
	"context"
	"hash/maphash"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/protocol/record"
)

// memoryShards spreads channel streams over several locks.
const memoryShards = 64

// MemoryBroker is the single-node broker: streams live in this process and
// publications go straight to this node's handler.
type MemoryBroker struct {
	handler EventHandler
	seed    maphash.Seed
	shards  [memoryShards]memoryShard
	// metaTTL is how long a stream outlives its last publication.
	metaTTL time.Duration
	now     func() time.Time
	done    chan struct{}
	once    sync.Once
}

type memoryShard struct {
	mu      sync.Mutex
	streams map[string]*stream
}

// NewMemoryBroker returns a broker for one node. A channel's stream (its
// offsets and kept history) is forgotten metaTTL after its last
// publication; zero means 24 hours.
func NewMemoryBroker(metaTTL time.Duration) *MemoryBroker {
	if metaTTL <= 0 {
		metaTTL = 24 * time.Hour
	}
	b := &MemoryBroker{seed: maphash.MakeSeed(), metaTTL: metaTTL, now: time.Now, done: make(chan struct{})}
	for i := range b.shards {
		b.shards[i].streams = make(map[string]*stream)
	}
	return b
}

// Run implements Broker.
func (b *MemoryBroker) Run(h EventHandler) error {
	b.handler = h
	go b.expireLoop()
	return nil
}

// Subscribe implements Broker; a single node needs no routing.
func (b *MemoryBroker) Subscribe(context.Context, string) error { return nil }

// Unsubscribe implements Broker.
func (b *MemoryBroker) Unsubscribe(context.Context, string) error { return nil }

func (b *MemoryBroker) shard(ch string) *memoryShard {
	return &b.shards[maphash.String(b.seed, ch)%memoryShards]
}

// Publish implements Broker. The handler is called under the shard lock so
// publications of one channel reach it in offset order.
func (b *MemoryBroker) Publish(_ context.Context, pub *record.Publication, opts PublishOptions) (StreamPosition, error) {
	s := b.shard(pub.Channel)
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.streams[pub.Channel]
	now := b.now()
	if st == nil || st.expired(now, b.metaTTL) {
		st = newStream(now)
		s.streams[pub.Channel] = st
	}
	pos := st.add(pub, opts, now)
	b.handler.HandlePublication(pub)
	return pos, nil
}

// PublishJoin implements Broker.
func (b *MemoryBroker) PublishJoin(_ context.Context, ch string, info *record.ClientInfo) error {
	b.handler.HandleJoin(ch, info)
	return nil
}

// PublishLeave implements Broker.
func (b *MemoryBroker) PublishLeave(_ context.Context, ch string, info *record.ClientInfo) error {
	b.handler.HandleLeave(ch, info)
	return nil
}

// History implements Broker. It never creates a stream: asking about a
// channel nobody published to costs nothing, so clients cannot grow the
// broker by subscribing to made-up names. Such a channel is at offset 0
// with no epoch yet.
func (b *MemoryBroker) History(_ context.Context, ch string, opts HistoryOptions) ([]*record.Publication, StreamPosition, error) {
	s := b.shard(ch)
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.streams[ch]
	now := b.now()
	if st == nil || st.expired(now, b.metaTTL) {
		return nil, StreamPosition{}, nil
	}
	return st.since(opts, now), st.position(), nil
}

// Close implements Broker.
func (b *MemoryBroker) Close() error {
	b.once.Do(func() { close(b.done) })
	return nil
}

// expireLoop drops streams nobody has published to for metaTTL, so
// one-off channels do not accumulate.
func (b *MemoryBroker) expireLoop() {
	t := time.NewTicker(min(b.metaTTL/4, time.Minute))
	defer t.Stop()
	for {
		select {
		case <-b.done:
			return
		case <-t.C:
			b.expire(b.now())
		}
	}
}

func (b *MemoryBroker) expire(now time.Time) {
	for i := range b.shards {
		s := &b.shards[i]
		s.mu.Lock()
		for ch, st := range s.streams {
			if st.expired(now, b.metaTTL) {
				delete(s.streams, ch)
			}
		}
		s.mu.Unlock()
	}
}
