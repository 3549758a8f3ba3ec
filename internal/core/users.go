package core

import (
	"context"
	"net/http"
	"sync"

	"github.com/heraldhq/herald/internal/hub"
	"github.com/heraldhq/herald/internal/protocol/record"
)

// userSlots counts, per user, the connections max_connections_per_user
// limits: those connected now. A Socket.IO socket kept for connection
// state recovery after its transport dropped gives its slot back (as it
// gives back the node's) and takes it again when its client returns, so
// a user whose page reloads is not locked out by the sockets it left
// behind. The hub's index of a user's connections keeps kept sockets:
// pushes to the user reach them, for replay on recovery.
type userSlots struct {
	mu sync.Mutex
	n  map[string]int
}

// take counts one more connection of user, unless the user already has
// limit.
func (u *userSlots) take(user string, limit int) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.n == nil {
		u.n = map[string]int{}
	}
	if u.n[user] >= limit {
		return false
	}
	u.n[user]++
	return true
}

// give counts one connection of user fewer.
func (u *userSlots) give(user string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.n[user] <= 1 {
		delete(u.n, user)
		return
	}
	u.n[user]--
}

// users is how many users have a connection counted.
func (u *userSlots) users() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.n)
}

// takeUserSlot counts a connection of user against the user's limit;
// anonymous connections are not counted.
func (c *Core) takeUserSlot(user string) *Error {
	if user == "" || c.userSlots.take(user, c.cfg.Limits.MaxConnectionsPerUser) {
		return nil
	}
	c.metrics.ConnectionsRejected.WithLabelValues("user_limit").Inc()
	return &Error{Code: http.StatusServiceUnavailable, Close: CloseTryAgainLater, Message: "too many connections for this user"}
}

// giveUserSlot undoes takeUserSlot.
func (c *Core) giveUserSlot(user string) {
	if user != "" {
		c.userSlots.give(user)
	}
}

// NumUsers is how many distinct users are connected to this node (a user
// whose only sockets are kept for recovery is not).
func (c *Core) NumUsers() int { return c.userSlots.users() }

func pushMessage(p *record.Push) *hub.Message {
	return &hub.Message{Kind: hub.KindPush, Push: p}
}

// sessionsOf returns user's connections on this node.
func (c *Core) sessionsOf(user string) []Session {
	subs := c.hub.UserConns(user)
	out := make([]Session, 0, len(subs))
	for _, s := range subs {
		if sess, ok := s.(Session); ok {
			out = append(out, sess)
		}
	}
	return out
}

// DisconnectUser ends every connection of user on this node (4003) and
// returns how many there were.
func (c *Core) DisconnectUser(_ context.Context, user string) int {
	sessions := c.sessionsOf(user)
	for _, s := range sessions {
		s.Disconnect(CloseDisconnected, "disconnected by the server")
	}
	return len(sessions)
}

// UnsubscribeUser takes every connection of user on this node off ch,
// telling each client, and returns how many were subscribed.
func (c *Core) UnsubscribeUser(_ context.Context, user, ch string) (int, error) {
	if e := checkChannel(ch); e != nil {
		return 0, e
	}
	n := 0
	for _, s := range c.sessionsOf(user) {
		if c.Unsubscribe(s.Client(), ch) {
			s.Unsubscribed(ch, "unsubscribed by the server")
			n++
		}
	}
	return n, nil
}
