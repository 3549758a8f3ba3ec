package core

import (
	"context"
	"time"
)

// refreshPresenceLoop adds this node's presence entries again every
// interval, so a shared presence store keeps them while their clients
// stay and drops them once this node stops (see Options.PresenceTTL).
func (c *Core) refreshPresenceLoop(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), every)
			c.refreshPresence(ctx)
			cancel()
		}
	}
}

func (c *Core) refreshPresence(ctx context.Context) {
	for _, cc := range c.hub.Channels() {
		if p, ok := c.PolicyFor(cc.Channel); !ok || !p.Presence {
			continue
		}
		for _, sub := range c.hub.Subscribers(cc.Channel) {
			sess, ok := sub.(Session)
			if !ok || ctx.Err() != nil {
				continue
			}
			cl := sess.Client()
			if !cl.Subscribed(cc.Channel) {
				continue // left meanwhile: adding it back would outlive it by a TTL
			}
			if err := c.presence.AddPresence(ctx, cc.Channel, &cl.info); err != nil {
				c.log.Warn("refreshing presence", "channel", cc.Channel, "err", err)
				return
			}
		}
	}
}
