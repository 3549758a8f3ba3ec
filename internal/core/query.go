package core

import (
	"context"
	"sort"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/protocol/record"
)

// Presence lists who is subscribed to ch, sorted by client id. It fails
// when the channel's namespace does not keep presence.
func (c *Core) Presence(ctx context.Context, ch string) ([]*record.ClientInfo, error) {
	if e := checkChannel(ch); e != nil {
		return nil, e
	}
	if p, _ := c.PolicyFor(ch); !p.Presence {
		return nil, refuse(400, ErrPresenceOff, "%v: presence is off for channel %q", ErrPresenceOff, ch)
	}
	return c.presenceList(ctx, ch)
}

// ClientPresence is Presence for a client: it must be allowed to read ch.
func (c *Core) ClientPresence(cl *Client, ch string) ([]*record.ClientInfo, error) {
	p, e := c.readable(cl, ch)
	if e != nil {
		return nil, e
	}
	if !p.Presence {
		return nil, refuse(403, ErrPresenceOff, "presence is off for channel %q", ch)
	}
	return c.presenceList(cl, ch)
}

func (c *Core) presenceList(ctx context.Context, ch string) ([]*record.ClientInfo, error) {
	m, err := c.presence.Presence(ctx, ch)
	if err != nil {
		return nil, c.readFailed("presence", "presence", err)
	}
	out := make([]*record.ClientInfo, 0, len(m))
	for _, info := range m {
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Client < out[j].Client })
	return out, nil
}

// readable checks ch and whether the client may read it.
func (c *Core) readable(cl *Client, ch string) (Policy, *Error) {
	if e := checkChannel(ch); e != nil {
		return Policy{}, e
	}
	return c.mayRead(cl, ch)
}

// HistoryQuery selects publications from a channel's history.
type HistoryQuery struct {
	// Since returns publications after this offset; Epoch, when set and
	// not the stream's, makes Since meaningless (everything kept is new).
	Since uint64
	Epoch string
	// Limit caps how many are returned; 0 means all.
	Limit int
}

// ClientHistory returns what ch keeps, for a client allowed to read it,
// and the stream's position.
func (c *Core) ClientHistory(cl *Client, ch string, q HistoryQuery) ([]*record.Publication, broker.StreamPosition, error) {
	p, e := c.readable(cl, ch)
	if e != nil {
		return nil, broker.StreamPosition{}, e
	}
	if p.HistorySize == 0 {
		return nil, broker.StreamPosition{}, forbidden("history is off for channel %q", ch)
	}
	return c.history(cl, ch, q)
}

func (c *Core) history(ctx context.Context, ch string, q HistoryQuery) ([]*record.Publication, broker.StreamPosition, error) {
	opts := broker.HistoryOptions{Since: q.Since, Limit: max(q.Limit, 0)}
	pubs, pos, err := c.broker.History(ctx, ch, opts)
	if err != nil {
		return nil, pos, c.readFailed("history", "history", err)
	}
	if q.Epoch != "" && q.Epoch != pos.Epoch && q.Since != 0 {
		// Offsets of another epoch say nothing about this stream: all it
		// keeps is new to the client.
		if pubs, _, err = c.broker.History(ctx, ch, broker.HistoryOptions{Limit: opts.Limit}); err != nil {
			return nil, pos, c.readFailed("history", "history", err)
		}
	}
	return pubs, pos, nil
}
