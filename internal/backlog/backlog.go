// Package backlog counts the bytes a node has queued for its connections
// that the kernel has not taken yet: what fan-out has accepted and the
// writers still owe. The core refuses new publications while the count is
// past the node's bound, so a flood of publishes meets back-pressure
// instead of growing memory until slow-consumer limits cut readers.
package backlog

import "sync/atomic"

// shards spreads the count over cache lines: the fan-out goroutine adds
// and the writers on every core subtract, for every frame.
const shards = 32

// Meter is a node's backlog in bytes. The zero value is ready; a nil
// Meter counts nothing, for transports used without one.
type Meter struct {
	shards [shards]struct {
		n atomic.Int64
		_ [56]byte // one cache line each
	}
}

// Add changes the count by n (negative when bytes leave); shard is any
// number stable for the caller, such as its connection's registry slot.
func (m *Meter) Add(shard uint8, n int) {
	if m == nil || n == 0 {
		return
	}
	m.shards[int(shard)%shards].n.Add(int64(n))
}

// Bytes is the current backlog. A reading races with writers on other
// cores, so it is exact only when the node is still.
func (m *Meter) Bytes() int64 {
	if m == nil {
		return 0
	}
	var sum int64
	for i := range m.shards {
		sum += m.shards[i].n.Load()
	}
	return max(sum, 0)
}
