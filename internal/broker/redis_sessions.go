package broker

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/rueidis"
)

// RedisSessions keeps each record as a string key that expires (SET PX)
// and is taken with GETDEL, so two nodes never both get it.
type RedisSessions struct {
	client rueidis.Client
	keys   redisKeys
}

// PutSession implements Sessions.
func (s *RedisSessions) PutSession(ctx context.Context, key string, data []byte, ttl time.Duration) error {
	cmd := s.client.B().Set().Key(s.keys.session(key)).Value(rueidis.BinaryString(data)).PxMilliseconds(max(ttl.Milliseconds(), 1)).Build()
	if err := s.client.Do(ctx, cmd).Error(); err != nil {
		return fmt.Errorf("broker: keeping a session in Redis: %w", err)
	}
	return nil
}

// AddSession implements Sessions.
func (s *RedisSessions) AddSession(ctx context.Context, key string, data []byte, ttl time.Duration) error {
	cmd := s.client.B().Set().Key(s.keys.session(key)).Value(rueidis.BinaryString(data)).Nx().PxMilliseconds(max(ttl.Milliseconds(), 1)).Build()
	if err := s.client.Do(ctx, cmd).Error(); err != nil && !rueidis.IsRedisNil(err) {
		return fmt.Errorf("broker: keeping a session in Redis: %w", err)
	}
	return nil
}

// TakeSession implements Sessions.
func (s *RedisSessions) TakeSession(ctx context.Context, key string) ([]byte, error) {
	b, err := s.client.Do(ctx, s.client.B().Getdel().Key(s.keys.session(key)).Build()).AsBytes()
	if rueidis.IsRedisNil(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("broker: taking a session from Redis: %w", err)
	}
	return b, nil
}
