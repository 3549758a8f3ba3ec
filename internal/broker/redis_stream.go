package broker

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/protocol/record"
	"github.com/redis/rueidis"
)

var (
	//go:embed redis_expire.lua
	redisExpireLua string
	//go:embed redis_publish.lua
	redisPublishLua string
	//go:embed redis_history.lua
	redisHistoryLua string

	redisPublishScript = rueidis.NewLuaScript(redisExpireLua + redisPublishLua)
	redisHistoryScript = rueidis.NewLuaScript(redisExpireLua + redisHistoryLua)
)

// recordBuffers hold records while the publish script is sent; a
// buffer grown past maxPooledRecord is left to the collector.
var recordBuffers = sync.Pool{New: func() any { return new([]byte) }}

const maxPooledRecord = 64 << 10

// Publish implements Broker. The record is encoded once, here, without
// offset and epoch: the script assigns them and carries them beside it.
// Every publication of a channel is numbered and sent to its topic by one
// script run, so the topic carries them in offset order.
func (b *RedisBroker) Publish(ctx context.Context, pub *record.Publication, opts PublishOptions) (StreamPosition, error) {
	if b.closed.Load() {
		return StreamPosition{}, ErrClosed
	}
	if pub.Time == 0 {
		pub.Time = time.Now().UnixMilli()
	}
	pub.Offset, pub.Epoch = 0, ""
	buf := recordBuffers.Get().(*[]byte)
	rec, err := pub.AppendBinary((*buf)[:0])
	if cap(rec) <= maxPooledRecord {
		*buf = rec
		defer recordBuffers.Put(buf)
	}
	if err != nil {
		return StreamPosition{}, err
	}
	ch := pub.Channel
	res := redisPublishScript.Exec(ctx, b.client, []string{b.keys.meta(ch), b.keys.stream(ch)}, []string{
		b.keys.channelTopic(ch), rueidis.BinaryString(rec),
		strconv.Itoa(max(opts.HistorySize, 0)), strconv.FormatInt(opts.HistoryTTL.Milliseconds(), 10),
		b.metaTTLms, candidateEpoch(),
	})
	pos, err := publishedPosition(res)
	if err != nil {
		return StreamPosition{}, b.redisError("publishing to Redis", err)
	}
	pub.Offset, pub.Epoch = pos.Offset, pos.Epoch
	return pos, nil
}

// candidateEpoch is the epoch a channel starts with if this publish is
// its first. Every publish sends one, and nearly all go unused, so it is
// drawn from the cheap generator rather than crypto/rand: an epoch need
// only differ from the channel's previous ones.
func candidateEpoch() string {
	// Eight hex digits: the leading 1 of bit 32 pads them, then goes.
	return strconv.FormatUint(1<<32|uint64(rand.Uint32()), 16)[1:]
}

func publishedPosition(res rueidis.RedisResult) (StreamPosition, error) {
	vals, err := res.ToArray()
	if err != nil {
		return StreamPosition{}, err
	}
	if len(vals) != 2 {
		return StreamPosition{}, fmt.Errorf("the publish script answered %d values", len(vals))
	}
	offset, err := vals[0].AsUint64()
	if err != nil {
		return StreamPosition{}, err
	}
	epoch, err := vals[1].ToString()
	return StreamPosition{Offset: offset, Epoch: epoch}, err
}

// History implements Broker. Like the memory broker it creates nothing
// for a channel nobody published to.
func (b *RedisBroker) History(ctx context.Context, ch string, opts HistoryOptions) ([]*record.Publication, StreamPosition, error) {
	if b.closed.Load() {
		return nil, StreamPosition{}, ErrClosed
	}
	start := "-"
	if opts.Since > 0 {
		start = "(" + strconv.FormatUint(opts.Since, 10) + "-0" // after it
	}
	res := redisHistoryScript.Exec(ctx, b.client, []string{b.keys.meta(ch), b.keys.stream(ch)},
		[]string{start, strconv.Itoa(max(opts.Limit, 0))})
	vals, err := res.ToArray()
	if err != nil {
		return nil, StreamPosition{}, b.redisError("reading history from Redis", err)
	}
	pubs, pos, err := decodeHistory(vals)
	if err != nil {
		return nil, StreamPosition{}, fmt.Errorf("broker: the history of %q: %w", ch, err)
	}
	return pubs, pos, nil
}

// decodeHistory reads {offset, epoch, entries}.
func decodeHistory(vals []rueidis.RedisMessage) ([]*record.Publication, StreamPosition, error) {
	if len(vals) != 3 {
		return nil, StreamPosition{}, fmt.Errorf("the history script answered %d values", len(vals))
	}
	var pos StreamPosition
	var err error
	if pos.Offset, err = vals[0].AsUint64(); err != nil {
		return nil, pos, err
	}
	if pos.Epoch, err = vals[1].ToString(); err != nil {
		return nil, pos, err
	}
	entries, err := vals[2].ToArray()
	if err != nil {
		return nil, pos, err
	}
	var pubs []*record.Publication
	for i := range entries {
		p, err := decodeEntry(&entries[i])
		if err != nil {
			return nil, pos, err
		}
		p.Epoch = pos.Epoch
		pubs = append(pubs, p)
	}
	return pubs, pos, nil
}

// decodeEntry reads one stream entry: [OFFSET-0, [field, value, ...]].
func decodeEntry(e *rueidis.RedisMessage) (*record.Publication, error) {
	parts, err := e.ToArray()
	if err != nil || len(parts) != 2 {
		return nil, errors.New("a stream entry that is not [id, fields]")
	}
	id, err := parts[0].ToString()
	if err != nil {
		return nil, err
	}
	off, _, _ := strings.Cut(id, "-")
	offset, err := strconv.ParseUint(off, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("a stream entry id %q: %w", id, err)
	}
	fields, err := parts[1].AsStrSlice()
	if err != nil {
		return nil, err
	}
	for i := 0; i+1 < len(fields); i += 2 {
		if fields[i] == "r" {
			p, err := record.Decode([]byte(fields[i+1]))
			if err != nil {
				return nil, err
			}
			p.Offset = offset
			return p, nil
		}
	}
	return nil, fmt.Errorf("the stream entry %s holds no record", id)
}

// RemoveHistory implements Broker: the stream goes, the meta hash with
// the position stays.
func (b *RedisBroker) RemoveHistory(ctx context.Context, ch string) error {
	if b.closed.Load() {
		return ErrClosed
	}
	if err := b.client.Do(ctx, b.client.B().Del().Key(b.keys.stream(ch)).Build()).Error(); err != nil {
		return b.redisError("removing history from Redis", err)
	}
	return nil
}
