package core

import (
	"context"
	"errors"
	"math"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/protocol/record"
)

// ErrHistoryOff is wrapped when history is asked of, or removed from, a
// channel whose namespace keeps none.
var ErrHistoryOff = errors.New("history off")

// History returns what ch keeps, for the server (no channel policy
// applies), and the stream's position. It fails when the channel's
// namespace keeps no history.
func (c *Core) History(ctx context.Context, ch string, q HistoryQuery) ([]*record.Publication, broker.StreamPosition, error) {
	if e := c.keepsHistory(ch); e != nil {
		return nil, broker.StreamPosition{}, e
	}
	return c.history(ctx, ch, q)
}

// RemoveHistory forgets ch's kept publications and returns where the
// stream stands. Its offset and epoch stay, so the next publication
// continues the offsets and a client resuming from before the removal
// learns that it did not recover.
func (c *Core) RemoveHistory(ctx context.Context, ch string) (broker.StreamPosition, error) {
	if e := c.keepsHistory(ch); e != nil {
		return broker.StreamPosition{}, e
	}
	if err := c.broker.RemoveHistory(ctx, ch); err != nil {
		return broker.StreamPosition{}, c.readFailed("history", "removing history", err)
	}
	_, pos, err := c.broker.History(ctx, ch, broker.HistoryOptions{Since: math.MaxUint64})
	if err != nil {
		return pos, c.readFailed("history", "history", err)
	}
	return pos, nil
}

// keepsHistory checks ch and that its namespace keeps history: asking a
// channel that keeps none is a mistake (a wrong namespace, most likely)
// the caller should hear about, not an empty answer.
func (c *Core) keepsHistory(ch string) *Error {
	if e := checkChannel(ch); e != nil {
		return e
	}
	if p, _ := c.PolicyFor(ch); p.HistorySize == 0 {
		return refuse(400, ErrHistoryOff, "%v: history is off for channel %q", ErrHistoryOff, ch)
	}
	return nil
}
