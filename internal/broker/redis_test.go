package broker_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/broker/brokertest"
	"github.com/heraldhq/herald/internal/protocol/record"
	"github.com/heraldhq/herald/internal/testservices"
)

const redisTestTTL = time.Second

// redisOptions are a test's: the shared Redis, a prefix of its own,
// short TTLs.
func redisOptions(t testing.TB) broker.RedisOptions {
	url := testservices.Redis(t)
	return broker.RedisOptions{URL: url, Prefix: testPrefix(t, url), PresenceTTL: redisTestTTL, RegistryTTL: redisTestTTL}
}

func TestRedisBackend(t *testing.T) {
	t.Parallel()
	opts := redisOptions(t)
	brokertest.Run(t, brokertest.Setup{
		NewNode: func(t *testing.T) broker.Backend {
			b, err := broker.NewRedisBackend(opts)
			if err != nil {
				t.Fatal(err)
			}
			return b
		},
		MultiNode:   true,
		PresenceTTL: redisTestTTL,
		RegistryTTL: redisTestTTL,
	})
}

// collector is an EventHandler that keeps publications, pushes and
// join/leave events.
type collector struct {
	mu     sync.Mutex
	pubs   []*record.Publication
	pushes []*record.Push
	joins  []string
	ch     chan struct{}
}

func newCollector() *collector { return &collector{ch: make(chan struct{}, 1)} }

func (c *collector) poke() {
	select {
	case c.ch <- struct{}{}:
	default:
	}
}

func (c *collector) HandlePublication(p *record.Publication) {
	c.mu.Lock()
	c.pubs = append(c.pubs, p)
	c.mu.Unlock()
	c.poke()
}

func (c *collector) HandleJoin(ch string, info *record.ClientInfo) {
	c.mu.Lock()
	c.joins = append(c.joins, ch+" "+info.Client+" "+string(info.Info))
	c.mu.Unlock()
	c.poke()
}

func (c *collector) HandleLeave(ch string, info *record.ClientInfo) {
	c.mu.Lock()
	c.joins = append(c.joins, ch+" -"+info.Client)
	c.mu.Unlock()
	c.poke()
}

func (c *collector) HandlePush(p *record.Push) {
	c.mu.Lock()
	c.pushes = append(c.pushes, p)
	c.mu.Unlock()
	c.poke()
}

func (c *collector) HandleControl([]byte) {}

// wait waits until cond, read under the lock, holds.
func (c *collector) wait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		c.mu.Lock()
		ok := cond()
		c.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-c.ch:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// runNode starts a node on opts, delivering to a new collector.
func runNode(t *testing.T, opts broker.RedisOptions) (broker.Backend, *collector) {
	t.Helper()
	b := newRedisBackend(t, opts)
	c := newCollector()
	if err := b.Broker.Run("node-"+uniqueName(), c); err != nil {
		t.Fatal(err)
	}
	return b, c
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// binaryExtension is a Socket.IO extension as its layer encodes one, with
// an attachment holding every byte value: nothing on the way may treat
// the record as text.
func binaryExtension() record.RawExtension {
	attachment := make([]byte, 256)
	for i := range attachment {
		attachment[i] = byte(i)
	}
	v := []byte{0x0a, 0x04, 'c', 'h', 'a', 't', 0x12, 0x07, '"', 'h', 'e', 'l', 'l', 'o', '"', 0x1a, 0x80, 0x02}
	v = append(v, attachment...)
	return record.RawExtension{Kind: record.ExtSocketIO, Value: append(v, 0x28, 0x01)}
}

// TestRedisRecordsCrossByteForByte sends records with a binary
// extension, a large payload and publisher info through pub/sub and
// history, on channels whose names hold what keys and topics might trip
// on.
func TestRedisRecordsCrossByteForByte(t *testing.T) {
	opts := redisOptions(t)
	a, _ := runNode(t, opts)
	b, got := runNode(t, opts)
	large := []byte(`{"blob":"` + strings.Repeat("x🙂,:{}", 200000) + `"}`) // ~2 MB
	cases := []struct {
		name string
		pub  *record.Publication
	}{
		{"socket.io extension", &record.Publication{Data: []byte(`[1, "two"]`), Ext: binaryExtension(),
			Info: &record.ClientInfo{Client: "c1", User: "u1", Info: []byte(`{"name": "Ann"}`)}}},
		{"large payload", &record.Publication{Data: large}},
		{"no data", &record.Publication{}},
	}
	names := []string{"with spaces here", "ünïcödé/頻道", "colons:a:b:c", "braces}{x}", "}leading", "comma,p1,e,", "%d %s"}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, name := range names {
				in := *c.pub
				in.Channel = name + " " + uniqueName()
				crossOnce(t, a, b, got, &in)
			}
		})
	}
}

// crossOnce publishes in from a and checks b receives it, and reads it
// back from history, as it was sent.
func crossOnce(t *testing.T, a, b broker.Backend, got *collector, in *record.Publication) {
	t.Helper()
	if err := b.Broker.Subscribe(testCtx(t), in.Channel); err != nil {
		t.Fatal(err)
	}
	got.mu.Lock()
	before := len(got.pubs)
	got.mu.Unlock()
	pos, err := a.Broker.Publish(testCtx(t), in, broker.PublishOptions{HistorySize: 10})
	if err != nil {
		t.Fatal(err)
	}
	got.wait(t, "the publication", func() bool { return len(got.pubs) > before })
	hist, _, err := b.Broker.History(testCtx(t), in.Channel, broker.HistoryOptions{})
	if err != nil || len(hist) != 1 {
		t.Fatalf("history of %q: %d publications, %v", in.Channel, len(hist), err)
	}
	got.mu.Lock()
	delivered := got.pubs[before]
	got.mu.Unlock()
	for _, p := range []*record.Publication{delivered, hist[0]} {
		samePublication(t, p, in, pos)
	}
}

func sameInfo(a, b *record.ClientInfo) bool {
	return a.Client == b.Client && a.User == b.User && bytes.Equal(a.Info, b.Info)
}

func samePublication(t *testing.T, got, want *record.Publication, pos broker.StreamPosition) {
	t.Helper()
	if got.Channel != want.Channel || got.Offset != pos.Offset || got.Epoch != pos.Epoch || got.Time != want.Time {
		t.Fatalf("arrived as %q %d %q %d, want %q %+v %d", got.Channel, got.Offset, got.Epoch, got.Time, want.Channel, pos, want.Time)
	}
	if !bytes.Equal(got.Data, want.Data) {
		t.Fatalf("data arrived as %d bytes, want %d", len(got.Data), len(want.Data))
	}
	if (got.Info == nil) != (want.Info == nil) || got.Info != nil && !sameInfo(got.Info, want.Info) {
		t.Fatalf("publisher arrived as %+v, want %+v", got.Info, want.Info)
	}
	if want.Ext == nil {
		if got.Ext != nil {
			t.Fatalf("an extension appeared: %v", got.Ext)
		}
		return
	}
	raw, _ := got.Ext.AppendBinary(nil)
	wantRaw, _ := want.Ext.AppendBinary(nil)
	if got.Ext.ExtensionKind() != want.Ext.ExtensionKind() || !bytes.Equal(raw, wantRaw) {
		t.Fatalf("extension arrived as %x, want %x", raw, wantRaw)
	}
}

// TestRedisOddNames uses names with spaces, unicode, colons and braces
// for channels, users and presence.
func TestRedisOddNames(t *testing.T) {
	opts := redisOptions(t)
	a, _ := runNode(t, opts)
	b, got := runNode(t, opts)
	for _, name := range []string{"a b", "頻道 🙂", "x:c:y", "{tag}", "a}b{c", ""} {
		ch, user := "ch "+name+uniqueName(), "user "+name+uniqueName()
		if err := b.Broker.Subscribe(testCtx(t), ch); err != nil {
			t.Fatal(err)
		}
		if err := b.Broker.SubscribeUser(testCtx(t), user); err != nil {
			t.Fatal(err)
		}
		info := &record.ClientInfo{Client: "client " + name, Info: []byte(`{ "spaced" : true }`)}
		if err := a.Broker.PublishJoin(testCtx(t), ch, info); err != nil {
			t.Fatal(err)
		}
		if err := a.Broker.PublishPush(testCtx(t), &record.Push{User: user, Event: "e " + name, Data: []byte(`{ "n": 1 }`)}); err != nil {
			t.Fatal(err)
		}
		wantJoin := ch + " " + info.Client + " " + string(info.Info)
		got.wait(t, "the join "+wantJoin, func() bool { return len(got.joins) > 0 && got.joins[len(got.joins)-1] == wantJoin })
		got.wait(t, "the push to "+user, func() bool {
			n := len(got.pushes)
			return n > 0 && got.pushes[n-1].User == user && got.pushes[n-1].Event == "e "+name && string(got.pushes[n-1].Data) == `{ "n": 1 }`
		})
		if err := a.Presence.AddPresence(testCtx(t), ch, info); err != nil {
			t.Fatal(err)
		}
		m, err := b.Presence.Presence(testCtx(t), ch)
		if err != nil || len(m) != 1 || m[info.Client] == nil || string(m[info.Client].Info) != string(info.Info) {
			t.Fatalf("presence of %q: %v, %v", ch, m, err)
		}
	}
}

// TestRedisControlToMissingNode: Redis counts the receivers, so a node
// nobody listens for is reported.
func TestRedisControlToMissingNode(t *testing.T) {
	a, _ := runNode(t, redisOptions(t))
	err := a.Broker.Control(testCtx(t), "nobody-"+uniqueName(), []byte("x"))
	if !errors.Is(err, broker.ErrNoSuchNode) {
		t.Fatalf("control to a node nobody runs: %v, want ErrNoSuchNode", err)
	}
}

func TestRedisClosed(t *testing.T) {
	a, _ := runNode(t, redisOptions(t))
	if err := a.Broker.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := a.Broker.Publish(testCtx(t), &record.Publication{Channel: "c"}, broker.PublishOptions{})
	if !errors.Is(err, broker.ErrClosed) {
		t.Fatalf("publish after Close: %v, want ErrClosed", err)
	}
	if err := a.Broker.Subscribe(testCtx(t), "c"); !errors.Is(err, broker.ErrClosed) {
		t.Fatalf("subscribe after Close: %v, want ErrClosed", err)
	}
}

func TestRedisOptionsRefused(t *testing.T) {
	for _, opts := range []broker.RedisOptions{
		{URL: "http://127.0.0.1:6379"},
		{URL: "redis://127.0.0.1:6379", Prefix: "a{b}"},
		{URL: "redis://127.0.0.1:6379/notanumber"},
	} {
		if b, err := broker.NewRedisBackend(opts); err == nil {
			_ = b.Broker.Close()
			t.Fatalf("%+v was accepted", opts)
		}
	}
}

// BenchmarkRedisPublish publishes 200-byte records to 1,000 channels from
// 32 goroutines per CPU, keeping 100 each, with one node subscribed to
// all; it ends when that node has received every one.
func BenchmarkRedisPublish(b *testing.B) {
	opts := redisOptions(b)
	pub := newRedisBackend(b, opts)
	if err := pub.Broker.Run("bench-"+uniqueName(), newCollector()); err != nil {
		b.Fatal(err)
	}
	sub := newRedisBackend(b, opts)
	got := &counter{}
	if err := sub.Broker.Run("bench-"+uniqueName(), got); err != nil {
		b.Fatal(err)
	}
	const channels = 1000
	names := make([]string, channels)
	for i := range names {
		names[i] = fmt.Sprintf("bench-%d", i)
		if err := sub.Broker.Subscribe(context.Background(), names[i]); err != nil {
			b.Fatal(err)
		}
	}
	data := []byte(`"` + strings.Repeat("x", 180) + `"`)
	var next sync.Mutex
	i := 0
	b.ReportAllocs()
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			next.Lock()
			ch := names[i%channels]
			i++
			next.Unlock()
			p := &record.Publication{Channel: ch, Data: data}
			if _, err := pub.Broker.Publish(context.Background(), p, broker.PublishOptions{HistorySize: 100}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	// The subscribed node's deliveries are part of the work.
	for deadline := time.Now().Add(30 * time.Second); got.count() < b.N; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("the subscribed node received %d of %d", got.count(), b.N)
		}
	}
}

// counter is an EventHandler that only counts publications.
type counter struct {
	mu sync.Mutex
	n  int
}

func (c *counter) HandlePublication(*record.Publication) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
}
func (c *counter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func (c *counter) HandleJoin(string, *record.ClientInfo)  {}
func (c *counter) HandleLeave(string, *record.ClientInfo) {}
func (c *counter) HandlePush(*record.Push)                {}
func (c *counter) HandleControl([]byte)                   {}
