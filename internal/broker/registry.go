package broker

import (
	"context"
	"slices"
	"strings"
	"sync"
)

// MemoryRegistry is the registry of a single node: it holds what the
// node announces of itself.
type MemoryRegistry struct {
	mu    sync.Mutex
	nodes map[string]NodeInfo
}

// NewMemoryRegistry returns an empty registry.
func NewMemoryRegistry() *MemoryRegistry {
	return &MemoryRegistry{nodes: map[string]NodeInfo{}}
}

// Announce implements Registry.
func (r *MemoryRegistry) Announce(_ context.Context, info NodeInfo) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.nodes[info.ID] = info
	return nil
}

// Nodes implements Registry.
func (r *MemoryRegistry) Nodes(context.Context) ([]NodeInfo, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]NodeInfo, 0, len(r.nodes))
	for _, n := range r.nodes {
		out = append(out, n)
	}
	SortNodes(out)
	return out, nil
}

// Leave implements Registry.
func (r *MemoryRegistry) Leave(_ context.Context, node string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.nodes, node)
	return nil
}

// SortNodes sorts nodes by id, as Registry.Nodes returns them.
func SortNodes(nodes []NodeInfo) {
	slices.SortFunc(nodes, func(a, b NodeInfo) int { return strings.Compare(a.ID, b.ID) })
}
