package core

import (
	"context"

	"github.com/heraldhq/herald/internal/hub"
	"github.com/heraldhq/herald/internal/protocol/record"
)

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
