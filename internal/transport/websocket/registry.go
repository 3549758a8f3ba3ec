package websocket

import "sync"

// registryShards spreads connection bookkeeping over several locks so
// upgrades and closes on different cores rarely meet.
const registryShards = 32

// registry is the set of open connections.
type registry struct {
	shards [registryShards]struct {
		mu    sync.Mutex
		conns map[*Conn]struct{}
	}
	next sync.Mutex
	seq  uint32
}

func (r *registry) init() {
	for i := range r.shards {
		r.shards[i].conns = make(map[*Conn]struct{})
	}
}

func (r *registry) add(c *Conn) {
	r.next.Lock()
	r.seq++
	c.slot = uint8(r.seq % registryShards)
	r.next.Unlock()
	s := &r.shards[c.slot]
	s.mu.Lock()
	s.conns[c] = struct{}{}
	s.mu.Unlock()
}

func (r *registry) remove(c *Conn) {
	s := &r.shards[c.slot]
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

func (r *registry) len() int {
	n := 0
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		n += len(s.conns)
		s.mu.Unlock()
	}
	return n
}

// each calls f for every connection, one shard lock at a time; f must not
// add or remove connections.
func (r *registry) each(f func(*Conn)) {
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		for c := range s.conns {
			f(c)
		}
		s.mu.Unlock()
	}
}

func (r *registry) snapshot() []*Conn {
	var out []*Conn
	r.each(func(c *Conn) { out = append(out, c) })
	return out
}
