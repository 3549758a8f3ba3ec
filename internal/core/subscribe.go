package core

import (
	"context"
	"math"

	"github.com/heraldhq/herald/internal/broker"
)

// Asker says who asks for a subscription or a publication, which decides
// what is checked (see the package doc).
type Asker uint8

const (
	// ByClient: the client asked by itself; the channel's policy applies.
	ByClient Asker = iota
	// ByApp: the application's code asked for the connection; only the
	// limits and the hooks apply.
	ByApp
)

// Subscribe puts the client on ch: the policy (ByClient), the subscription
// limit and the OnSubscribe hook may refuse; then the hub and the broker
// take it, presence records it and subscribers are told, as the channel's
// namespace says. It returns the channel's stream position. Subscribing
// twice fails with ErrAlreadySubscribed (409).
//
// With since, the client resumes the stream: the publications after it
// are replayed, then the live ones follow with no gap and no duplicate
// at the seam (see Subscription.Start, which the adapter must call). The
// client's session must be a Replayer.
func (c *Core) Subscribe(cl *Client, ch string, by Asker, since *Since) (Subscription, *Error) {
	if e := checkChannel(ch); e != nil {
		return Subscription{}, e
	}
	p, known := c.PolicyFor(ch)
	if by == ByClient {
		var e *Error
		if p, e = c.mayRead(cl, ch); e != nil {
			return Subscription{}, e
		}
	}
	if e := c.maySubscribeNow(cl, ch); e != nil {
		return Subscription{}, e
	}
	if e := c.onSubscribe(cl, ch); e != nil {
		return Subscription{}, e
	}
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if e := c.maySubscribe(cl, ch); e != nil { // again: the hook ran unlocked
		return Subscription{}, e
	}
	var hold uint64
	if since != nil {
		hold = cl.hold(ch) // before the hub: nothing live may slip past the replay
	}
	if err := c.join(cl, ch); err != nil {
		if since != nil {
			cl.dropHold(ch, hold)
		}
		return Subscription{}, c.brokerFailed("subscribe", "subscribe failed", err)
	}
	cl.setChannels(chanSet(cl.Channels()).with(ch))
	if known {
		c.announce(cl, cl, ch, p, true)
	}
	if since == nil {
		return Subscription{Position: c.position(cl, ch)}, nil
	}
	r, replay := c.resume(cl, ch, *since)
	c.metrics.recovery(r)
	return Subscription{Position: r.Position, Resume: &r, cl: cl, ch: ch, hold: hold, replay: replay}, nil
}

// maySubscribeNow is maySubscribe under the client's lock.
func (c *Core) maySubscribeNow(cl *Client, ch string) *Error {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return c.maySubscribe(cl, ch)
}

// onSubscribe runs the OnSubscribe hook, unlocked.
func (c *Core) onSubscribe(cl *Client, ch string) *Error {
	h := c.hooks.OnSubscribe
	if h == nil {
		return nil
	}
	e := SubscribeEvent{Client: cl.ID(), User: cl.info.User, Channel: ch}
	if err := c.call("OnSubscribe", func() error { return h(cl, e) }); err != nil {
		return refusedBy("subscription refused", err)
	}
	return nil
}

// maySubscribe applies the client's state and the subscription limit;
// cl.mu held.
func (c *Core) maySubscribe(cl *Client, ch string) *Error {
	switch {
	case cl.Closed():
		return closedError()
	case cl.Subscribed(ch):
		return refuse(409, ErrAlreadySubscribed, "already subscribed to %q", ch)
	case cl.NumChannels() >= c.cfg.Limits.MaxSubscriptions:
		return forbidden("subscription limit reached: at most %d channels per connection", c.cfg.Limits.MaxSubscriptions)
	}
	return nil
}

// position is where ch's stream stands, for a subscribe reply.
func (c *Core) position(ctx context.Context, ch string) broker.StreamPosition {
	_, pos, err := c.broker.History(ctx, ch, broker.HistoryOptions{Since: math.MaxUint64})
	if err != nil {
		c.log.Warn("reading stream position", "channel", ch, "err", err)
	}
	return pos
}

// announce records the client's presence in ch and tells subscribers it
// joined (or left), as the channel's policy says.
func (c *Core) announce(ctx context.Context, cl *Client, ch string, p Policy, joined bool) {
	if p.Presence {
		var err error
		if joined {
			err = c.presence.AddPresence(ctx, ch, &cl.info)
		} else {
			err = c.presence.RemovePresence(ctx, ch, cl.ID())
		}
		if err != nil {
			c.log.Warn("updating presence", "channel", ch, "err", err)
		}
	}
	if p.JoinLeave {
		// The notice carries a copy: fan-out may still be encoding it when
		// the client, having left every channel, connects as another user.
		var err error
		if joined {
			err = c.broker.PublishJoin(ctx, ch, cl.publisherInfo())
		} else {
			err = c.broker.PublishLeave(ctx, ch, cl.publisherInfo())
		}
		if err != nil {
			c.log.Warn("publishing a join or leave", "channel", ch, "err", err)
		}
	}
}

// Unsubscribe takes the client off ch, with presence and a leave notice
// as for subscribing, and reports whether it was subscribed.
func (c *Core) Unsubscribe(cl *Client, ch string) bool {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if !cl.Subscribed(ch) {
		return false
	}
	c.leave(cl, cl, ch)
	cl.setChannels(chanSet(cl.Channels()).without(ch))
	return true
}

// leave takes the client off ch in the hub, the broker and presence;
// cl.mu held, and the caller updates the channel set.
func (c *Core) leave(ctx context.Context, cl *Client, ch string) {
	m := c.routes.lock(channelKey(ch))
	if c.hub.Unsubscribe(ch, cl.session) {
		if err := c.broker.Unsubscribe(ctx, ch); err != nil {
			c.log.Warn("broker unsubscribe", "channel", ch, "err", err)
		}
	}
	m.Unlock()
	if p, ok := c.PolicyFor(ch); ok {
		c.announce(ctx, cl, ch, p, false)
	}
}

// join puts the client's session on ch in the hub and, for the node's
// first subscriber, in the broker, which must hear it before the
// client reads the stream; cl.mu held.
func (c *Core) join(cl *Client, ch string) error {
	m := c.routes.lock(channelKey(ch))
	defer m.Unlock()
	if !c.hub.Subscribe(ch, cl.session) {
		return nil
	}
	if err := c.broker.Subscribe(cl, ch); err != nil {
		c.hub.Unsubscribe(ch, cl.session)
		return err
	}
	return nil
}
