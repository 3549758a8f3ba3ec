package herald

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/heraldhq/herald/internal/core"
	"github.com/heraldhq/herald/internal/protocol/record"
)

// ErrHistoryOff is wrapped when history is asked of, or removed from, a
// channel whose namespace keeps none (history_size 0).
var ErrHistoryOff = core.ErrHistoryOff

// HistoryOptions select publications from a channel's history.
type HistoryOptions struct {
	// Since returns publications with an offset greater than this; 0
	// starts at the oldest kept.
	Since uint64
	// Epoch is the stream Since belongs to. When set and not the stream's
	// epoch, Since is ignored: its offsets say nothing about this stream,
	// so everything kept is new to the caller.
	Epoch string
	// Limit caps how many publications are returned; 0 returns every one
	// kept (at most the namespace's history_size).
	Limit int
}

// HistoryResult is a page of a channel's history.
type HistoryResult struct {
	// Publications are the kept publications asked for, oldest first.
	Publications []Publication
	// Offset is the offset of the stream's newest publication (0 when
	// none), kept or not.
	Offset uint64
	// Epoch names the stream.
	Epoch string
	// Next, when not nil, continues the listing: pass it as the options
	// of the next call. It is nil on the last page.
	Next *HistoryOptions
}

// Publication is a publication a channel keeps.
type Publication struct {
	// Channel is where it was published.
	Channel string
	// Offset is its position in the channel's stream, from 1.
	Offset uint64
	// Epoch names the stream the offset belongs to.
	Epoch string
	// Time is when it was accepted (millisecond precision).
	Time time.Time
	// Data is the published JSON value.
	Data json.RawMessage
	// Info is the publishing connection; nil when the server published.
	Info *ClientInfo
}

// errNegativeLimit refuses a HistoryOptions.Limit below zero.
var errNegativeLimit = errors.New("herald: HistoryOptions.Limit must not be negative")

// History returns ch's kept publications after opts.Since, oldest first,
// and where the stream stands. Channel policies do not apply to the
// server. It fails, wrapping ErrHistoryOff, when the channel's namespace
// keeps no history, and wrapping ErrBadChannel for a malformed name.
func (n *Node) History(ctx context.Context, ch string, opts HistoryOptions) (HistoryResult, error) {
	if opts.Limit < 0 {
		return HistoryResult{}, errNegativeLimit
	}
	q := core.HistoryQuery{Since: opts.Since, Epoch: opts.Epoch}
	if opts.Limit > 0 {
		q.Limit = opts.Limit + 1 // one past the page says whether another follows
	}
	pubs, pos, err := n.core.History(ctx, ch, q)
	if err != nil {
		return HistoryResult{}, err
	}
	res := HistoryResult{Offset: pos.Offset, Epoch: pos.Epoch}
	if opts.Limit > 0 && len(pubs) > opts.Limit {
		pubs = pubs[:opts.Limit]
		res.Next = &HistoryOptions{Since: pubs[len(pubs)-1].Offset, Epoch: pos.Epoch, Limit: opts.Limit}
	}
	res.Publications = make([]Publication, len(pubs))
	for i, p := range pubs {
		res.Publications[i] = publicationOf(p)
	}
	return res, nil
}

// RemoveHistory forgets ch's kept publications. The stream keeps its
// offset and epoch: the next publication continues the offsets, and a
// client resuming from before the removal is told it did not recover.
// It fails as History does.
func (n *Node) RemoveHistory(ctx context.Context, ch string) error {
	_, err := n.core.RemoveHistory(ctx, ch)
	return err
}

func publicationOf(p *record.Publication) Publication {
	out := Publication{Channel: p.Channel, Offset: p.Offset, Epoch: p.Epoch,
		Time: time.UnixMilli(p.Time), Data: p.Data}
	if p.Info != nil {
		info := ClientInfo(*p.Info)
		out.Info = &info
	}
	return out
}
