package core

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/protocol/record"
)

// PublishResult says where a publication landed.
type PublishResult struct {
	// Offset is the publication's position in the channel's stream.
	Offset uint64 `json:"offset"`
	// Epoch is the stream's epoch.
	Epoch string `json:"epoch"`
	// Delivered is how many connections on this node were subscribed to
	// the channel when the publication was accepted.
	Delivered int `json:"delivered"`
}

// Publish says who publishes and how.
type Publish struct {
	// From is the connection publishing; nil when the server does. Its
	// info goes with the publication.
	From *Client
	// By says who asked, when From is set: ByClient applies the
	// channel's publish policy; either way the OnPublish hook runs.
	By Asker
	// Volatile publications are not kept in history.
	Volatile bool
	// Source labels the publication in metrics: "api", "go" or "client".
	Source string
	// Backoff is what the publication does while the node is behind:
	// Refuse (the zero value) for clients and the HTTP API, Wait for the
	// Go API.
	Backoff Backoff
}

// Publish is where every publication enters, whoever sent it and
// whatever protocol it came by: the channel and data are checked, then
// the policy (a client's own request), then back-pressure (while the
// node's fan-out backlog is past its bound the publication is refused or
// waits, as how.Backoff says), then the OnPublish hook (a connection's
// publication); the broker gives it its offset, keeps it in the
// channel's history as its namespace says and delivers it to every
// subscriber. ctx is the request's, or the connection's.
func (c *Core) Publish(ctx context.Context, pub *record.Publication, how Publish) (PublishResult, error) {
	if c.closing.Load() {
		return PublishResult{}, refuse(503, ErrShuttingDown, "%v", ErrShuttingDown)
	}
	if e := checkPublication(pub); e != nil {
		return PublishResult{}, e
	}
	cl := how.From
	if cl != nil && cl.Closed() {
		ctx = cl.afterCtx() // application code speaking for a connection that just ended
	}
	if cl != nil && how.By == ByClient {
		if e := c.mayClientPublish(cl, pub.Channel); e != nil {
			return PublishResult{}, e
		}
	}
	// Back-pressure before the hook: an application's OnPublish must not
	// approve (and act on) a publication the node then refuses.
	if e := c.makeRoom(ctx, how.Backoff, how.Source); e != nil {
		return PublishResult{}, e
	}
	if cl != nil {
		if e := c.publishHook(ctx, cl, pub); e != nil {
			return PublishResult{}, e
		}
	}
	p, _ := c.PolicyFor(pub.Channel)
	keep := broker.PublishOptions{HistorySize: p.HistorySize, HistoryTTL: p.HistoryTTL}
	if how.Volatile {
		keep = broker.PublishOptions{}
	}
	delivered := c.hub.NumSubscribers(pub.Channel)
	pos, err := c.broker.Publish(ctx, pub, keep)
	if err != nil {
		return PublishResult{}, c.brokerFailed("publish", "publish failed", err)
	}
	c.metrics.Publications.WithLabelValues(how.Source).Inc()
	c.published.Add(1)
	return PublishResult{Offset: pos.Offset, Epoch: pos.Epoch, Delivered: delivered}, nil
}

func checkPublication(pub *record.Publication) *Error {
	if e := checkChannel(pub.Channel); e != nil {
		return e
	}
	if len(pub.Data) == 0 || !json.Valid(pub.Data) {
		return badRequest(fmt.Errorf("%w: data must be valid JSON", ErrBadData))
	}
	return nil
}

// mayClientPublish applies the channel's policy to a client's own
// publication.
func (c *Core) mayClientPublish(cl *Client, ch string) *Error {
	if cl.Closed() {
		return closedError()
	}
	return c.mayPublish(cl, ch)
}

// publishHook asks the OnPublish hook about a connection's publication,
// and signs it with the connection's info.
func (c *Core) publishHook(ctx context.Context, cl *Client, pub *record.Publication) *Error {
	if h := c.hooks.OnPublish; h != nil {
		e := PublishEvent{Client: cl.ID(), User: cl.info.User, Channel: pub.Channel, Data: pub.Data}
		if err := c.call("OnPublish", func() error { return h(ctx, e) }); err != nil {
			return refusedBy("publication refused", err)
		}
	}
	pub.Info = cl.publisherInfo()
	return nil
}

// Push sends an event to every connection of user, on every node, and
// returns how many of them are on this node. Back-pressure applies as
// to Publish.
func (c *Core) Push(ctx context.Context, push *record.Push, b Backoff) (int, error) {
	if c.closing.Load() {
		return 0, refuse(503, ErrShuttingDown, "%v", ErrShuttingDown)
	}
	switch {
	case push.User == "":
		return 0, badRequest(fmt.Errorf("%w: push needs a user", ErrBadPush))
	case push.Event == "":
		return 0, badRequest(fmt.Errorf("%w: push needs an event name", ErrBadPush))
	case len(push.Data) == 0 || !json.Valid(push.Data):
		return 0, badRequest(fmt.Errorf("%w: data must be valid JSON", ErrBadData))
	}
	if e := c.makeRoom(ctx, b, "push"); e != nil {
		return 0, e
	}
	local := c.hub.NumUserConns(push.User)
	if err := c.broker.PublishPush(ctx, push); err != nil {
		return 0, c.brokerFailed("push", "push failed", err)
	}
	c.metrics.Pushes.Inc()
	return local, nil
}
