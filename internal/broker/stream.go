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
	epoch   string
	top     uint64
	items   []*record.Publication
	expires []time.Time // parallel to items; zero time means never
	touched time.Time
}

func newStream(now time.Time) *stream {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return &stream{epoch: hex.EncodeToString(b[:]), touched: now}
}

func (s *stream) position() StreamPosition {
	return StreamPosition{Offset: s.top, Epoch: s.epoch}
}

func (s *stream) expired(now time.Time, metaTTL time.Duration) bool {
	return now.Sub(s.touched) > metaTTL
}

// add gives pub the next offset and keeps it if the options ask.
func (s *stream) add(pub *record.Publication, opts PublishOptions, now time.Time) StreamPosition {
	s.top++
	s.touched = now
	pub.Offset, pub.Epoch = s.top, s.epoch
	if pub.Time == 0 {
		pub.Time = now.UnixMilli()
	}
	if opts.HistorySize <= 0 {
		s.items, s.expires = nil, nil
		return s.position()
	}
	var exp time.Time
	if opts.HistoryTTL > 0 {
		exp = now.Add(opts.HistoryTTL)
	}
	s.items = append(s.items, pub)
	s.expires = append(s.expires, exp)
	if over := len(s.items) - opts.HistorySize; over > 0 {
		clear(s.items[:over])
		s.items = append(s.items[:0], s.items[over:]...)
		s.expires = append(s.expires[:0], s.expires[over:]...)
	}
	return s.position()
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

func (s *stream) dropExpired(now time.Time) {
	n := 0
	for n < len(s.expires) && !s.expires[n].IsZero() && now.After(s.expires[n]) {
		n++
	}
	if n > 0 {
		clear(s.items[:n])
		s.items = append(s.items[:0], s.items[n:]...)
		s.expires = append(s.expires[:0], s.expires[n:]...)
	}
}
