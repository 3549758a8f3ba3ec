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

// streamConfig is the JetStream stream P_history, which holds every
// channel's stream, each under the subject P.h.<channel>. Every message
// there carries, in headers, the channel's position after it (offset and
// epoch) and how the channel keeps history (size, and when this
// publication expires):
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
	_, err := b.writeNext(ctx, tail, subject, func() (*nats.Msg, error) {
		pub.Offset, pub.Epoch = tail.pos.Offset+1, tail.pos.Epoch
		return publicationMsg(subject, pub, opts, now)
	})
	if err != nil {
		return StreamPosition{}, natsError(ctx, "publish", err)
	}
	tail.pos = StreamPosition{Offset: pub.Offset, Epoch: pub.Epoch}
	b.trimLater(subject, pub.Offset, opts.HistorySize)
	return tail.pos, nil
}

// writeNext appends to subject the message build makes from the tail as
// it stands, building and trying again while other publishers get in
// first; build returning no message means there is nothing to write.
// A stream the server lost (deleted, or a server that came back without
// its store) is created again, once. tail.mu held; on success tail.seq
// is the new message's.
func (b *NATSBroker) writeNext(ctx context.Context, tail *natsTail, subject string, build func() (*nats.Msg, error)) (bool, error) {
	recreated := false
	for conflicts := 0; ; conflicts++ {
		err := b.loadTail(ctx, tail, subject)
		if err == nil {
			var msg *nats.Msg
			if msg, err = build(); msg == nil || err != nil {
				return false, err
			}
			var ack *jetstream.PubAck
			if ack, err = b.js.PublishMsg(ctx, msg, jetstream.WithExpectLastSequencePerSubject(tail.seq)); err == nil {
				tail.seq = ack.Sequence
				return true, nil
			}
			tail.loaded = false // lost the race, or the ack: read the stream again
		}
		switch {
		case natsWrongLastSeq(err):
			if err := natsConflictPause(ctx, conflicts); err != nil {
				return false, err
			}
		case natsStreamGone(err) && !recreated:
			recreated = true
			if _, err := b.js.CreateOrUpdateStream(ctx, b.streamConfig()); err != nil {
				return false, err
			}
		default:
			return false, err
		}
	}
}

// natsStreamGone reports a stream (or bucket) the server does not have.
func natsStreamGone(err error) bool {
	return errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, jetstream.ErrStreamNotFound)
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
		return err
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
	_, err := b.writeNext(ctx, tail, subject, func() (*nats.Msg, error) {
		if tail.seq == 0 {
			return nil, nil // nothing published: nothing to forget
		}
		return &nats.Msg{Subject: subject, Header: nats.Header{
			natsHeaderOffset:  {strconv.FormatUint(tail.pos.Offset, 10)},
			natsHeaderEpoch:   {tail.pos.Epoch},
			natsHeaderKeep:    {"0"},
			natsHeaderRemoved: {"1"},
			natsHeaderRollup:  {"sub"},
		}}, nil
	})
	if err != nil {
		return natsError(ctx, "removing history", err)
	}
	return nil
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
