package broker

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// natsBucket is a JetStream key-value bucket whose entries live ttl
// unless put again. It is kept on disk although its entries are
// refreshed anyway: a server forgets a bucket held in memory altogether
// when it restarts. One the server lost all the same (deleted, or a
// server back without its store) is created again by the next call.
type natsBucket struct {
	kv   jetstream.KeyValue
	js   jetstream.JetStream
	cfg  jetstream.KeyValueConfig
	link *natsLink
}

func openNATSBucket(ctx context.Context, js jetstream.JetStream, link *natsLink, name, what string, ttl time.Duration, replicas int) (*natsBucket, error) {
	cfg := jetstream.KeyValueConfig{Bucket: name, Description: what, TTL: ttl, History: 1,
		Storage: jetstream.FileStorage, Replicas: replicas}
	kv, err := js.CreateOrUpdateKeyValue(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("broker: creating the NATS bucket %s: %w", name, err)
	}
	return &natsBucket{kv: kv, js: js, cfg: cfg, link: link}, nil
}

// do runs fn in a call's context, again once the bucket is created anew
// if the server lost it.
func (b *natsBucket) do(ctx context.Context, what string, fn func(context.Context) error) error {
	ctx, cancel := b.link.context(ctx)
	defer cancel()
	err := fn(ctx)
	if natsStreamGone(err) {
		if _, err = b.js.CreateOrUpdateKeyValue(ctx, b.cfg); err == nil {
			err = fn(ctx)
		}
	}
	if err != nil {
		return natsError(ctx, what, err)
	}
	return nil
}

func (b *natsBucket) put(ctx context.Context, what, key string, value []byte) error {
	return b.do(ctx, what, func(ctx context.Context) error {
		_, err := b.kv.Put(ctx, key, value)
		return err
	})
}

func (b *natsBucket) delete(ctx context.Context, what, key string) error {
	return b.do(ctx, what, func(ctx context.Context) error { return b.kv.Delete(ctx, key) })
}

// entries calls fn for every live entry under keys, as the bucket holds
// them when the call begins.
func (b *natsBucket) entries(ctx context.Context, what, keys string, fn func(jetstream.KeyValueEntry)) error {
	return b.do(ctx, what, func(ctx context.Context) error {
		w, err := b.kv.Watch(ctx, keys, jetstream.IgnoreDeletes())
		if err != nil {
			return err
		}
		defer func() { _ = w.Stop() }()
		for {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case e, ok := <-w.Updates():
				if !ok {
					return fmt.Errorf("the watch of %s ended", keys)
				}
				if e == nil {
					return nil // the end of the entries there were
				}
				fn(e)
			}
		}
	})
}
