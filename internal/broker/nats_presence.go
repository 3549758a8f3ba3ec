package broker

import (
	"context"

	"github.com/heraldhq/herald/internal/protocol/record"
	"github.com/nats-io/nats.go/jetstream"
)

// NATSPresence keeps presence in a JetStream key-value bucket, P_presence,
// whose entries live PresenceTTL unless put again. A key is
// <channel>.<client>, each encoded by natsToken, so a channel's entries
// are the keys under <channel>.*; the value is the client's info.
type NATSPresence struct {
	bucket *natsBucket
}

func newNATSPresence(ctx context.Context, js jetstream.JetStream, link *natsLink, opts NATSOptions) (*NATSPresence, error) {
	b, err := openNATSBucket(ctx, js, link, natsSubjects{opts.Prefix}.presenceBucket(), "herald presence", opts.PresenceTTL, opts.Replicas)
	if err != nil {
		return nil, err
	}
	return &NATSPresence{bucket: b}, nil
}

func natsPresenceKey(ch, client string) string { return natsToken(ch) + "." + natsToken(client) }

// AddPresence implements PresenceManager.
func (p *NATSPresence) AddPresence(ctx context.Context, ch string, info *record.ClientInfo) error {
	return p.bucket.put(ctx, "adding presence", natsPresenceKey(ch, info.Client), appendNATSClient(nil, info))
}

// RemovePresence implements PresenceManager.
func (p *NATSPresence) RemovePresence(ctx context.Context, ch, client string) error {
	return p.bucket.delete(ctx, "removing presence", natsPresenceKey(ch, client))
}

// Presence implements PresenceManager.
func (p *NATSPresence) Presence(ctx context.Context, ch string) (map[string]*record.ClientInfo, error) {
	out := map[string]*record.ClientInfo{}
	err := p.bucket.entries(ctx, "reading presence", natsToken(ch)+".*", func(e jetstream.KeyValueEntry) {
		if info, err := decodeNATSClient(e.Value()); err == nil {
			out[info.Client] = info
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
