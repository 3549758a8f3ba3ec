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
	kv   jetstream.KeyValue
	link *natsLink
}

func newNATSRegistry(ctx context.Context, js jetstream.JetStream, link *natsLink, opts NATSOptions) (*NATSRegistry, error) {
	kv, err := natsBucket(ctx, js, natsSubjects{opts.Prefix}.registryBucket(), "herald nodes", opts.RegistryTTL, opts.Replicas)
	if err != nil {
		return nil, err
	}
	return &NATSRegistry{kv: kv, link: link}, nil
}

// Announce implements Registry.
func (r *NATSRegistry) Announce(ctx context.Context, info NodeInfo) error {
	data, err := json.Marshal(info)
	if err != nil {
		return err
	}
	ctx, cancel := r.link.context(ctx)
	defer cancel()
	if _, err := r.kv.Put(ctx, natsToken(info.ID), data); err != nil {
		return natsError(ctx, "announcing the node", err)
	}
	return nil
}

// Nodes implements Registry.
func (r *NATSRegistry) Nodes(ctx context.Context) ([]NodeInfo, error) {
	ctx, cancel := r.link.context(ctx)
	defer cancel()
	var out []NodeInfo
	err := natsEntries(ctx, r.kv, ">", func(e jetstream.KeyValueEntry) {
		var info NodeInfo
		if json.Unmarshal(e.Value(), &info) == nil {
			out = append(out, info)
		}
	})
	if err != nil {
		return nil, natsError(ctx, "listing nodes", err)
	}
	SortNodes(out)
	return out, nil
}

// Leave implements Registry.
func (r *NATSRegistry) Leave(ctx context.Context, node string) error {
	ctx, cancel := r.link.context(ctx)
	defer cancel()
	if err := r.kv.Delete(ctx, natsToken(node)); err != nil {
		return natsError(ctx, "leaving the registry", err)
	}
	return nil
}
