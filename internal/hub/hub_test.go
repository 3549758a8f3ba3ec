package hub

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/protocol/record"
)

// recorder is a subscriber that keeps what it is given, and counts
// flushes the way a connection's writer would see them.
type recorder struct {
	mu      sync.Mutex
	queued  []*Message
	pending bool
	got     []*Message
	flushes atomic.Int64
}

// plain is a format that encodes every message as its offset.
type plain struct{ calls atomic.Int64 }

func (p *plain) Encode(m *Message) any { p.calls.Add(1); return m }

var recorded = &plain{}

func (r *recorder) Format() Format { return recorded }

func (r *recorder) Deliver(m *Message, _ any) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.queued = append(r.queued, m)
	first := !r.pending
	r.pending = true
	return first
}

func (r *recorder) Flush() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, r.queued...)
	r.queued, r.pending = nil, false
	r.flushes.Add(1)
}

// waiting is how many messages are queued and not flushed.
func (r *recorder) waiting() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.queued)
}

func (r *recorder) received() []*Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*Message(nil), r.got...)
}

func pub(ch string, n int) *Message {
	return &Message{Kind: KindPublication, Channel: ch, Pub: &record.Publication{Channel: ch, Offset: uint64(n)}}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestSubscribeUnsubscribeCounts(t *testing.T) {
	h := New()
	defer h.Close()
	a, b := &recorder{}, &recorder{}
	if !h.Subscribe("c", a) || h.Subscribe("c", b) || h.Subscribe("c", a) {
		t.Fatal("first-subscriber reporting is wrong")
	}
	if h.NumSubscribers("c") != 2 || h.NumChannels() != 1 {
		t.Fatal(h.NumSubscribers("c"), h.NumChannels())
	}
	if h.Unsubscribe("c", a) || h.Unsubscribe("c", a) || !h.Unsubscribe("c", b) {
		t.Fatal("last-subscriber reporting is wrong")
	}
	if h.NumChannels() != 0 || len(h.Channels()) != 0 {
		t.Fatal("empty channel kept")
	}
}

func TestBroadcastKeepsOrderPerChannelAndReachesOnlySubscribers(t *testing.T) {
	h := New()
	defer h.Close()
	subs := make([]*recorder, 5)
	for i := range subs {
		subs[i] = &recorder{}
		h.Subscribe("c", subs[i])
	}
	outsider := &recorder{}
	h.Subscribe("other", outsider)
	const n = 1000
	for i := 1; i <= n; i++ {
		h.Broadcast(pub("c", i))
	}
	for _, s := range subs {
		waitFor(t, func() bool { return len(s.received()) == n })
		for i, m := range s.received() {
			if m.Pub.Offset != uint64(i+1) {
				t.Fatalf("message %d has offset %d", i, m.Pub.Offset)
			}
		}
	}
	if len(outsider.received()) != 0 {
		t.Fatal("a subscriber of another channel got messages")
	}
	if h.Delivered() != 5*n {
		t.Fatalf("delivered %d", h.Delivered())
	}
}

// gated is a subscriber whose first flush blocks until released, like a
// write stuck on a slow socket.
type gated struct {
	recorder
	gate chan struct{}
	once sync.Once
}

func (g *gated) Flush() {
	g.once.Do(func() { <-g.gate })
	g.recorder.Flush()
}

func TestMessagesQueuedDuringAWriteLeaveInTheNextOne(t *testing.T) {
	h := New()
	defer h.Close()
	g := &gated{gate: make(chan struct{})}
	h.Subscribe("c", g)
	h.Broadcast(pub("c", 1))
	waitFor(t, func() bool { return g.waiting() == 1 }) // its first flush is now stuck
	for i := 2; i <= 100; i++ {
		h.Broadcast(pub("c", i))
	}
	waitFor(t, func() bool { return g.waiting() == 100 })
	close(g.gate)
	waitFor(t, func() bool { return len(g.received()) == 100 })
	if f := g.flushes.Load(); f > 3 {
		t.Fatalf("%d flushes for 100 messages queued behind one write", f)
	}
}

func TestUsers(t *testing.T) {
	h := New()
	defer h.Close()
	a1, a2, b := &recorder{}, &recorder{}, &recorder{}
	if h.AddUser("alice", a1) != 1 || h.AddUser("alice", a2) != 2 || h.AddUser("bob", b) != 1 {
		t.Fatal("counts")
	}
	m := &Message{Kind: KindPush, Push: &record.Push{User: "alice", Event: "e"}}
	if n := h.SendTo(h.UserConns("alice"), m); n != 2 {
		t.Fatal(n)
	}
	waitFor(t, func() bool { return len(a1.received()) == 1 && len(a2.received()) == 1 })
	if len(b.received()) != 0 {
		t.Fatal("push went to the wrong connections")
	}
	h.RemoveUser("alice", a1)
	h.RemoveUser("alice", a2)
	if h.NumUserConns("alice") != 0 || h.NumUsers() != 1 {
		t.Fatal("user not forgotten")
	}
}

// formatted is a subscriber that records what it is handed.
type formatted struct {
	f   Format
	got chan any
}

func (s *formatted) Format() Format                 { return s.f }
func (s *formatted) Deliver(_ *Message, v any) bool { s.got <- v; return false }
func (s *formatted) Flush()                         {}

// Fan-out encodes a message once per format, however many subscribers
// take that format, and hands each subscriber its format's encoding.
func TestEncodedOncePerFormat(t *testing.T) {
	h := New()
	defer h.Close()
	formats := make([]*plain, maxEncodings+2) // more formats than shared encodings
	var subs []*formatted
	for i := range formats {
		formats[i] = &plain{}
		for range 10 {
			s := &formatted{f: formats[i], got: make(chan any, 1)}
			subs = append(subs, s)
			h.Subscribe("c", s)
		}
	}
	m := pub("c", 1)
	h.Broadcast(m)
	for _, s := range subs {
		if v := <-s.got; v != m {
			t.Fatalf("handed %v", v)
		}
	}
	for i, f := range formats {
		want := int64(1)
		if i >= maxEncodings {
			want = 10 // past the shared ones, encoded per subscriber
		}
		if got := f.calls.Load(); got != want {
			t.Errorf("format %d encoded %d times, want %d", i, got, want)
		}
	}
}

// counter is the cheapest subscriber: it measures the hub's own cost.
type counter struct {
	n       atomic.Int64
	pending atomic.Bool
}

func (c *counter) Format() Format             { return recorded }
func (c *counter) Deliver(*Message, any) bool { c.n.Add(1); return !c.pending.Swap(true) }
func (c *counter) Flush()                     { c.pending.Store(false) }

// BenchmarkFanout measures delivering to 10,000 subscribers of one
// channel, without sockets: the hub's share of fan-out. Report is per
// delivery.
func BenchmarkFanout(b *testing.B) {
	for _, subs := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("subs=%d", subs), func(b *testing.B) {
			h := New()
			defer h.Close()
			cs := make([]*counter, subs)
			for i := range cs {
				cs[i] = &counter{}
				h.Subscribe("bench", cs[i])
			}
			b.ResetTimer()
			for i := range b.N {
				h.Broadcast(pub("bench", i))
			}
			want := int64(b.N)
			for _, c := range cs {
				for c.n.Load() < want {
					time.Sleep(50 * time.Microsecond)
				}
			}
			b.ReportMetric(float64(b.N)*float64(subs)/b.Elapsed().Seconds(), "deliveries/s")
		})
	}
}
