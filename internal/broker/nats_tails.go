package broker

import (
	"sync"
	"sync/atomic"
	"time"
)

// natsTail is what this node last knew of a channel's newest message in
// the history stream. It is a cache: a stale one costs a refused publish
// and a reread, never a wrong offset, since the server checks the
// sequence. Its lock also makes this node's publishers of one channel
// take turns rather than race each other at the server.
type natsTail struct {
	mu     sync.Mutex
	loaded bool
	seq    uint64 // stream sequence of the newest message; 0 for none
	pos    StreamPosition
	used   atomic.Int64 // unix nanoseconds, read without mu
}

// natsTails are the tails of the channels this node published to lately.
type natsTails struct {
	mu sync.Mutex
	m  map[string]*natsTail
}

// natsTailIdle is how long an unused tail is kept.
const natsTailIdle = time.Minute

func (t *natsTails) init() { t.m = map[string]*natsTail{} }

func (t *natsTails) get(ch string) *natsTail {
	t.mu.Lock()
	tail := t.m[ch]
	if tail == nil {
		tail = &natsTail{}
		t.m[ch] = tail
	}
	t.mu.Unlock()
	tail.used.Store(time.Now().UnixNano())
	return tail
}

// expireLoop forgets idle tails. One forgotten while still in use only
// means two tails for a moment, each checked by the server.
func (t *natsTails) expireLoop(done <-chan struct{}) {
	tick := time.NewTicker(natsTailIdle)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case now := <-tick.C:
			t.expire(now.Add(-natsTailIdle).UnixNano())
		}
	}
}

func (t *natsTails) expire(before int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for ch, tail := range t.m {
		if tail.used.Load() < before {
			delete(t.m, ch)
		}
	}
}
