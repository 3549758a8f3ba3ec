package socketio_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/heraldhq/herald"
)

// Back-pressure: a Socket.IO polling client that joins a room and stops
// polling holds what is published to it in its session's buffer, which
// counts in the node's fan-out backlog. Past limits.max_node_queue_bytes
// every way of publishing meets back-pressure; once the client polls
// again, the backlog drains and publishing resumes. A subscriber reading
// all along gets every accepted publication and none of the refused ones.

const (
	floodChannel = "flood"
	nodeQueue    = 256 << 10
)

func TestBackPressureRefusesEveryWayOfPublishingAndDrains(t *testing.T) {
	n := startNode(t, func(c *herald.Config) {
		c.Limits.MaxNodeQueueBytes = nodeQueue
		c.Limits.MaxQueueBytes = 64 << 20 // no one is cut as a slow consumer here
	})
	goEntries(n, "/")
	reader := dialCounting(t, n, floodChannel)
	stalled := dialPolling(t, n)
	stalled.post(`421["herald:join","` + floodChannel + `"]`)
	stalled.get() // the join's ack; from here on the client stops polling

	accepted := fillBacklog(t, n, floodChannel, reader)
	checkEveryWayIsRefused(t, n)
	if got := n.metric(t, `herald_backpressure_refusals_total{source="api"}`); got < 1 {
		t.Fatalf("herald_backpressure_refusals_total{source=\"api\"} = %v after refusals", got)
	}
	if got := n.metric(t, `herald_fanout_backlog_bytes`); got <= nodeQueue {
		t.Fatalf("herald_fanout_backlog_bytes = %v while refusing, want past %d", got, nodeQueue)
	}

	// The Go API waits for room instead, Node.Publish and a handler's
	// Socket.To(room).Emit alike: they go ahead once the stalled client
	// polls again and the backlog drains.
	listener := dialHerald(t, n)
	listener.subscribe("waitroom")
	goapi := dialSIO(t, n, "")
	goapi.mustConnect("/", nil)
	goapi.emit("/", false, "go-publish", "waitroom")
	waited := make(chan error, 1)
	go func() {
		_, err := n.Publish(context.Background(), floodChannel, json.RawMessage(`{"seq":"waited"}`))
		waited <- err
	}()
	select {
	case err := <-waited:
		t.Fatalf("Node.Publish returned %v while the node was past its bound; it should wait", err)
	case m := <-listener.msgs:
		t.Fatalf("the handler's emit went out while the node was past its bound: %v", m)
	case <-time.After(200 * time.Millisecond):
	}
	got := stalled.drain(accepted)
	if got < accepted {
		t.Fatalf("the stalled client got %d of the %d accepted publications", got, accepted)
	}
	select {
	case err := <-waited:
		if err != nil {
			t.Fatalf("Node.Publish after the backlog drained: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Node.Publish still waiting 5s after the backlog drained")
	}
	if got := string(listener.publication()); got != `"hello"` {
		t.Fatalf("the handler's emit arrived as %s, want \"hello\"", got)
	}
	n.publish(t, fmt.Sprintf(`{"channel":%q,"data":{"seq":"after"}}`, floodChannel))
	reader.expect(t, accepted+2) // the waited and the after publications too
	// The stalled client holds the last two in its buffer; closing its
	// session drops them, and the count with them.
	stalled.post("1")
	waitUntil(t, "the backlog to come back to zero", func() bool { return n.metric(t, `herald_fanout_backlog_bytes`) == 0 })
}

// fillBacklog publishes 8 KB publications through the HTTP API until they
// are refused once reader has read every accepted one (so what is left
// is the stalled client's), checks the refusal, and returns how many were
// accepted.
func fillBacklog(t *testing.T, n *node, ch string, reader *countingReader) int {
	t.Helper()
	pad := strings.Repeat("x", 8<<10)
	accepted := 0
	for settled := false; ; {
		if accepted > 4*nodeQueue/len(pad) {
			t.Fatalf("%d publications accepted with nobody reading them; the node bound is %d bytes", accepted, nodeQueue)
		}
		status, header, body := n.apiCall(t, "/api/publish", fmt.Sprintf(`{"channel":%q,"data":{"seq":%d,"pad":%q}}`, ch, accepted, pad))
		if status == http.StatusOK {
			accepted, settled = accepted+1, false
			continue
		}
		if status != http.StatusServiceUnavailable || header.Get("Retry-After") != "1" || !strings.Contains(body, "node overloaded") {
			t.Fatalf("publish %d: %d Retry-After=%q %s, want 503 with Retry-After 1 saying the node is overloaded",
				accepted, status, header.Get("Retry-After"), body)
		}
		if settled {
			return accepted
		}
		reader.waitFor(t, accepted)
		settled = true
	}
}

// checkEveryWayIsRefused tries each way of publishing and pushing while
// the node is past its bound.
func checkEveryWayIsRefused(t *testing.T, n *node) {
	t.Helper()
	for path, body := range map[string]string{
		"/api/publish":   `{"channel":"open","data":1}`,
		"/api/broadcast": `{"channels":["open","other"],"data":1}`,
		"/api/push":      `{"user":"alice","event":"note","data":1}`,
	} {
		status, header, resp := n.apiCall(t, path, body)
		if status != http.StatusServiceUnavailable || header.Get("Retry-After") != "1" || !strings.Contains(resp, "node overloaded") {
			t.Errorf("%s: %d Retry-After=%q %s, want 503 saying the node is overloaded", path, status, header.Get("Retry-After"), resp)
		}
	}
	h := dialHerald(t, n)
	if got := h.refusal(`{"op":"publish","channel":"open","data":1}`, 503); !strings.Contains(got, "node overloaded") {
		t.Errorf("herald protocol publish: %q, want a 503 saying the node is overloaded", got)
	}
	builtin := entries(t, n, "", "/", "")[1]
	checkEntries(t, []entry{builtin}, "publish", "open", want{"node overloaded"})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := n.Publish(ctx, "open", json.RawMessage(`1`)); !errors.Is(err, herald.ErrOverloaded) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Node.Publish with a short deadline: %v, want ErrOverloaded and the deadline", err)
	}
	if _, err := n.PushToUser(ctx, "alice", "note", json.RawMessage(`1`)); !errors.Is(err, herald.ErrOverloaded) {
		t.Errorf("Node.PushToUser with an ended context: %v, want ErrOverloaded", err)
	}
}

// apiCall posts body to the server API and returns the answer.
func (n *node) apiCall(t *testing.T, path, body string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", n.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "apikey "+apiKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(raw)
}

// countingReader is a herald-protocol subscriber that reads everything
// and keeps the publications' seq fields, in order.
type countingReader struct {
	mu   sync.Mutex
	seqs []string
	err  error
}

func dialCounting(t *testing.T, n *node, ch string) *countingReader {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(n.srv.URL, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"id":1,"op":"subscribe","channel":"`+ch+`"}`)); err != nil {
		t.Fatal(err)
	}
	r := &countingReader{}
	subscribed := make(chan struct{})
	go r.read(ws, subscribed)
	select {
	case <-subscribed:
	case <-time.After(5 * time.Second):
		t.Fatal("no subscribe reply within 5s")
	}
	return r
}

func (r *countingReader) read(ws *websocket.Conn, subscribed chan struct{}) {
	for {
		_, frame, err := ws.ReadMessage()
		if err != nil {
			r.mu.Lock()
			r.err = err
			r.mu.Unlock()
			return
		}
		for _, line := range strings.Split(string(frame), "\n") {
			var m struct {
				ID   int
				Type string
				Data struct{ Seq any }
			}
			json.Unmarshal([]byte(line), &m)
			switch {
			case m.ID == 1:
				close(subscribed)
			case m.Type == "publication":
				r.mu.Lock()
				r.seqs = append(r.seqs, fmt.Sprint(m.Data.Seq))
				r.mu.Unlock()
			}
		}
	}
}

// waitFor waits until the reader has n publications.
func (r *countingReader) waitFor(t *testing.T, n int) {
	t.Helper()
	waitUntil(t, fmt.Sprintf("the reading subscriber to get %d publications", n), func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.err != nil {
			t.Fatalf("the reading subscriber was cut: %v", r.err)
		}
		return len(r.seqs) >= n
	})
}

// expect waits for n publications and checks they are the accepted ones
// in order: seq 0..n-3, then the two published after the drain.
func (r *countingReader) expect(t *testing.T, n int) {
	t.Helper()
	r.waitFor(t, n)
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, s := range r.seqs[:n-2] {
		if s != fmt.Sprint(i) {
			t.Fatalf("publication %d has seq %s: the reader's stream is not the accepted publications in order", i, s)
		}
	}
	if tail := strings.Join(r.seqs[n-2:], ","); tail != "waited,after" || len(r.seqs) != n {
		t.Fatalf("after the accepted ones the reader got %v, want waited,after and nothing else", r.seqs[n-2:])
	}
}

// drain polls until want flood events have arrived (or 5s pass) and
// returns how many did.
func (c *pollingClient) drain(want int) int {
	c.t.Helper()
	got := 0
	deadline := time.Now().Add(5 * time.Second)
	for got < want && time.Now().Before(deadline) {
		for _, p := range strings.Split(c.get(), "\x1e") {
			if strings.HasPrefix(p, `42["message"`) {
				got++
			}
		}
	}
	return got
}

// Every transport's queued bytes count in the node's backlog: a
// subscriber that stops reading, on herald's protocol or on Socket.IO
// over WebSocket, fills it until publishing is refused, and when it goes
// its bytes leave the count and publishing resumes.
func TestBackPressureCountsEveryTransport(t *testing.T) {
	for name, stall := range map[string]func(t *testing.T, n *node, ch string) *websocket.Conn{
		"herald protocol":     stalledHerald,
		"socket.io websocket": stalledSocketIO,
	} {
		t.Run(name, func(t *testing.T) {
			n := startNode(t, func(c *herald.Config) {
				c.Limits.MaxNodeQueueBytes = nodeQueue
				c.Limits.MaxQueueBytes = 64 << 20
			})
			ws := stall(t, n, floodChannel)
			pad := strings.Repeat("x", 32<<10)
			body := fmt.Sprintf(`{"channel":%q,"data":%q}`, floodChannel, pad)
			// The kernel's socket buffers take some of the backlog while the
			// publisher waits, so a refusal may find it drained below the
			// bound; once the buffers are full, the refusals find the
			// connection's bytes past it.
			for i, backlog := 0, 0.0; backlog <= nodeQueue; i++ {
				if i > 4000 { // 128 MB: far more than the kernel's buffers and the bound
					t.Fatalf("%d publications accepted to a subscriber that reads nothing (backlog %v while refusing)", i, backlog)
				}
				if status, _, _ := n.apiCall(t, "/api/publish", body); status == http.StatusServiceUnavailable {
					backlog = n.metric(t, `herald_fanout_backlog_bytes`)
				}
			}
			ws.Close()
			waitUntil(t, "the backlog to come back to zero", func() bool { return n.metric(t, `herald_fanout_backlog_bytes`) == 0 })
			if status, _, resp := n.apiCall(t, "/api/publish", body); status != http.StatusOK {
				t.Fatalf("publish once the stalled subscriber left: %d %s", status, resp)
			}
		})
	}
}

// smallBufferDialer connects with a small receive buffer, so what a
// client does not read stays on the server's side instead of the
// client's kernel.
var smallBufferDialer = websocket.Dialer{NetDialContext: (&net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
	return c.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
}}).DialContext}

// stalledHerald subscribes a herald-protocol client to ch; it reads
// nothing after the subscribe reply.
func stalledHerald(t *testing.T, n *node, ch string) *websocket.Conn {
	t.Helper()
	ws, _, err := smallBufferDialer.Dial("ws"+strings.TrimPrefix(n.srv.URL, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	ws.WriteMessage(websocket.TextMessage, []byte(`{"id":1,"op":"subscribe","channel":"`+ch+`"}`))
	readUntil(t, ws, `"id":1`)
	return ws
}

// stalledSocketIO joins a Socket.IO socket to room ch of / over
// WebSocket; it reads nothing after the join's ack.
func stalledSocketIO(t *testing.T, n *node, ch string) *websocket.Conn {
	t.Helper()
	ws, _, err := smallBufferDialer.Dial("ws"+strings.TrimPrefix(n.srv.URL, "http")+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	readUntil(t, ws, `"sid"`)
	ws.WriteMessage(websocket.TextMessage, []byte("40"))
	readUntil(t, ws, `40{`)
	ws.WriteMessage(websocket.TextMessage, []byte(`421["herald:join","`+ch+`"]`))
	readUntil(t, ws, `431[`)
	return ws
}

// readUntil reads text messages until one contains want.
func readUntil(t *testing.T, ws *websocket.Conn, want string) {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	defer ws.SetReadDeadline(time.Time{})
	for {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("waiting for %q: %v", want, err)
		}
		if strings.Contains(string(msg), want) {
			return
		}
	}
}
