package broker

import (
	"context"
	"encoding/binary"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// natsSessionsTTL bounds how long the bucket keeps a record: nats-server
// 2.9 has no per-key TTL, so each record carries its own deadline,
// checked when it is taken, and the bucket's limit sweeps what nobody
// took.
const natsSessionsTTL = time.Hour

// NATSSessions keeps records in a JetStream key-value bucket, P_sessions.
// A value is the record's deadline (unix nanoseconds, 8 bytes) and its
// data; it is taken by reading it and deleting it at the revision read,
// so two nodes never both get it.
type NATSSessions struct {
	bucket *natsBucket
}

func newNATSSessions(ctx context.Context, js jetstream.JetStream, link *natsLink, opts NATSOptions) (*NATSSessions, error) {
	b, err := openNATSBucket(ctx, js, link, natsSubjects{opts.Prefix}.sessionsBucket(), "herald sessions", natsSessionsTTL, opts.Replicas)
	if err != nil {
		return nil, err
	}
	return &NATSSessions{bucket: b}, nil
}

// PutSession implements Sessions; ttl is cut to natsSessionsTTL.
func (s *NATSSessions) PutSession(ctx context.Context, key string, data []byte, ttl time.Duration) error {
	return s.bucket.put(ctx, "keeping a session", natsToken(key), sessionValue(data, ttl))
}

// AddSession implements Sessions.
func (s *NATSSessions) AddSession(ctx context.Context, key string, data []byte, ttl time.Duration) error {
	return s.bucket.do(ctx, "keeping a session", func(ctx context.Context) error {
		_, err := s.bucket.kv.Create(ctx, natsToken(key), sessionValue(data, ttl))
		if errors.Is(err, jetstream.ErrKeyExists) {
			return nil
		}
		return err
	})
}

// sessionValue is data led by its deadline.
func sessionValue(data []byte, ttl time.Duration) []byte {
	v := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(data)), uint64(time.Now().Add(ttl).UnixNano()))
	return append(v, data...)
}

// TakeSession implements Sessions. A delete that finds another revision
// than the one read lost to another taker, or to a newer record: the
// newer one is read once more.
func (s *NATSSessions) TakeSession(ctx context.Context, key string) ([]byte, error) {
	var out []byte
	err := s.bucket.do(ctx, "taking a session", func(ctx context.Context) error {
		for range 2 {
			e, err := s.bucket.kv.Get(ctx, natsToken(key))
			if errors.Is(err, jetstream.ErrKeyNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			err = s.bucket.kv.Delete(ctx, natsToken(key), jetstream.LastRevision(e.Revision()))
			if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists) {
				continue
			}
			if err != nil {
				return err
			}
			if v := e.Value(); len(v) >= 8 && time.Now().UnixNano() <= int64(binary.BigEndian.Uint64(v)) {
				out = v[8:]
			}
			return nil
		}
		return nil
	})
	return out, err
}
