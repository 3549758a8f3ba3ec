package broker

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald/internal/protocol/record"
)

// memoryShards spreads channel streams over several locks.
const memoryShards = 64

// MemoryBroker is the single-node broker: streams live in this process and
// publications go straight to this node's handler.
type MemoryBroker struct {
	node    string
	handler EventHandler
	seed    maphash.Seed
	shards  [memoryShards]memoryShard
	// metaTTL is how long a stream outlives its last publication.
	metaTTL time.Duration
	// store, when set, keeps the streams across restarts.
	store StreamStore
	now   func() time.Time
	done  chan struct{}
	once  sync.Once
}

type memoryShard struct {
	mu      sync.Mutex
	streams map[string]*stream
}

// NewMemoryBroker returns a broker for one node. A channel's stream (its
// offsets and kept history) is forgotten metaTTL after its last
// publication; zero means 24 hours. With a store, the streams survive a
// restart: Run loads them, and every change is written through it.
func NewMemoryBroker(metaTTL time.Duration, store StreamStore) *MemoryBroker {
	if metaTTL <= 0 {
		metaTTL = 24 * time.Hour
	}
	b := &MemoryBroker{seed: maphash.MakeSeed(), metaTTL: metaTTL, store: store, now: time.Now, done: make(chan struct{})}
	for i := range b.shards {
		b.shards[i].streams = make(map[string]*stream)
	}
	return b
}

// Run implements Broker. With a store it first loads every stream.
func (b *MemoryBroker) Run(node string, h EventHandler) error {
	b.node, b.handler = node, h
	if b.store != nil {
		if err := b.store.Load(b.loadStream); err != nil {
			return err
		}
	}
	go b.expireLoop()
	return nil
}

func (b *MemoryBroker) loadStream(ch string, s StoredStream) {
	sh := b.shard(ch)
	sh.mu.Lock()
	sh.streams[ch] = loadedStream(s)
	sh.mu.Unlock()
}

// Subscribe implements Broker; a single node needs no routing.
func (b *MemoryBroker) Subscribe(context.Context, string) error { return nil }

// Unsubscribe implements Broker.
func (b *MemoryBroker) Unsubscribe(context.Context, string) error { return nil }

// SubscribeUser implements Broker; a single node needs no routing.
func (b *MemoryBroker) SubscribeUser(context.Context, string) error { return nil }

// UnsubscribeUser implements Broker.
func (b *MemoryBroker) UnsubscribeUser(context.Context, string) error { return nil }

// PublishPush implements Broker.
func (b *MemoryBroker) PublishPush(_ context.Context, push *record.Push) error {
	b.handler.HandlePush(push)
	return nil
}

// ErrNoSuchNode is returned for a message to a node the cluster does not
// have.
var ErrNoSuchNode = errors.New("broker: no such node")

// Control implements Broker: this is the only node.
func (b *MemoryBroker) Control(_ context.Context, node string, data []byte) error {
	if node != "" && node != b.node {
		return fmt.Errorf("%w: %q", ErrNoSuchNode, node)
	}
	b.handler.HandleControl(data)
	return nil
}

func (b *MemoryBroker) shard(ch string) *memoryShard {
	return &b.shards[maphash.String(b.seed, ch)%memoryShards]
}

// Publish implements Broker. The handler is called under the shard lock,
// right after the publication is shown to History, so publications of
// one channel reach it in offset order, and a reader of History that
// then watches the handler misses none and sees none twice.
func (b *MemoryBroker) Publish(_ context.Context, pub *record.Publication, opts PublishOptions) (StreamPosition, error) {
	s := b.shard(pub.Channel)
	s.mu.Lock()
	st := s.streams[pub.Channel]
	now := b.now()
	if st == nil || st.expired(now, b.metaTTL) {
		if st != nil && b.store != nil {
			b.store.Drop(pub.Channel) // its offsets start again, in a new epoch
		}
		st = newStream(now)
		s.streams[pub.Channel] = st
	}
	st.number(pub, now)
	exp := expiry(opts, now)
	if b.store == nil {
		st.keep(pub, opts, exp)
		b.handler.HandlePublication(pub)
		s.mu.Unlock()
		return StreamPosition{Offset: pub.Offset, Epoch: pub.Epoch}, nil
	}
	return b.publishStored(s, st, pub, opts, exp, now)
}

// publishStored hands pub to the store and shows and delivers it once the
// store has it safe: at once for a batched store, after the write for
// fsync "always", so no reader sees a publication a crash could take
// back. s.mu is held, and released.
func (b *MemoryBroker) publishStored(s *memoryShard, st *stream, pub *record.Publication, opts PublishOptions, exp, now time.Time) (StreamPosition, error) {
	// done runs either inside Append (the store acknowledged on queueing;
	// s.mu is still held here) or later on the store's writer, in Append
	// order; whichever comes first to the flag decides who shows pub.
	var inAppend atomic.Int32 // 0 while in Append, 1 once it returned, 2 if done ran before that
	result := make(chan error, 1)
	done := func(err error) {
		if inAppend.CompareAndSwap(0, 2) {
			result <- err
			return
		}
		if err == nil {
			s.mu.Lock()
			st.keep(pub, opts, exp)
			b.handler.HandlePublication(pub)
			s.mu.Unlock()
		}
		result <- err
	}
	b.store.Append(pub, exp, now, keepFrom(pub, opts), done)
	if !inAppend.CompareAndSwap(0, 1) {
		if err := <-result; err == nil {
			st.keep(pub, opts, exp)
			b.handler.HandlePublication(pub)
		}
		s.mu.Unlock()
		return b.stored(pub, nil)
	}
	s.mu.Unlock()
	return b.stored(pub, <-result)
}

func (b *MemoryBroker) stored(pub *record.Publication, err error) (StreamPosition, error) {
	if err != nil {
		return StreamPosition{}, fmt.Errorf("broker: keeping the publication: %w", err)
	}
	return StreamPosition{Offset: pub.Offset, Epoch: pub.Epoch}, nil
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

// RemoveHistory forgets ch's kept publications; its position stays, so
// a client resuming from before it learns that it did not recover.
func (b *MemoryBroker) RemoveHistory(_ context.Context, ch string) error {
	s := b.shard(ch)
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.streams[ch]
	if st == nil {
		return nil
	}
	st.items, st.expires = nil, nil
	if b.store != nil {
		b.store.Trim(ch, st.top+1)
	}
	return nil
}

// Close implements Broker. It closes the store, which writes what is
// queued: publish nothing after it.
func (b *MemoryBroker) Close() error {
	err := ErrClosed
	b.once.Do(func() {
		close(b.done)
		err = nil
		if b.store != nil {
			err = b.store.Close()
		}
	})
	if err == ErrClosed {
		return nil
	}
	return err
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

// expire also drops publications whose time is up, so a store need not
// keep them until the channel is next read.
func (b *MemoryBroker) expire(now time.Time) {
	for i := range b.shards {
		s := &b.shards[i]
		s.mu.Lock()
		for ch, st := range s.streams {
			switch {
			case st.expired(now, b.metaTTL):
				delete(s.streams, ch)
				if b.store != nil {
					b.store.Drop(ch)
				}
			case st.dropExpired(now) && b.store != nil:
				b.store.Trim(ch, st.oldestKept())
			}
		}
		s.mu.Unlock()
	}
}
