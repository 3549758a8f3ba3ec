package broker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/protocol/record"
)

// streamSeen is the newest publication of a channel a node delivered.
type streamSeen struct {
	epoch  string
	offset uint64
}

// maxRefill bounds how many missed publications one gap brings back.
const maxRefill = 10000

// refillTimeout bounds one read of a channel's stream to fill a gap.
const refillTimeout = 5 * time.Second

// inOrder hands a node's publications on in offset order, each once,
// whatever its broker connection went through. A node does not hear what
// is published while its connection is down (being dialled again,
// subscribing again), and a full queue may drop what it heard; those
// publications are in the channel's stream, as far as it keeps them. So
// one delivered already is dropped, and a gap before a publication is
// filled from the stream first: in the same epoch, the offsets between;
// in a new one (the broker lost the stream and it started again), the
// new stream's offsets before it. After a reconnection catchUp fetches
// what was missed when no later publication comes to show it.
//
// It is not safe for concurrent use: its user keeps it on one goroutine
// or behind a lock.
type inOrder struct {
	seen    map[string]streamSeen
	history func(ctx context.Context, ch string, opts HistoryOptions) ([]*record.Publication, StreamPosition, error)
	handle  func(*record.Publication)
}

func newInOrder(history func(context.Context, string, HistoryOptions) ([]*record.Publication, StreamPosition, error),
	handle func(*record.Publication)) *inOrder {
	return &inOrder{seen: map[string]streamSeen{}, history: history, handle: handle}
}

// deliver hands pub on, after what the stream holds before it that this
// node missed.
func (o *inOrder) deliver(pub *record.Publication) {
	if pub.Offset == 0 {
		o.handle(pub) // not part of a stream
		return
	}
	last, ok := o.seen[pub.Channel]
	switch {
	case !ok:
	case last.epoch == pub.Epoch && pub.Offset <= last.offset:
		return
	case last.epoch == pub.Epoch:
		if gap := pub.Offset - last.offset - 1; gap > 0 {
			o.refill(pub.Channel, pub.Epoch, last.offset, min(gap, maxRefill))
		}
	case pub.Offset > 1:
		o.refill(pub.Channel, pub.Epoch, 0, min(pub.Offset-1, maxRefill))
	}
	o.seen[pub.Channel] = streamSeen{epoch: pub.Epoch, offset: pub.Offset}
	o.handle(pub)
}

// refill delivers the kept publications of ch's stream in epoch after
// offset since, n at most.
func (o *inOrder) refill(ch, epoch string, since, n uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), refillTimeout)
	defer cancel()
	missed, _, err := o.read(ctx, ch, HistoryOptions{Since: since, Limit: int(n)})
	if err != nil {
		return // the gap stays: subscribers see it and are told
	}
	for _, p := range missed {
		if p.Epoch == epoch && p.Offset > since && p.Offset <= since+n {
			o.seen[ch] = streamSeen{epoch: epoch, offset: p.Offset}
			o.handle(p)
		}
	}
}

// read reads ch's stream, trying again until ctx ends: just after a
// reconnection the first calls may still find the old connection.
func (o *inOrder) read(ctx context.Context, ch string, opts HistoryOptions) ([]*record.Publication, StreamPosition, error) {
	for wait := 20 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		pubs, pos, err := o.history(ctx, ch, opts)
		if err == nil || errors.Is(err, ErrClosed) {
			return pubs, pos, err
		}
		select {
		case <-ctx.Done():
			return nil, pos, err
		case <-time.After(wait):
		}
	}
}

// forget ends ch's tracking: a later subscription starts without a gap
// check against this one, which would replay what came between.
func (o *inOrder) forget(ch string) { delete(o.seen, ch) }

// catchUpAll delivers, after a reconnection, what each channel
// delivered from has in its stream past what was delivered: what was
// published while the node was away, with nothing after it to show the
// gap. It gives up at the first channel it cannot read; the next
// reconnection, or the channel's next publication, tries again. mu
// guards o, and is not held while the streams are read.
func (o *inOrder) catchUpAll(mu sync.Locker) error {
	mu.Lock()
	tracked := o.tracked()
	mu.Unlock()
	for ch, last := range tracked {
		missed, err := o.missedSince(ch, last)
		if err != nil {
			return fmt.Errorf("broker: catching up on %q: %w", ch, err)
		}
		mu.Lock()
		o.catchUp(ch, missed)
		mu.Unlock()
	}
	return nil
}

// tracked lists the channels delivered from, and where each stands.
func (o *inOrder) tracked() map[string]streamSeen {
	out := make(map[string]streamSeen, len(o.seen))
	for ch, s := range o.seen {
		out[ch] = s
	}
	return out
}

// missedSince reads what ch's stream holds past last. A stream that
// started again is read from its start.
func (o *inOrder) missedSince(ch string, last streamSeen) ([]*record.Publication, error) {
	ctx, cancel := context.WithTimeout(context.Background(), refillTimeout)
	defer cancel()
	pubs, pos, err := o.read(ctx, ch, HistoryOptions{Since: last.offset, Limit: maxRefill})
	if err == nil && pos.Epoch != last.epoch && pos.Offset > 0 {
		pubs, _, err = o.read(ctx, ch, HistoryOptions{Limit: maxRefill})
	}
	return pubs, err
}

// catchUp delivers pubs, read by missedSince, unless ch was forgotten
// meanwhile; what was delivered since is dropped as usual.
func (o *inOrder) catchUp(ch string, pubs []*record.Publication) {
	if _, ok := o.seen[ch]; !ok {
		return
	}
	for _, p := range pubs {
		o.deliver(p)
	}
}

// unguarded is the lock of an inOrder that one goroutine alone uses.
type unguarded struct{}

func (unguarded) Lock()   {}
func (unguarded) Unlock() {}
