package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/testservices"
)

// faultClients is how many Go clients a fault test subscribes.
func faultClients() int {
	if raceDetector {
		return 60
	}
	return 300
}

// feedClient is a Go client subscribed to one channel: it records every
// publication delivered, every resume reported and the node of every
// connection.
type feedClient struct {
	c       *client.Client
	mu      sync.Mutex
	pubs    []client.Publication
	resumes []client.Resume
	nodes   []string
}

// dialFeed connects a client to urls[0], the rest being the cluster's
// other nodes to move to, and subscribes it to ch.
func dialFeed(ctx context.Context, urls []string, ch string) (*feedClient, error) {
	f := &feedClient{}
	opts := client.Options{URL: urls[0], URLs: urls[1:], Reconnect: true,
		MinBackoff: 50 * time.Millisecond, MaxBackoff: time.Second,
		OnPublication: func(p client.Publication) { f.mu.Lock(); f.pubs = append(f.pubs, p); f.mu.Unlock() },
		OnResume:      func(_ string, r client.Resume) { f.mu.Lock(); f.resumes = append(f.resumes, r); f.mu.Unlock() },
		OnConnect:     func(i client.ConnectInfo) { f.mu.Lock(); f.nodes = append(f.nodes, i.Node); f.mu.Unlock() },
	}
	c, err := client.Dial(ctx, opts)
	if err != nil {
		return nil, err
	}
	f.c = c
	if _, err := c.Subscribe(ctx, ch); err != nil {
		_ = c.Close()
		return nil, err
	}
	return f, nil
}

// dialFeeds connects n clients subscribed to ch, client i to the node
// urlsFor(i) names first, a few at a time.
func dialFeeds(t *testing.T, n int, ch string, urlsFor func(i int) []string) []*feedClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	feeds := make([]*feedClient, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, 16)
	for i := range feeds {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			f, err := dialFeed(ctx, urlsFor(i), ch)
			feeds[i] = f
			errs <- err
		}()
	}
	for range feeds {
		if err := <-errs; err != nil {
			t.Fatalf("a client did not subscribe: %v", err)
		}
	}
	t.Cleanup(func() {
		for _, f := range feeds {
			_ = f.c.Close()
		}
	})
	return feeds
}

// wsURLs are the nodes' WebSocket endpoints, first's first and the
// others after it in turn.
func (c *cluster) wsURLs(first int) []string {
	urls := make([]string, len(c.addrs))
	for i := range urls {
		urls[i] = "ws://" + c.addrs[(first+i)%len(c.addrs)] + "/ws"
	}
	return urls
}

// kill ends node i as a crash would: SIGKILL, nothing said to anyone.
func (c *cluster) kill(t *testing.T, i int) {
	t.Helper()
	p := c.procs[i].cmd
	if err := p.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.Wait()
}

// ack is a publish answered 200: its data's "i", the node that took it
// and where it landed.
type ack struct {
	i    int
	addr string
	position
}

// feedPublisher publishes {"i": n} on one channel through the HTTP API,
// one publish after another so that their offsets follow their order,
// cycling over the nodes given, and keeps each answer.
type feedPublisher struct {
	ch    string
	addrs []string
	every time.Duration
	// broker names the broker a 503 must name.
	broker string

	mu sync.Mutex
	// answered counts the publishes answered (they go one at a time, so
	// it is the number of the next one).
	answered int
	acked    []ack
	refused  map[int]string // i -> the 503's error
	wrong    []string       // answers that are neither
	stop     chan struct{}
	done     chan struct{}
}

func startPublisher(ch, broker string, every time.Duration, addrs ...string) *feedPublisher {
	p := &feedPublisher{ch: ch, addrs: addrs, every: every, broker: broker, refused: map[int]string{},
		stop: make(chan struct{}), done: make(chan struct{})}
	go p.run()
	return p
}

func (p *feedPublisher) run() {
	defer close(p.done)
	hc := &http.Client{Timeout: 10 * time.Second}
	tick := time.NewTicker(p.every)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-p.stop:
			return
		case <-tick.C:
		}
		p.publish(hc, p.addrs[i%len(p.addrs)], i)
	}
}

// publish posts i and sorts the answer: 200 with its position, or 503
// with a JSON error naming the broker; anything else is wrong.
func (p *feedPublisher) publish(hc *http.Client, addr string, i int) {
	status, body, err := apiPostWith(hc, addr, "/api/publish", fmt.Sprintf(`{"channel":%q,"data":{"i":%d}}`, p.ch, i))
	p.mu.Lock()
	defer p.mu.Unlock()
	var e struct {
		Error string `json:"error"`
	}
	var pos position
	p.answered++
	switch {
	case err != nil:
		p.wrong = append(p.wrong, fmt.Sprintf("publish %d on %s: %v", i, addr, err))
	case status == 200 && json.Unmarshal(body, &pos) == nil && pos.Offset > 0:
		p.acked = append(p.acked, ack{i: i, addr: addr, position: pos})
	case status == 503 && json.Unmarshal(body, &e) == nil &&
		strings.Contains(e.Error, "broker unavailable") && strings.Contains(e.Error, p.broker):
		p.refused[i] = e.Error
	default:
		p.wrong = append(p.wrong, fmt.Sprintf("publish %d on %s: %d %s", i, addr, status, body))
	}
}

// finish stops publishing and returns what was acknowledged and refused.
func (p *feedPublisher) finish(t *testing.T) ([]ack, map[int]string) {
	t.Helper()
	close(p.stop)
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.wrong) > 0 {
		t.Fatalf("%d publishes answered neither 200 nor a 503 naming %s, the first: %s", len(p.wrong), p.broker, p.wrong[0])
	}
	return p.acked, p.refused
}

// acknowledged is how many publishes were answered 200 so far.
func (p *feedPublisher) acknowledged() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.acked)
}

// unanswered is the number of the first publish not answered yet.
func (p *feedPublisher) unanswered() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.answered
}

// waitAcked waits until n more publishes were acknowledged than now.
func (p *feedPublisher) waitAcked(t *testing.T, n int, within time.Duration) {
	t.Helper()
	want := p.acknowledged() + n
	for deadline := time.Now().Add(within); p.acknowledged() < want; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d publishes acknowledged within %v, want %d", p.acknowledged(), within, want)
		}
	}
}

// received is a copy of what f delivered.
func (f *feedClient) received() ([]client.Publication, []client.Resume, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]client.Publication(nil), f.pubs...), append([]client.Resume(nil), f.resumes...),
		append([]string(nil), f.nodes...)
}

// waitDelivered waits until every client delivered the last acknowledged
// publication, then a little more, for a duplicate to show.
func waitDelivered(t *testing.T, feeds []*feedClient, acked []ack) {
	t.Helper()
	if len(acked) == 0 {
		t.Fatal("nothing was acknowledged")
	}
	last := acked[len(acked)-1].position
	deadline := time.Now().Add(20 * time.Second)
	for _, f := range feeds {
		for !f.has(last) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
	}
	time.Sleep(300 * time.Millisecond)
}

func (f *feedClient) has(p position) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.pubs) - 1; i >= 0; i-- {
		if f.pubs[i].Offset == p.Offset && f.pubs[i].Epoch == p.Epoch {
			return true
		}
	}
	return false
}

// checkExactlyOnce fails unless every client delivered every
// acknowledged publication once, in order, and nothing else but
// publications whose publish was refused (a broker that took a publish
// and then lost the connection before answering); it returns how many
// of those the first client delivered. lostFrom, when not negative, is
// the first publish made as a broker that keeps nothing was killed: one
// acknowledged from there on, in the epoch the broker lost, may be
// missing (the broker answered it and died before passing it on), and
// the client is told of the new epoch instead.
func checkExactlyOnce(t *testing.T, feeds []*feedClient, acked []ack, refused map[int]string, lostFrom int) int {
	t.Helper()
	first := 0
	for n, f := range feeds {
		pubs, resumes, nodes := f.received()
		extra, err := sameStream(pubs, acked, refused, lostFrom)
		if err != nil {
			t.Fatalf("client %d (connections on %v, resumes %+v): %v", n, nodes, resumes, err)
		}
		if n == 0 {
			first = extra
		}
	}
	return first
}

// sameStream compares what a client delivered with what was
// acknowledged, and counts the refused publications it delivered too.
func sameStream(pubs []client.Publication, acked []ack, refused map[int]string, lostFrom int) (extra int, err error) {
	next := 0
	for k, p := range pubs {
		var d struct{ I int }
		if err := json.Unmarshal(p.Data, &d); err != nil {
			return extra, fmt.Errorf("delivery %d: %s: %v", k, p.Data, err)
		}
		// Lost with the broker's data: acknowledged at its kill, in the
		// epoch it lost, and this delivery is of the next one.
		for lostFrom >= 0 && next < len(acked) && acked[next].i >= lostFrom && acked[next].Epoch != p.Epoch {
			next++
		}
		if next < len(acked) && d.I == acked[next].i {
			if a := acked[next]; p.Offset != a.Offset || p.Epoch != a.Epoch {
				return extra, fmt.Errorf("publication %d delivered at %d in %s, acknowledged at %d in %s", d.I, p.Offset, p.Epoch, a.Offset, a.Epoch)
			}
			next++
			continue
		}
		switch _, ok := refused[d.I]; {
		case ok:
			extra++
		case next < len(acked):
			return extra, fmt.Errorf("delivery %d is publication %d (offset %d), want %d (offset %d): lost, repeated or out of order",
				k, d.I, p.Offset, acked[next].i, acked[next].Offset)
		default:
			return extra, fmt.Errorf("delivery %d is publication %d (offset %d), after the last acknowledged", k, d.I, p.Offset)
		}
	}
	if next < len(acked) {
		return extra, fmt.Errorf("delivered %d of %d acknowledged publications; the first missing: %d (offset %d)",
			next, len(acked), acked[next].i, acked[next].Offset)
	}
	return extra, nil
}

// nodeDiesMidStream subscribes clients on node 0, publishes on nodes 1
// and 2, kills node 0 mid-stream and checks that every client moved to
// another node, resumed there and delivered every acknowledged
// publication once, in order.
func nodeDiesMidStream(t *testing.T, brokerURL, brokerName string) {
	c := startCluster(t, 3, brokerURL, feedNamespace)
	ch := "feed:live"
	feeds := dialFeeds(t, faultClients(), ch, func(int) []string { return c.wsURLs(0) })
	pub := startPublisher(ch, brokerName, 5*time.Millisecond, c.addrs[1], c.addrs[2])
	pub.waitAcked(t, 100, 20*time.Second)
	c.kill(t, 0)
	pub.waitAcked(t, 200, 20*time.Second)
	acked, refused := pub.finish(t)
	if len(refused) > 0 {
		t.Fatalf("%d publishes refused on live nodes, the broker being up", len(refused))
	}
	waitDelivered(t, feeds, acked)
	checkExactlyOnce(t, feeds, acked, nil, -1)
	for n, f := range feeds {
		_, resumes, nodes := f.received()
		if len(nodes) != 2 || nodes[1] == nodes[0] {
			t.Fatalf("client %d connected to %v, want node 0 then another", n, nodes)
		}
		if len(resumes) != 1 || !resumes[0].Recovered {
			t.Fatalf("client %d resumed %+v, want once, recovered", n, resumes)
		}
	}
	t.Logf("%d clients moved off the killed node and delivered all %d acknowledged publications once, in order",
		len(feeds), len(acked))
}

func TestClusterNodeDiesMidStreamOnRedis(t *testing.T) {
	nodeDiesMidStream(t, testservices.Redis(t), "Redis")
}

func TestClusterNodeDiesMidStreamOnNATS(t *testing.T) {
	nodeDiesMidStream(t, testservices.NATS(t), "NATS")
}
