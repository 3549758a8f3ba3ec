package broker

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/heraldhq/herald/internal/protocol/record"
	"github.com/redis/rueidis"
)

// RedisPresence keeps presence in Redis: per channel a hash of client ->
// the client as a record without data (its info byte for byte), and a
// sorted set of when each entry expires.
type RedisPresence struct {
	set  expiringSet
	keys redisKeys
}

// AddPresence implements PresenceManager; adding again refreshes.
func (p *RedisPresence) AddPresence(ctx context.Context, ch string, info *record.ClientInfo) error {
	v, err := encodeClient(nil, ch, info)
	if err != nil {
		return err
	}
	return p.set.add(ctx, p.keys.presence(ch), p.keys.presenceExpiry(ch), info.Client, v)
}

// RemovePresence implements PresenceManager.
func (p *RedisPresence) RemovePresence(ctx context.Context, ch, client string) error {
	return p.set.remove(ctx, p.keys.presence(ch), p.keys.presenceExpiry(ch), client)
}

// Presence implements PresenceManager; expired entries are dropped.
func (p *RedisPresence) Presence(ctx context.Context, ch string) (map[string]*record.ClientInfo, error) {
	all, err := p.set.all(ctx, p.keys.presence(ch), p.keys.presenceExpiry(ch))
	if err != nil {
		return nil, err
	}
	out := make(map[string]*record.ClientInfo, len(all))
	for id, v := range all {
		_, info, err := decodeClient(v)
		if err != nil {
			return nil, fmt.Errorf("broker: presence entry %q of %q: %w", id, ch, err)
		}
		out[id] = info
	}
	return out, nil
}

// expiringSet is a hash whose fields expire one by one: a sorted set
// beside it holds each field's expiry (server time, unix ms). Both keys
// expire as a whole a TTL after the last add, so a set nobody refreshes
// leaves nothing behind.
type expiringSet struct {
	client rueidis.Client
	ttl    time.Duration
}

const expiringNow = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`

var (
	// KEYS: hash, expiries. ARGV: field, value, TTL in ms.
	expiringAdd = rueidis.NewLuaScript(expiringNow + `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1`)
	// KEYS: hash, expiries. ARGV: field.
	expiringRemove = rueidis.NewLuaScript(`
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1`)
	// KEYS: hash, expiries. Drops what expired, returns the rest as
	// HGETALL does.
	expiringAll = rueidis.NewLuaScript(expiringNow + `
local gone = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. string.format('%d', now))
for i = 1, #gone, 500 do
  redis.call('HDEL', KEYS[1], unpack(gone, i, math.min(i + 499, #gone)))
end
if #gone > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. string.format('%d', now))
end
return redis.call('HGETALL', KEYS[1])`)
)

func (s expiringSet) add(ctx context.Context, hash, expiries, field string, value []byte) error {
	err := expiringAdd.Exec(ctx, s.client, []string{hash, expiries},
		[]string{field, rueidis.BinaryString(value), strconv.FormatInt(s.ttl.Milliseconds(), 10)}).Error()
	if err != nil {
		return fmt.Errorf("broker: adding to Redis: %w", err)
	}
	return nil
}

func (s expiringSet) remove(ctx context.Context, hash, expiries, field string) error {
	if err := expiringRemove.Exec(ctx, s.client, []string{hash, expiries}, []string{field}).Error(); err != nil {
		return fmt.Errorf("broker: removing from Redis: %w", err)
	}
	return nil
}

func (s expiringSet) all(ctx context.Context, hash, expiries string) (map[string]string, error) {
	m, err := expiringAll.Exec(ctx, s.client, []string{hash, expiries}, nil).AsStrMap()
	if err != nil {
		return nil, fmt.Errorf("broker: reading from Redis: %w", err)
	}
	return m, nil
}
