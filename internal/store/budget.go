package store

import "sync"

// budget bounds the bytes of publications waiting in the queue, which a
// count alone does not: 16,384 publications of a megabyte each would be
// 16 GiB. One publication larger than the whole budget still goes, alone.
type budget struct {
	mu    sync.Mutex
	freed sync.Cond
	used  int
	limit int
}

func newBudget(limit int) *budget {
	b := &budget{limit: limit}
	b.freed.L = &b.mu
	return b
}

// take waits until n bytes fit.
func (b *budget) take(n int) {
	b.mu.Lock()
	for b.used > 0 && b.used+n > b.limit {
		b.freed.Wait()
	}
	b.used += n
	b.mu.Unlock()
}

func (b *budget) give(n int) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
	b.freed.Broadcast()
}
