package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
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

// Tally is how many connections a cluster-wide order reached, and the
// nodes that did not answer in time (they may still carry it out).
type Tally struct {
	Count   int
	Missing []string
}

// ErrPartial says some nodes did not answer a cluster-wide order in time.
var ErrPartial = errors.New("some nodes did not answer in time")

// partial is the error for a Tally with missing nodes; nil otherwise.
func (t Tally) partial() error {
	if len(t.Missing) == 0 {
		return nil
	}
	sort.Strings(t.Missing)
	return &Error{Code: http.StatusGatewayTimeout, err: ErrPartial,
		Message: fmt.Sprintf("%v: %s", ErrPartial, strings.Join(t.Missing, ", "))}
}

// userOrder is the question behind DisconnectUser and UnsubscribeUser.
type userOrder struct {
	User    string `json:"user"`
	Channel string `json:"channel,omitempty"`
}

const (
	opDisconnectUser  = "core.disconnect_user"
	opUnsubscribeUser = "core.unsubscribe_user"
)

// handleCoreOps answers the core's own cluster-wide orders.
func (c *Core) handleCoreOps() {
	c.HandleOp(opDisconnectUser, func(ctx context.Context, raw json.RawMessage) (any, error) {
		var o userOrder
		if err := json.Unmarshal(raw, &o); err != nil {
			return nil, err
		}
		return c.disconnectLocal(o.User), nil
	})
	c.HandleOp(opUnsubscribeUser, func(ctx context.Context, raw json.RawMessage) (any, error) {
		var o userOrder
		if err := json.Unmarshal(raw, &o); err != nil {
			return nil, err
		}
		return c.unsubscribeLocal(o.User, o.Channel), nil
	})
}

// order asks every node to carry out op for o and adds up the counts.
func (c *Core) order(ctx context.Context, op string, o userOrder) (Tally, error) {
	answers, err := c.Ask(ctx, op, o, 0)
	if err != nil {
		return Tally{}, internal(op, err)
	}
	t := Tally{Missing: answers.Missing}
	for _, a := range answers.Answers {
		var n int
		if a.Err != "" || json.Unmarshal(a.Reply, &n) != nil {
			t.Missing = append(t.Missing, a.Node)
			continue
		}
		t.Count += n
	}
	return t, t.partial()
}

// DisconnectUser ends every connection of user on every node (4003) and
// tallies them. The error says which nodes did not answer in time.
func (c *Core) DisconnectUser(ctx context.Context, user string) (Tally, error) {
	return c.order(ctx, opDisconnectUser, userOrder{User: user})
}

// UnsubscribeUser takes every connection of user on every node off ch,
// telling each client, and tallies those that were subscribed.
func (c *Core) UnsubscribeUser(ctx context.Context, user, ch string) (Tally, error) {
	if e := checkChannel(ch); e != nil {
		return Tally{}, e
	}
	return c.order(ctx, opUnsubscribeUser, userOrder{User: user, Channel: ch})
}

func (c *Core) disconnectLocal(user string) int {
	sessions := c.sessionsOf(user)
	for _, s := range sessions {
		s.Disconnect(CloseDisconnected, "disconnected by the server")
	}
	return len(sessions)
}

func (c *Core) unsubscribeLocal(user, ch string) int {
	n := 0
	for _, s := range c.sessionsOf(user) {
		if c.Unsubscribe(s.Client(), ch) {
			s.Unsubscribed(ch, "unsubscribed by the server")
			n++
		}
	}
	return n
}
