package herald

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/heraldhq/herald/internal/testservices"
)

// resumeConfig has a namespace keeping plenty of history, one keeping
// three publications and one keeping none.
func resumeConfig() Config {
	cfg := testConfig()
	cfg.Namespaces["feed"] = ChannelPolicy{Subscribe: AccessAnyone, Publish: AccessAnyone, HistorySize: 20000}
	cfg.Namespaces["short"] = ChannelPolicy{Subscribe: AccessAnyone, Publish: AccessAnyone, HistorySize: 3}
	cfg.Namespaces["bare"] = ChannelPolicy{Subscribe: AccessAnyone, Publish: AccessAnyone}
	return cfg
}

func publishN(t *testing.T, n *Node, ch string, count int) PublishResult {
	t.Helper()
	var last PublishResult
	for i := range count {
		var err error
		if last, err = n.Publish(context.Background(), ch, json.RawMessage(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	return last
}

func since(offset float64, epoch string) map[string]any {
	return map[string]any{"offset": offset, "epoch": epoch}
}

// offsetsOf reads n publications on ch and returns their offsets.
func (c *wsConn) offsetsOf(ch string, n int) []int {
	c.t.Helper()
	out := make([]int, n)
	for i := range out {
		m := c.event("publication")
		if m["channel"] != ch {
			c.t.Fatalf("publication on %v, want %s", m["channel"], ch)
		}
		out[i] = int(m["offset"].(float64))
	}
	return out
}

func TestResumeReplaysWhatWasMissedThenLive(t *testing.T) {
	s := startNode(t, resumeConfig())
	last := publishN(t, s.node, "feed:a", 5)
	c := dialWS(t, s.wsURL(""), nil)
	r := c.ok(map[string]any{"op": "subscribe", "channel": "feed:a", "since": since(2, last.Epoch)})
	if r["recovered"] != true || r["replayed"] != 3.0 || r["offset"] != 5.0 || r["epoch"] != last.Epoch {
		t.Fatalf("resume reply %v", r)
	}
	publishN(t, s.node, "feed:a", 2)
	if got := fmt.Sprint(c.offsetsOf("feed:a", 5)); got != "[3 4 5 6 7]" {
		t.Fatalf("offsets %s, want [3 4 5 6 7]", got)
	}
	c.noEvent("publication", 100*time.Millisecond)
}

func TestResumeNotRecovered(t *testing.T) {
	s := startNode(t, resumeConfig())
	feed := publishN(t, s.node, "feed:b", 5)
	publishN(t, s.node, "short:b", 6)
	bare := publishN(t, s.node, "bare:b", 2)
	c := dialWS(t, s.wsURL(""), nil)

	// Another epoch: nothing replayed, the stream's own position given.
	r := c.ok(map[string]any{"op": "subscribe", "channel": "feed:b", "since": since(2, "0ther")})
	if r["recovered"] != false || r["replayed"] != 0.0 || r["epoch"] != feed.Epoch || r["offset"] != 5.0 {
		t.Fatalf("other epoch: %v", r)
	}
	// Trimmed by size: what is kept is replayed.
	r = c.ok(map[string]any{"op": "subscribe", "channel": "short:b", "since": 1.0, "epoch": feed.Epoch})
	if r["recovered"] != false {
		t.Fatalf("trimmed history: %v", r)
	}
	// History off: the offsets advanced, nothing kept.
	r = c.ok(map[string]any{"op": "subscribe", "channel": "bare:b", "since": since(1, bare.Epoch)})
	if r["recovered"] != false || r["replayed"] != 0.0 || r["offset"] != 2.0 {
		t.Fatalf("history off: %v", r)
	}
	c.noEvent("publication", 100*time.Millisecond)
}

func TestResumeTrimmedBySizeReplaysWhatIsKept(t *testing.T) {
	s := startNode(t, resumeConfig())
	last := publishN(t, s.node, "short:c", 6)
	c := dialWS(t, s.wsURL(""), nil)
	r := c.ok(map[string]any{"op": "subscribe", "channel": "short:c", "since": since(1, last.Epoch)})
	if r["recovered"] != false || r["replayed"] != 3.0 {
		t.Fatalf("reply %v", r)
	}
	if got := fmt.Sprint(c.offsetsOf("short:c", 3)); got != "[4 5 6]" {
		t.Fatalf("offsets %s", got)
	}
}

func TestResumeIsBoundedByRecoveryMax(t *testing.T) {
	cfg := resumeConfig()
	cfg.History.RecoveryMax = 10
	s := startNode(t, cfg)
	last := publishN(t, s.node, "feed:d", 30)
	c := dialWS(t, s.wsURL(""), nil)
	r := c.ok(map[string]any{"op": "subscribe", "channel": "feed:d", "since": since(19, last.Epoch)})
	if r["recovered"] != false || r["replayed"] != 0.0 || r["offset"] != 30.0 {
		t.Fatalf("past the bound: %v", r)
	}
	c.ok(map[string]any{"op": "unsubscribe", "channel": "feed:d"})
	r = c.ok(map[string]any{"op": "subscribe", "channel": "feed:d", "since": since(20, last.Epoch)})
	if r["recovered"] != true || r["replayed"] != 10.0 {
		t.Fatalf("at the bound: %v", r)
	}
}

func TestResumeFromZeroTakesAnyEpoch(t *testing.T) {
	s := startNode(t, resumeConfig())
	publishN(t, s.node, "feed:e", 3)
	c := dialWS(t, s.wsURL(""), nil)
	r := c.ok(map[string]any{"op": "subscribe", "channel": "feed:e", "since": since(0, "")})
	if r["recovered"] != true || r["replayed"] != 3.0 {
		t.Fatalf("reply %v", r)
	}
}

func TestResumeBadSinceIsAClearError(t *testing.T) {
	s := startNode(t, resumeConfig())
	c := dialWS(t, s.wsURL(""), nil)
	msg := c.fails(map[string]any{"op": "subscribe", "channel": "feed:f", "since": "yesterday"}, 400)
	if want := `"since" must be an offset or`; !strings.Contains(msg, want) {
		t.Fatalf("message %q lacks %q", msg, want)
	}
}

// TestManyClientsResume: 1,000 clients drop, 50 messages are published,
// they come back with since and each gets all 50, in order, recovered.
func TestManyClientsResume(t *testing.T) {
	clients, missed := 1000, 50
	if raceDetector {
		clients = 200
	}
	s := startNode(t, resumeConfig())
	first := publishN(t, s.node, "feed:many", 1)
	for range clients {
		c, err := dialLean(s.wsURL(""))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.subscribe("feed:many", nil); err != nil {
			t.Fatal(err)
		}
		c.close()
	}
	publishN(t, s.node, "feed:many", missed)
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- resumeOnce(s.wsURL(""), "feed:many", first.Offset, first.Epoch, missed)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func resumeOnce(url, ch string, after uint64, epoch string, want int) error {
	c, err := dialLean(url)
	if err != nil {
		return err
	}
	defer c.close()
	r, err := c.subscribe(ch, &resumePos{after, epoch})
	if err != nil {
		return err
	}
	if r.Recovered == nil || !*r.Recovered || r.Replayed == nil || *r.Replayed != want {
		return fmt.Errorf("resume reply %+v", r)
	}
	for i := range want {
		off, err := c.nextOffset(ch)
		if err != nil {
			return err
		}
		if off != after+uint64(i)+1 {
			return fmt.Errorf("publication %d has offset %d, want %d", i, off, after+uint64(i)+1)
		}
	}
	return nil
}

// TestResumeSeam: one publisher at full speed while 200 clients keep
// dropping and resuming; every client sees every one of 10,000
// publications once, in order.
func TestResumeSeam(t *testing.T) { resumeSeam(t, func(*Config) {}) }

// On a shared broker the publications reach the node through the
// broker's own connection, not in step with the history reads.
func TestResumeSeamOnRedis(t *testing.T) {
	url := testservices.Redis(t)
	resumeSeam(t, func(c *Config) {
		c.Broker = url
		c.Cluster.Prefix = testservices.Prefix(t, url, "seam")
	})
}

func TestResumeSeamOnNATS(t *testing.T) {
	url := testservices.NATS(t)
	resumeSeam(t, func(c *Config) {
		c.Broker = url
		c.Cluster.Prefix = testservices.Prefix(t, url, "seam")
	})
}

// resumeSeam: one publisher at full speed while clients repeatedly drop
// and resume; every client must see every publication once, in order.
func resumeSeam(t *testing.T, mutate func(*Config)) {
	clients, total := 200, 10000
	if raceDetector {
		clients, total = 40, 2000
	}
	cfg := resumeConfig()
	mutate(&cfg)
	cfg.History.RecoveryMax = total     // a client may fall far behind the publisher
	cfg.Limits.MaxQueueBytes = 64 << 20 // and be sent it all at once
	s := startNode(t, cfg)
	first := publishN(t, s.node, "feed:seam", 1)
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- followWithDrops(s.wsURL(""), "feed:seam", first, total, rand.New(rand.NewPCG(uint64(i), 7)))
		}()
	}
	go func() {
		for i := 1; i < total; i++ {
			if _, err := s.node.Publish(context.Background(), "feed:seam", json.RawMessage(fmt.Sprint(i))); err != nil {
				errs <- err
				return
			}
			if i%50 == 0 {
				time.Sleep(time.Millisecond) // spread the run over the clients' reconnects
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// followWithDrops reads ch up to offset total, dropping the connection
// after a random few publications and resuming from the last one seen.
// A connection that drops by itself is resumed the same way.
func followWithDrops(url, ch string, first PublishResult, total int, rnd *rand.Rand) error {
	last, epoch := first.Offset, first.Epoch
	for drops := 0; last < uint64(total); drops++ {
		if drops > total {
			return fmt.Errorf("%d drops and still at %d", drops, last)
		}
		c, err := dialLean(url)
		if err != nil {
			return err
		}
		err = readSome(c, ch, &last, epoch, 1+rnd.IntN(2000), total)
		c.close()
		if _, broken := errors.AsType[*brokenPromise](err); broken {
			return fmt.Errorf("drop %d: %w", drops, err)
		}
	}
	return nil
}

// readSome resumes ch after *last and reads up to n publications, each
// of which must follow the one before.
func readSome(c *leanConn, ch string, last *uint64, epoch string, n, total int) error {
	r, err := c.subscribe(ch, &resumePos{*last, epoch})
	if err != nil {
		return err
	}
	if r.Recovered == nil || !*r.Recovered {
		return &brokenPromise{fmt.Sprintf("resume from %d not recovered: %+v", *last, r)}
	}
	for ; n > 0 && *last < uint64(total); n-- {
		off, err := c.nextOffset(ch)
		if err != nil {
			return err
		}
		if off != *last+1 {
			return &brokenPromise{fmt.Sprintf("offset %d after %d", off, *last)}
		}
		*last = off
	}
	return nil
}

// brokenPromise is a resume that lost or repeated a publication, as
// opposed to a connection that dropped (which the client resumes).
type brokenPromise struct{ what string }

func (e *brokenPromise) Error() string { return e.what }

// leanConn is a herald-protocol client for load in tests: no goroutine,
// one reader.
type leanConn struct {
	ws      *websocket.Conn
	pending [][]byte
}

type resumePos struct {
	Offset uint64 `json:"offset"`
	Epoch  string `json:"epoch"`
}

type subscribeReply struct {
	Offset    uint64 `json:"offset"`
	Epoch     string `json:"epoch"`
	Recovered *bool  `json:"recovered"`
	Replayed  *int   `json:"replayed"`
}

func dialLean(url string) (*leanConn, error) {
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	ws, _, err := d.Dial(url, nil)
	if err != nil {
		return nil, err
	}
	return &leanConn{ws: ws}, nil
}

func (c *leanConn) close() { _ = c.ws.Close() }

func (c *leanConn) subscribe(ch string, at *resumePos) (subscribeReply, error) {
	cmd := map[string]any{"id": 1, "op": "subscribe", "channel": ch}
	if at != nil {
		cmd["since"] = at
	}
	b, _ := json.Marshal(cmd)
	if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
		return subscribeReply{}, err
	}
	line, err := c.next()
	if err != nil {
		return subscribeReply{}, err
	}
	var m struct {
		ID     int             `json:"id"`
		Type   string          `json:"type"`
		Result *subscribeReply `json:"result"`
		Error  json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(line, &m); err != nil || m.Result == nil {
		return subscribeReply{}, &brokenPromise{fmt.Sprintf("first message after a resuming subscribe is not its reply: %s", line)}
	}
	return *m.Result, nil
}

// nextOffset reads the next publication on ch and returns its offset.
func (c *leanConn) nextOffset(ch string) (uint64, error) {
	line, err := c.next()
	if err != nil {
		return 0, err
	}
	// Read as little as needed: tests read millions of these.
	prefix := `{"type":"publication","channel":"` + ch + `","offset":`
	rest, ok := bytes.CutPrefix(line, []byte(prefix))
	end := bytes.IndexByte(rest, ',')
	if !ok || end < 0 {
		return 0, fmt.Errorf("want a publication on %s, got %s", ch, line)
	}
	return strconv.ParseUint(string(rest[:end]), 10, 64)
}

func (c *leanConn) next() ([]byte, error) {
	for len(c.pending) == 0 {
		_ = c.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, frame, err := c.ws.ReadMessage()
		if err != nil {
			return nil, err
		}
		c.pending = bytes.Split(frame, []byte("\n"))
	}
	line := c.pending[0]
	c.pending = c.pending[1:]
	return line, nil
}
