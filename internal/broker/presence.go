package broker

import (
	"context"
	"sync"

	"github.com/heraldhq/herald/internal/protocol/record"
)

// MemoryPresence keeps presence in this process.
type MemoryPresence struct {
	mu       sync.RWMutex
	channels map[string]map[string]*record.ClientInfo
}

// NewMemoryPresence returns an empty presence store.
func NewMemoryPresence() *MemoryPresence {
	return &MemoryPresence{channels: make(map[string]map[string]*record.ClientInfo)}
}

// AddPresence implements PresenceManager.
func (p *MemoryPresence) AddPresence(_ context.Context, ch string, info *record.ClientInfo) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := p.channels[ch]
	if m == nil {
		m = make(map[string]*record.ClientInfo)
		p.channels[ch] = m
	}
	m[info.Client] = info
	return nil
}

// RemovePresence implements PresenceManager.
func (p *MemoryPresence) RemovePresence(_ context.Context, ch, client string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if m := p.channels[ch]; m != nil {
		delete(m, client)
		if len(m) == 0 {
			delete(p.channels, ch)
		}
	}
	return nil
}

// Presence implements PresenceManager. It returns copies: the entries
// are the connections' own, which they may change once they have left.
func (p *MemoryPresence) Presence(_ context.Context, ch string) (map[string]*record.ClientInfo, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make(map[string]*record.ClientInfo, len(p.channels[ch]))
	for k, v := range p.channels[ch] {
		info := *v
		out[k] = &info
	}
	return out, nil
}
