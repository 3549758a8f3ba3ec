package broker

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/heraldhq/herald/internal/protocol/record"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// A channel's stream lives in one JetStream stream, P_history, under the
// subject P.h.<channel>. Every message there carries, in headers, the
// channel's position after it (offset and epoch) and how the channel
// keeps history (size, and when this publication expires):
//
//   - Offsets. A publish writes offset n+1 with
//     Nats-Expected-Last-Subject-Sequence set to the stream sequence of
//     the subject's newest message, whose headers say n. The server stores
//     it only if no one else wrote the subject meanwhile, so concurrent
//     publishers on any number of nodes take turns: the loser reads the
//     new newest message and tries again. Offsets are contiguous and
//     their order is the subject's order in the stream. A node caches the
//     newest sequence per channel, so a publish costs one round trip
//     unless another node got in first.
//   - Delivery. The stream republishes each message it stored to
//     P.c.<channel> (RePublish), in stream order, and only those it
//     stored: core subscribers get the channel's publications in offset
//     order, never a rejected attempt.
//   - Position. The stream keeps messages for MetaTTL (MaxAge), so the
//     newest one, and with it the position, outlives its publication's
//     history TTL; HistoryTTL is applied when reading. A channel with
//     HistorySize 0 or 1 publishes with Nats-Rollup, which drops the
//     subject's older messages: the newest alone is kept, as the position
//     (and, for size 1, the history). Larger sizes are trimmed to the
//     size every size-th publication (a purge keeping the newest), so a
//     channel holds at most twice its size. History returns only the
//     newest HistorySize offsets, as the newest message's header says.
//   - Epoch. A channel with no message (never published to, or idle past
//     MetaTTL) starts at offset 1 in a new epoch.
//   - RemoveHistory writes a marker with the current position, no
//     publication, and Nats-Rollup: the history goes, the position stays.
//
// One stream for every channel, rather than one per (size, TTL), keeps a
// single sequence per channel to serialise on: a channel whose options
// change (a configuration reload, or two nodes configured differently)
// still gets one run of offsets.

// Headers of the history stream's messages.
const (
	natsHeaderOffset  = "Herald-Offset"
	natsHeaderEpoch   = "Herald-Epoch"
	natsHeaderKeep    = "Herald-Keep"
	natsHeaderExpires = "Herald-Expires" // unix ms; absent for never
	natsHeaderRemoved = "Herald-Removed"
	natsHeaderKind    = "Herald-Kind" // on P.c.<channel>: join or leave
	natsHeaderRollup  = "Nats-Rollup"
	natsHeaderPrev    = "Nats-Expected-Last-Subject-Sequence"
)

// natsWalkBack is how many publications History reads one by one,
// following each message's predecessor, before it reads with a consumer
// instead (which costs two extra round trips but streams).
const natsWalkBack = 16

func (b *NATSBroker) streamConfig() jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:              b.subj.streamName(),
		Description:       "herald channel streams: offsets, epochs and kept publications",
		Subjects:          []string{b.subj.historyAll()},
		MaxAge:            b.opts.MetaTTL,
		MaxMsgsPerSubject: -1,
		Storage:           jetstream.FileStorage,
		Replicas:          b.opts.Replicas,
		Discard:           jetstream.DiscardOld,
		AllowRollup:       true,
		RePublish:         &jetstream.RePublish{Source: b.subj.historyAll(), Destination: b.subj.republished()},
	}
}

// Publish implements Broker.
func (b *NATSBroker) Publish(ctx context.Context, pub *record.Publication, opts PublishOptions) (StreamPosition, error) {
	if err := b.usable(); err != nil {
		return StreamPosition{}, err
	}
	ctx, cancel := b.link.context(ctx)
	defer cancel()
	subject := b.subj.history(pub.Channel)
	tail := b.tails.get(pub.Channel)
	tail.mu.Lock()
	defer tail.mu.Unlock()
	now := time.Now()
	if pub.Time == 0 {
		pub.Time = now.UnixMilli()
	}
	for conflicts := 0; ; conflicts++ {
		if err := b.loadTail(ctx, tail, subject); err != nil {
			return StreamPosition{}, err
		}
		pub.Offset, pub.Epoch = tail.pos.Offset+1, tail.pos.Epoch
		msg, err := publicationMsg(subject, pub, opts, now)
		if err != nil {
			return StreamPosition{}, err
		}
		ack, err := b.js.PublishMsg(ctx, msg, jetstream.WithExpectLastSequencePerSubject(tail.seq))
		if err == nil {
			tail.seq, tail.pos = ack.Sequence, StreamPosition{Offset: pub.Offset, Epoch: pub.Epoch}
			b.trimLater(subject, pub.Offset, opts.HistorySize)
			return tail.pos, nil
		}
		tail.loaded = false // lost the race, or the ack: read the stream again
		if !natsWrongLastSeq(err) {
			return StreamPosition{}, natsError(ctx, "publish", err)
		}
		if err := natsConflictPause(ctx, conflicts); err != nil {
			return StreamPosition{}, natsError(ctx, "publish", err)
		}
	}
}

func publicationMsg(subject string, pub *record.Publication, opts PublishOptions, now time.Time) (*nats.Msg, error) {
	data, err := pub.AppendBinary(nil)
	if err != nil {
		return nil, err
	}
	h := nats.Header{
		natsHeaderOffset: {strconv.FormatUint(pub.Offset, 10)},
		natsHeaderEpoch:  {pub.Epoch},
		natsHeaderKeep:   {strconv.Itoa(max(opts.HistorySize, 0))},
	}
	if opts.HistoryTTL > 0 {
		h[natsHeaderExpires] = []string{strconv.FormatInt(now.Add(opts.HistoryTTL).UnixMilli(), 10)}
	}
	if opts.HistorySize <= 1 {
		h[natsHeaderRollup] = []string{"sub"}
	}
	return &nats.Msg{Subject: subject, Header: h, Data: data}, nil
}

// natsConflictPause spreads out publishers that keep losing the race
// for one channel.
func natsConflictPause(ctx context.Context, conflicts int) error {
	if conflicts < 3 {
		return ctx.Err()
	}
	d := time.Duration(rand.Int64N(int64(min(conflicts, 50)) * int64(100*time.Microsecond)))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// natsWrongLastSeq reports the server's refusal of an expected sequence
// (10164 is how replicated streams say it).
func natsWrongLastSeq(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) &&
		(apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
			apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

// loadTail reads the channel's newest message unless tail already
// knows it; a channel without one starts a new epoch.
func (b *NATSBroker) loadTail(ctx context.Context, tail *natsTail, subject string) error {
	if tail.loaded {
		return nil
	}
	m, err := b.stream.GetLastMsgForSubject(ctx, subject)
	switch {
	case errors.Is(err, jetstream.ErrMsgNotFound):
		tail.seq, tail.pos = 0, StreamPosition{Epoch: newEpoch()}
	case err != nil:
		return natsError(ctx, "reading a channel's position", err)
	default:
		tail.seq, tail.pos = m.Sequence, natsHeadOf(m.Header).pos
	}
	tail.loaded = true
	return nil
}

// natsHead is what a history message's headers say.
type natsHead struct {
	pos     StreamPosition
	keep    uint64
	expires int64 // unix ms; 0 for never
	removed bool
	prev    uint64 // the subject's previous message
}

func natsHeadOf(h nats.Header) natsHead {
	num := func(k string) uint64 {
		v, _ := strconv.ParseUint(h.Get(k), 10, 64)
		return v
	}
	return natsHead{
		pos:     StreamPosition{Offset: num(natsHeaderOffset), Epoch: h.Get(natsHeaderEpoch)},
		keep:    num(natsHeaderKeep),
		expires: int64(num(natsHeaderExpires)),
		removed: h.Get(natsHeaderRemoved) != "",
		prev:    num(natsHeaderPrev),
	}
}

// History implements Broker.
func (b *NATSBroker) History(ctx context.Context, ch string, opts HistoryOptions) ([]*record.Publication, StreamPosition, error) {
	if err := b.usable(); err != nil {
		return nil, StreamPosition{}, err
	}
	ctx, cancel := b.link.context(ctx)
	defer cancel()
	subject := b.subj.history(ch)
	last, err := b.stream.GetLastMsgForSubject(ctx, subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, StreamPosition{}, nil
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

// RemoveHistory implements Broker: a marker at the current position, with
// a rollup, replaces the channel's messages.
func (b *NATSBroker) RemoveHistory(ctx context.Context, ch string) error {
	if err := b.usable(); err != nil {
		return err
	}
	ctx, cancel := b.link.context(ctx)
	defer cancel()
	subject := b.subj.history(ch)
	tail := b.tails.get(ch)
	tail.mu.Lock()
	defer tail.mu.Unlock()
	for conflicts := 0; ; conflicts++ {
		if err := b.loadTail(ctx, tail, subject); err != nil {
			return err
		}
		if tail.seq == 0 {
			return nil // nothing published: nothing to forget
		}
		msg := &nats.Msg{Subject: subject, Header: nats.Header{
			natsHeaderOffset:  {strconv.FormatUint(tail.pos.Offset, 10)},
			natsHeaderEpoch:   {tail.pos.Epoch},
			natsHeaderKeep:    {"0"},
			natsHeaderRemoved: {"1"},
			natsHeaderRollup:  {"sub"},
		}}
		ack, err := b.js.PublishMsg(ctx, msg, jetstream.WithExpectLastSequencePerSubject(tail.seq))
		if err == nil {
			tail.seq = ack.Sequence
			return nil
		}
		tail.loaded = false
		if !natsWrongLastSeq(err) {
			return natsError(ctx, "removing history", err)
		}
		if err := natsConflictPause(ctx, conflicts); err != nil {
			return natsError(ctx, "removing history", err)
		}
	}
}

// natsTrim asks for subject to be cut to its keep newest messages.
type natsTrim struct {
	subject string
	keep    uint64
}

// trimLater queues a trim every size-th publication; a full queue skips
// it, and the next one does the work.
func (b *NATSBroker) trimLater(subject string, offset uint64, size int) {
	if size < 2 || offset%uint64(size) != 0 {
		return
	}
	select {
	case b.trims <- natsTrim{subject, uint64(size)}:
	default:
	}
}

func (b *NATSBroker) trimLoop() {
	for {
		select {
		case <-b.done:
			return
		case t := <-b.trims:
			ctx, cancel := context.WithTimeout(context.Background(), natsRequestTimeout)
			_ = b.stream.Purge(ctx, jetstream.WithPurgeSubject(t.subject), jetstream.WithPurgeKeep(t.keep))
			cancel()
		}
	}
}
