package herald

import (
	"context"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/hub"
)

// session is a connection of any protocol, as the node sees it.
type session interface {
	hub.Subscriber
	// ServerDisconnect ends the connection with code, telling the client why.
	ServerDisconnect(code int, reason string)
	// ServerUnsubscribe removes the connection from ch and tells the
	// client; it reports whether the connection was subscribed.
	ServerUnsubscribe(ch, reason string) bool
}

// Close codes herald sends in disconnect notices and close frames, beyond
// the RFC 6455 ones. docs/protocol.md lists them all.
const (
	// CloseUnauthorized: no token, a bad token, or a command before connect.
	CloseUnauthorized = 4001
	// CloseDisconnected: the server API or Go API disconnected the user.
	CloseDisconnected = 4003
	// CloseConnectTimeout: no connect command within connect_timeout.
	CloseConnectTimeout = 4004
	// CloseRefused: the application's OnConnect hook refused.
	CloseRefused = 4005
	// CloseTokenExpired: the connection's token expired.
	CloseTokenExpired = 4006
)

// subscribeLocal adds sub to ch on this node and announces it as the
// channel's policy asks; a nil info subscribes quietly (no presence, no
// join notice), as a Socket.IO socket is put in its own id room.
func (n *Node) subscribeLocal(ctx context.Context, sub session, ch string, info *broker.ClientInfo, p ChannelPolicy) error {
	if n.hub.Subscribe(ch, sub) {
		if err := n.broker.Subscribe(ch); err != nil {
			n.hub.Unsubscribe(ch, sub)
			return err
		}
	}
	if info == nil {
		return nil
	}
	if p.Presence {
		if err := n.presence.AddPresence(ctx, ch, info); err != nil {
			n.log.Warn("adding presence", "channel", ch, "err", err)
		}
	}
	if p.JoinLeave {
		if err := n.broker.PublishJoin(ctx, ch, info); err != nil {
			n.log.Warn("publishing join", "channel", ch, "err", err)
		}
	}
	return nil
}

// unsubscribeLocal removes sub from ch on this node and announces it.
func (n *Node) unsubscribeLocal(ctx context.Context, sub session, ch string, info *broker.ClientInfo) {
	if n.hub.Unsubscribe(ch, sub) {
		if err := n.broker.Unsubscribe(ch); err != nil {
			n.log.Warn("broker unsubscribe", "channel", ch, "err", err)
		}
	}
	if info == nil {
		return
	}
	p, _ := n.policyFor(ch)
	if p.Presence {
		if err := n.presence.RemovePresence(ctx, ch, info.Client); err != nil {
			n.log.Warn("removing presence", "channel", ch, "err", err)
		}
	}
	if p.JoinLeave {
		if err := n.broker.PublishLeave(ctx, ch, info); err != nil {
			n.log.Warn("publishing leave", "channel", ch, "err", err)
		}
	}
}
