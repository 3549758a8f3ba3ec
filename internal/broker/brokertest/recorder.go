package brokertest

import (
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/protocol/record"
)

// recorder is a node's EventHandler: it keeps what the broker delivered.
type recorder struct {
	mu      sync.Mutex
	pubs    map[string][]*record.Publication
	joins   map[string][]string // channel -> client ids; leaves prefixed "-"
	users   map[string][]*record.Push
	control [][]byte
	changed chan struct{}
}

func newRecorder() *recorder {
	return &recorder{pubs: map[string][]*record.Publication{}, joins: map[string][]string{},
		users: map[string][]*record.Push{}, changed: make(chan struct{}, 1)}
}

func (r *recorder) poke() {
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

func (r *recorder) HandlePublication(pub *record.Publication) {
	r.mu.Lock()
	r.pubs[pub.Channel] = append(r.pubs[pub.Channel], pub)
	r.mu.Unlock()
	r.poke()
}

func (r *recorder) HandleJoin(ch string, info *record.ClientInfo) {
	r.mu.Lock()
	r.joins[ch] = append(r.joins[ch], info.Client)
	r.mu.Unlock()
	r.poke()
}

func (r *recorder) HandleLeave(ch string, info *record.ClientInfo) {
	r.mu.Lock()
	r.joins[ch] = append(r.joins[ch], "-"+info.Client)
	r.mu.Unlock()
	r.poke()
}

func (r *recorder) HandlePush(m *record.Push) {
	r.mu.Lock()
	r.users[m.User] = append(r.users[m.User], m)
	r.mu.Unlock()
	r.poke()
}

func (r *recorder) HandleControl(data []byte) {
	r.mu.Lock()
	r.control = append(r.control, append([]byte(nil), data...))
	r.mu.Unlock()
	r.poke()
}

// waitFor waits until cond, read under the lock, holds.
func (r *recorder) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		ok := cond()
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.changed:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// publications returns a copy of what ch received.
func (r *recorder) publications(ch string) []*record.Publication {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*record.Publication(nil), r.pubs[ch]...)
}

func (r *recorder) pushes(user string) []*record.Push {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*record.Push(nil), r.users[user]...)
}
