package engineio

import "sync"

// registryShards spreads the sid map over several locks so handshakes,
// lookups and closes on different cores rarely contend, and the heartbeat
// scan never holds one lock for long.
const registryShards = 32

// registry maps sids to live sessions.
type registry struct {
	shards [registryShards]struct {
		mu   sync.Mutex
		sess map[string]*Session
	}
}

func (r *registry) init() {
	for i := range r.shards {
		r.shards[i].sess = make(map[string]*Session)
	}
}

// shardOf picks a shard from the sid's last bytes; sids are random, so any
// bytes spread evenly.
func shardOf(sid string) int {
	h := uint32(2166136261)
	for i := max(0, len(sid)-4); i < len(sid); i++ {
		h = (h ^ uint32(sid[i])) * 16777619
	}
	return int(h % registryShards)
}

func (r *registry) add(s *Session) {
	sh := &r.shards[shardOf(s.id)]
	sh.mu.Lock()
	sh.sess[s.id] = s
	sh.mu.Unlock()
}

// remove deletes s, but only if the sid still names s.
func (r *registry) remove(s *Session) {
	sh := &r.shards[shardOf(s.id)]
	sh.mu.Lock()
	if sh.sess[s.id] == s {
		delete(sh.sess, s.id)
	}
	sh.mu.Unlock()
}

func (r *registry) get(sid string) *Session {
	sh := &r.shards[shardOf(sid)]
	sh.mu.Lock()
	s := sh.sess[sid]
	sh.mu.Unlock()
	return s
}

func (r *registry) len() int {
	n := 0
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.Lock()
		n += len(sh.sess)
		sh.mu.Unlock()
	}
	return n
}

// each calls f for every session, one shard lock at a time; f must not
// add or remove sessions.
func (r *registry) each(f func(*Session)) {
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.Lock()
		for _, s := range sh.sess {
			f(s)
		}
		sh.mu.Unlock()
	}
}

func (r *registry) snapshot() []*Session {
	var out []*Session
	r.each(func(s *Session) { out = append(out, s) })
	return out
}
