package core

import (
	"hash/maphash"
	"sync"
)

// routeShards spreads the route locks.
const routeShards = 256

// routes serialise, per channel and per user, what the hub and the
// broker are told: the first subscriber's Subscribe and the last one's
// Unsubscribe must reach the broker in the order the hub saw them, or a
// node could stop hearing a channel it still has subscribers on.
type routes struct {
	seed  maphash.Seed
	locks [routeShards]sync.Mutex
}

func (r *routes) lock(key string) *sync.Mutex {
	m := &r.locks[maphash.String(r.seed, key)%routeShards]
	m.Lock()
	return m
}

// channelKey and userKey keep channels and users apart in the locks.
func channelKey(ch string) string { return "c" + ch }
func userKey(user string) string  { return "u" + user }
