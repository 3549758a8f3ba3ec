package broker

import (
	"context"
	"encoding/json"
	"fmt"
)

// RedisRegistry keeps the cluster's nodes in Redis: a hash of node id ->
// NodeInfo as JSON, whose entries expire one by one unless announced
// again.
type RedisRegistry struct {
	set  expiringSet
	keys redisKeys
}

// Announce implements Registry.
func (r *RedisRegistry) Announce(ctx context.Context, info NodeInfo) error {
	v, err := json.Marshal(info)
	if err != nil {
		return fmt.Errorf("broker: encoding the node: %w", err)
	}
	return r.set.add(ctx, r.keys.nodes(), r.keys.nodesExpiry(), info.ID, v)
}

// Nodes implements Registry.
func (r *RedisRegistry) Nodes(ctx context.Context) ([]NodeInfo, error) {
	all, err := r.set.all(ctx, r.keys.nodes(), r.keys.nodesExpiry())
	if err != nil {
		return nil, err
	}
	out := make([]NodeInfo, 0, len(all))
	for id, v := range all {
		var info NodeInfo
		if err := json.Unmarshal([]byte(v), &info); err != nil {
			return nil, fmt.Errorf("broker: the registry entry of %q: %w", id, err)
		}
		out = append(out, info)
	}
	SortNodes(out)
	return out, nil
}

// Leave implements Registry.
func (r *RedisRegistry) Leave(ctx context.Context, node string) error {
	return r.set.remove(ctx, r.keys.nodes(), r.keys.nodesExpiry(), node)
}
