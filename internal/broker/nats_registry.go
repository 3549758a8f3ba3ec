package broker

import (
	"context"
	"encoding/json"

	"github.com/nats-io/nats.go/jetstream"
)

// NATSRegistry keeps the live nodes in a JetStream key-value bucket,
// P_nodes, whose entries live RegistryTTL unless announced again. A key
// is the node's id encoded by natsToken; the value is its NodeInfo as
// JSON.
type NATSRegistry struct {
	bucket *natsBucket
}

func newNATSRegistry(ctx context.Context, js jetstream.JetStream, link *natsLink, opts NATSOptions) (*NATSRegistry, error) {
	b, err := openNATSBucket(ctx, js, link, natsSubjects{opts.Prefix}.registryBucket(), "herald nodes", opts.RegistryTTL, opts.Replicas)
	if err != nil {
		return nil, err
	}
	return &NATSRegistry{bucket: b}, nil
}

// Announce implements Registry.
func (r *NATSRegistry) Announce(ctx context.Context, info NodeInfo) error {
	data, err := json.Marshal(info)
	if err != nil {
		return err
	}
	return r.bucket.put(ctx, "announcing the node", natsToken(info.ID), data)
}

// Nodes implements Registry.
func (r *NATSRegistry) Nodes(ctx context.Context) ([]NodeInfo, error) {
	var out []NodeInfo
	err := r.bucket.entries(ctx, "listing nodes", ">", func(e jetstream.KeyValueEntry) {
		var info NodeInfo
		if json.Unmarshal(e.Value(), &info) == nil {
			out = append(out, info)
		}
	})
	if err != nil {
		return nil, err
	}
	SortNodes(out)
	return out, nil
}

// Leave implements Registry.
func (r *NATSRegistry) Leave(ctx context.Context, node string) error {
	return r.bucket.delete(ctx, "leaving the registry", natsToken(node))
}
