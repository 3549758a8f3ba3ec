package broker

import (
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/heraldhq/herald/internal/protocol/record"
)

// stream is one channel's offsets and kept publications, oldest first.
// The caller holds the shard lock.
type stream struct {
	epoch string
	// top is the newest offset handed out; shown is the newest one
	// readers may see. They differ while a durable store writes: a
	// publication is kept and delivered only once it is as safe as the
	// store promises.
	top, shown uint64
	items      []*record.Publication
	expires    []time.Time // parallel to items; zero time means never
	touched    time.Time
}

func newEpoch() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func newStream(now time.Time) *stream {
	return &stream{epoch: newEpoch(), touched: now}
}

// loadedStream is a stream as a StreamStore gave it back.
func loadedStream(s StoredStream) *stream {
	st := &stream{epoch: s.Epoch, top: s.Top, shown: s.Top, items: s.Pubs, expires: s.Expires, touched: s.Touched}
	if s.Unclean {
		// Offsets past what the store holds may have been handed out:
		// reusing them in this epoch would tell clients they have what
		// they never saw.
		st.epoch = newEpoch()
	}
	return st
}

func (s *stream) position() StreamPosition {
	return StreamPosition{Offset: s.shown, Epoch: s.epoch}
}

func (s *stream) expired(now time.Time, metaTTL time.Duration) bool {
	return now.Sub(s.touched) > metaTTL
}

// number gives pub the next offset, the epoch and its time.
func (s *stream) number(pub *record.Publication, now time.Time) {
	s.top++
	s.touched = now
	pub.Offset, pub.Epoch = s.top, s.epoch
	if pub.Time == 0 {
		pub.Time = now.UnixMilli()
	}
}

// keepFrom is the oldest offset the stream keeps once pub is added.
func keepFrom(pub *record.Publication, opts PublishOptions) uint64 {
	if opts.HistorySize <= 0 {
		return pub.Offset + 1
	}
	if pub.Offset <= uint64(opts.HistorySize) {
		return 1
	}
	return pub.Offset - uint64(opts.HistorySize) + 1
}

func expiry(opts PublishOptions, now time.Time) time.Time {
	if opts.HistoryTTL > 0 {
		return now.Add(opts.HistoryTTL)
	}
	return time.Time{}
}

// keep shows pub to readers, keeping it if the options ask.
func (s *stream) keep(pub *record.Publication, opts PublishOptions, exp time.Time) {
	s.shown = pub.Offset
	if opts.HistorySize <= 0 {
		s.items, s.expires = nil, nil
		return
	}
	s.items = append(s.items, pub)
	s.expires = append(s.expires, exp)
	if over := len(s.items) - opts.HistorySize; over > 0 {
		s.drop(over)
	}
}

func (s *stream) drop(n int) {
	clear(s.items[:n])
	s.items = append(s.items[:0], s.items[n:]...)
	s.expires = append(s.expires[:0], s.expires[n:]...)
}

// since returns unexpired publications after opts.Since, up to opts.Limit.
func (s *stream) since(opts HistoryOptions, now time.Time) []*record.Publication {
	s.dropExpired(now)
	var out []*record.Publication
	for _, p := range s.items {
		if p.Offset <= opts.Since {
			continue
		}
		out = append(out, p)
		if opts.Limit > 0 && len(out) == opts.Limit {
			break
		}
	}
	return out
}

// dropExpired drops the publications whose time is up and reports
// whether it dropped any.
func (s *stream) dropExpired(now time.Time) bool {
	n := 0
	for n < len(s.expires) && !s.expires[n].IsZero() && now.After(s.expires[n]) {
		n++
	}
	if n > 0 {
		s.drop(n)
	}
	return n > 0
}

// oldestKept is the offset of the oldest publication kept; past the
// newest when none is.
func (s *stream) oldestKept() uint64 {
	if len(s.items) == 0 {
		return s.shown + 1
	}
	return s.items[0].Offset
}
