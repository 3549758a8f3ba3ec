package herald

import (
	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/hub"
)

// HandlePublication implements broker.EventHandler: a publication from the
// broker goes to this node's subscribers of its channel.
func (n *Node) HandlePublication(pub *broker.Publication) {
	n.hub.Broadcast(&hub.Message{Kind: hub.KindPublication, Channel: pub.Channel, Pub: pub})
}

// HandleJoin implements broker.EventHandler.
func (n *Node) HandleJoin(ch string, info *broker.ClientInfo) {
	n.hub.Broadcast(&hub.Message{Kind: hub.KindJoin, Channel: ch, Client: info})
}

// HandleLeave implements broker.EventHandler.
func (n *Node) HandleLeave(ch string, info *broker.ClientInfo) {
	n.hub.Broadcast(&hub.Message{Kind: hub.KindLeave, Channel: ch, Client: info})
}
