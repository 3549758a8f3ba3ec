package broker

import (
	"context"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/protocol/record"
	"github.com/nats-io/nats.go/jetstream"
)

// NATSPresence keeps presence in a JetStream key-value bucket, P_presence,
// whose entries live PresenceTTL unless put again. A key is
// <channel>.<client>, each encoded by natsToken, so a channel's entries
// are the keys under <channel>.*; the value is the client's info.
type NATSPresence struct {
	kv   jetstream.KeyValue
	link *natsLink
}

func newNATSPresence(ctx context.Context, js jetstream.JetStream, link *natsLink, opts NATSOptions) (*NATSPresence, error) {
	kv, err := natsBucket(ctx, js, natsSubjects{opts.Prefix}.presenceBucket(), "herald presence", opts.PresenceTTL, opts.Replicas)
	if err != nil {
		return nil, err
	}
	return &NATSPresence{kv: kv, link: link}, nil
}

// natsBucket creates (or updates) a bucket. It is kept on disk although
// its entries are refreshed anyway: the server forgets a bucket held in
// memory altogether when it restarts, and every later put would fail.
func natsBucket(ctx context.Context, js jetstream.JetStream, name, what string, ttl time.Duration, replicas int) (jetstream.KeyValue, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: name, Description: what,
		TTL: ttl, History: 1, Storage: jetstream.FileStorage, Replicas: replicas})
	if err != nil {
		return nil, fmt.Errorf("broker: creating the NATS bucket %s: %w", name, err)
	}
	return kv, nil
}

func natsPresenceKey(ch, client string) string { return natsToken(ch) + "." + natsToken(client) }

// AddPresence implements PresenceManager.
func (p *NATSPresence) AddPresence(ctx context.Context, ch string, info *record.ClientInfo) error {
	ctx, cancel := p.link.context(ctx)
	defer cancel()
	if _, err := p.kv.Put(ctx, natsPresenceKey(ch, info.Client), appendNATSClient(nil, info)); err != nil {
		return natsError(ctx, "adding presence", err)
	}
	return nil
}

// RemovePresence implements PresenceManager.
func (p *NATSPresence) RemovePresence(ctx context.Context, ch, client string) error {
	ctx, cancel := p.link.context(ctx)
	defer cancel()
	if err := p.kv.Delete(ctx, natsPresenceKey(ch, client)); err != nil {
		return natsError(ctx, "removing presence", err)
	}
	return nil
}

// Presence implements PresenceManager.
func (p *NATSPresence) Presence(ctx context.Context, ch string) (map[string]*record.ClientInfo, error) {
	out := map[string]*record.ClientInfo{}
	ctx, cancel := p.link.context(ctx)
	defer cancel()
	err := natsEntries(ctx, p.kv, natsToken(ch)+".*", func(e jetstream.KeyValueEntry) {
		if info, err := decodeNATSClient(e.Value()); err == nil {
			out[info.Client] = info
		}
	})
	if err != nil {
		return nil, natsError(ctx, "reading presence", err)
	}
	return out, nil
}

// natsEntries calls fn for every live entry under keys, as the bucket
// holds them now.
func natsEntries(ctx context.Context, kv jetstream.KeyValue, keys string, fn func(jetstream.KeyValueEntry)) error {
	w, err := kv.Watch(ctx, keys, jetstream.IgnoreDeletes())
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
				return nil // the entries there were when the watch began
			}
			fn(e)
		}
	}
}
