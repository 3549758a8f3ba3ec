package broker

import (
	"context"
	"errors"
	"time"

	"github.com/heraldhq/herald/internal/protocol/record"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// natsWalkBack is how many publications History reads one by one,
// following each message's predecessor, before it reads with a consumer
// instead (which costs two extra round trips but streams).
const natsWalkBack = 16

// History implements Broker.
func (b *NATSBroker) History(ctx context.Context, ch string, opts HistoryOptions) ([]*record.Publication, StreamPosition, error) {
	if err := b.usable(); err != nil {
		return nil, StreamPosition{}, err
	}
	ctx, cancel := b.link.context(ctx)
	defer cancel()
	subject := b.subj.history(ch)
	last, err := b.stream.GetLastMsgForSubject(ctx, subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) || natsStreamGone(err) {
		return nil, StreamPosition{}, nil // the position went with the stream: the next publish starts anew
	}
	if err != nil {
		return nil, StreamPosition{}, natsError(ctx, "reading history", err)
	}
	head := natsHeadOf(last.Header)
	top := head.pos.Offset
	if head.removed || head.keep == 0 || opts.Since >= top {
		return nil, head.pos, nil
	}
	lo := opts.Since // the publications wanted are lo+1 .. hi
	if top > head.keep {
		lo = max(lo, top-head.keep)
	}
	hi := top
	if opts.Limit > 0 && hi-lo > uint64(opts.Limit) {
		hi = lo + uint64(opts.Limit)
	}
	var pubs []*record.Publication
	if top-lo <= natsWalkBack {
		pubs, err = b.walkBack(ctx, last, lo, hi)
	} else {
		pubs, err = b.readForward(ctx, subject, last.Sequence, lo, hi)
	}
	if err != nil {
		return nil, StreamPosition{}, natsError(ctx, "reading history", err)
	}
	return pubs, head.pos, nil
}

// natsKept decodes a history message if it holds a publication between
// lo (excluded) and hi that was to be kept and has not expired. One
// published without history stays as the position only.
func natsKept(h nats.Header, data []byte, lo, hi uint64, nowMs int64) (*record.Publication, bool) {
	head := natsHeadOf(h)
	off := head.pos.Offset
	if head.removed || head.keep == 0 || off <= lo || off > hi || head.expires != 0 && nowMs > head.expires {
		return nil, false
	}
	p, err := record.Decode(data)
	return p, err == nil
}

// walkBack reads from the newest message back through each one's
// predecessor, for the few newest publications: one round trip each.
func (b *NATSBroker) walkBack(ctx context.Context, last *jetstream.RawStreamMsg, lo, hi uint64) ([]*record.Publication, error) {
	nowMs := time.Now().UnixMilli()
	var newestFirst []*record.Publication
	for m := last; ; {
		head := natsHeadOf(m.Header)
		if head.pos.Offset <= lo || head.removed {
			break
		}
		if p, ok := natsKept(m.Header, m.Data, lo, hi, nowMs); ok {
			newestFirst = append(newestFirst, p)
		}
		if head.prev == 0 {
			break
		}
		var err error
		if m, err = b.stream.GetMsg(ctx, head.prev); errors.Is(err, jetstream.ErrMsgNotFound) {
			break // trimmed: nothing older is kept
		} else if err != nil {
			return nil, err
		}
	}
	out := make([]*record.Publication, len(newestFirst))
	for i, p := range newestFirst {
		out[len(out)-1-i] = p
	}
	return out, nil
}

// readForward reads the channel's messages oldest first through a
// short-lived consumer, up to the newest one History saw (lastSeq).
func (b *NATSBroker) readForward(ctx context.Context, subject string, lastSeq, lo, hi uint64) ([]*record.Publication, error) {
	cons, err := b.stream.CreateConsumer(ctx, jetstream.ConsumerConfig{
		FilterSubject: subject, DeliverPolicy: jetstream.DeliverAllPolicy, AckPolicy: jetstream.AckNonePolicy,
		MemoryStorage: true, InactiveThreshold: time.Minute})
	if err != nil {
		return nil, err
	}
	defer b.dropConsumer(cons.CachedInfo().Name)
	nowMs := time.Now().UnixMilli()
	var out []*record.Publication
	for pending := cons.CachedInfo().NumPending; pending > 0; {
		batch, err := cons.FetchNoWait(int(min(pending, 256)))
		if err != nil {
			return nil, err
		}
		n := 0
		for m := range batch.Messages() {
			n++
			if p, ok := natsKept(m.Headers(), m.Data(), lo, hi, nowMs); ok {
				out = append(out, p)
			}
			if md, err := m.Metadata(); err == nil && md.Sequence.Stream >= lastSeq {
				return out, nil
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
			return nil, err
		}
		if n == 0 {
			break // trimmed meanwhile
		}
		pending -= min(pending, uint64(n))
	}
	return out, nil
}

func (b *NATSBroker) dropConsumer(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), natsRequestTimeout)
	defer cancel()
	_ = b.stream.DeleteConsumer(ctx, name) // else it goes after its inactive threshold
}
