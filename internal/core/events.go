package core

import (
	"github.com/heraldhq/herald/internal/protocol/record"
)

// events is the core as its broker's EventHandler: what other nodes (and
// this one) publish reaches the hub here.
type events struct{ c *Core }

func (e events) HandlePublication(pub *record.Publication) { e.c.hub.HandlePublication(pub) }

func (e events) HandleJoin(ch string, info *record.ClientInfo) { e.c.hub.HandleJoin(ch, info) }

func (e events) HandleLeave(ch string, info *record.ClientInfo) { e.c.hub.HandleLeave(ch, info) }

// HandlePush delivers a push to the user's connections on this node.
func (e events) HandlePush(push *record.Push) {
	e.c.hub.SendTo(e.c.hub.UserConns(push.User), pushMessage(push))
}

// HandleControl serves another node's request.
func (e events) HandleControl(data []byte) { e.c.cluster.handle(data) }
