package hub

import (
	"hash/maphash"
	"sync"
)

const userShards = 32

// users indexes connections by user so a push reaches every tab and
// device of one user.
type users struct {
	seed   maphash.Seed
	shards [userShards]struct {
		mu    sync.RWMutex
		conns map[string]map[Subscriber]struct{}
	}
}

func (u *users) init() {
	u.seed = maphash.MakeSeed()
	for i := range u.shards {
		u.shards[i].conns = make(map[string]map[Subscriber]struct{})
	}
}

// AddUser records sub as a connection of user and returns how many
// connections the user now has on this node.
func (h *Hub) AddUser(user string, sub Subscriber) int {
	s := &h.users.shards[maphash.String(h.users.seed, user)%userShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.conns[user]
	if m == nil {
		m = make(map[Subscriber]struct{})
		s.conns[user] = m
	}
	m[sub] = struct{}{}
	return len(m)
}

// RemoveUser forgets sub as a connection of user and returns how many
// connections the user still has on this node.
func (h *Hub) RemoveUser(user string, sub Subscriber) int {
	s := &h.users.shards[maphash.String(h.users.seed, user)%userShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.conns[user]
	delete(m, sub)
	if len(m) == 0 {
		delete(s.conns, user)
	}
	return len(m)
}

// UserConns returns user's connections on this node.
func (h *Hub) UserConns(user string) []Subscriber {
	s := &h.users.shards[maphash.String(h.users.seed, user)%userShards]
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Subscriber, 0, len(s.conns[user]))
	for sub := range s.conns[user] {
		out = append(out, sub)
	}
	return out
}

// NumUserConns is how many connections user has on this node.
func (h *Hub) NumUserConns(user string) int {
	s := &h.users.shards[maphash.String(h.users.seed, user)%userShards]
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.conns[user])
}

// NumUsers is how many distinct users are connected to this node.
func (h *Hub) NumUsers() int {
	n := 0
	for i := range h.users.shards {
		s := &h.users.shards[i]
		s.mu.RLock()
		n += len(s.conns)
		s.mu.RUnlock()
	}
	return n
}

// SendTo queues m for subs (rather than a channel's subscribers) and
// returns len(subs). It goes through the fan-out queue, so it keeps its
// place among what else each subscriber is sent.
func (h *Hub) SendTo(subs []Subscriber, m *Message) int {
	if len(subs) == 0 {
		return 0
	}
	m.Targets = subs
	h.Broadcast(m)
	return len(subs)
}
