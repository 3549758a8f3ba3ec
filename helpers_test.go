package herald

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/testmetrics"
)

const (
	testSecret = "test-secret"
	testAPIKey = "test-api-key"
)

// testConfig is a node with a chat namespace, alerts for servers only,
// tokens and anonymous access.
func testConfig() Config {
	return Config{
		APIKey:         testAPIKey,
		TokenSecret:    testSecret,
		AllowAnonymous: true,
		DefaultChannel: ChannelPolicy{Subscribe: AccessAnyone, Publish: AccessNobody},
		Namespaces: map[string]ChannelPolicy{
			"chat":   {Subscribe: AccessAnyone, Publish: AccessSubscribers, Presence: true, JoinLeave: true, HistorySize: 10},
			"alerts": {Subscribe: AccessAuthenticated, Publish: AccessNobody},
			"open":   {Subscribe: AccessAnyone, Publish: AccessAnyone},
			"authed": {Subscribe: AccessAuthenticated, Publish: AccessAuthenticated},
		},
	}
}

// testServer is a node served over real HTTP.
type testServer struct {
	node *Node
	srv  *httptest.Server
}

func startNode(t *testing.T, cfg Config, opts ...Option) *testServer {
	t.Helper()
	n, err := New(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(n.Handler())
	t.Cleanup(func() {
		_ = n.Shutdown(context.Background())
		srv.Close()
	})
	return &testServer{node: n, srv: srv}
}

func (s *testServer) wsURL(query string) string {
	u := "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/ws"
	if query != "" {
		u += "?" + query
	}
	return u
}

// api calls the server API and decodes the JSON answer.
func (s *testServer) api(t *testing.T, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, s.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "apikey "+testAPIKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: answer is not a JSON object: %q", method, path, raw)
	}
	return resp.StatusCode, out
}

func token(t *testing.T, user string, ttl time.Duration) string {
	t.Helper()
	tok, err := auth.SignHS256(testSecret, auth.TokenOptions{User: user, TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// wsConn is a raw test connection: it sends commands, and sorts what
// arrives into replies (by id) and server messages.
type wsConn struct {
	t    *testing.T
	conn *websocket.Conn
	mu   sync.Mutex
	next uint64
	// replies and events receive every message as it arrives.
	replies chan map[string]any
	events  chan map[string]any
	// closed receives the close error once the connection ends.
	closed chan error
	// done is closed when the test ends, releasing the reader.
	done chan struct{}
	// paused is closed to make the reader stop reading the socket.
	paused chan struct{}
}

func dialWS(t *testing.T, url string, header http.Header) *wsConn {
	t.Helper()
	conn, resp, err := websocket.DefaultDialer.Dial(url, header)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (HTTP %d)", url, err, status)
	}
	c := &wsConn{t: t, conn: conn, replies: make(chan map[string]any, 1024),
		events: make(chan map[string]any, 4096), closed: make(chan error, 1), done: make(chan struct{}), paused: make(chan struct{})}
	go c.read()
	t.Cleanup(func() {
		close(c.done)
		conn.Close()
	})
	return c
}

func (c *wsConn) read() {
	for {
		select {
		case <-c.paused:
			<-c.done
			return
		default:
		}
		_, frame, err := c.conn.ReadMessage()
		if err != nil {
			c.closed <- err
			return
		}
		for _, line := range bytes.Split(frame, []byte("\n")) {
			var m map[string]any
			if json.Unmarshal(line, &m) != nil {
				c.closed <- fmt.Errorf("server sent invalid JSON: %q", line)
				return
			}
			to := c.replies
			if _, ok := m["type"]; ok {
				to = c.events
			}
			select {
			case to <- m:
			case <-c.done:
				return
			}
		}
	}
}

// stopReading makes the connection stop reading its socket, as a slow
// consumer would.
func (c *wsConn) stopReading() {
	close(c.paused)
}

// call sends one command and waits for its reply.
func (c *wsConn) call(cmd map[string]any) map[string]any {
	c.t.Helper()
	c.mu.Lock()
	c.next++
	id := c.next
	c.mu.Unlock()
	cmd["id"] = id
	c.send(cmd)
	return c.reply(id)
}

func (c *wsConn) send(v any) {
	c.t.Helper()
	b, _ := json.Marshal(v)
	c.sendRaw(b)
}

func (c *wsConn) sendRaw(b []byte) {
	c.t.Helper()
	if err := c.conn.WriteMessage(websocket.TextMessage, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *wsConn) reply(id uint64) map[string]any {
	c.t.Helper()
	check := func(m map[string]any) map[string]any {
		if got := uint64(m["id"].(float64)); got != id {
			c.t.Fatalf("reply for id %d, want %d: %v", got, id, m)
		}
		return m
	}
	select {
	case m := <-c.replies:
		return check(m)
	case err := <-c.closed:
		// The reader may have read the reply and then the close before
		// either was taken: a reply already read comes first.
		select {
		case m := <-c.replies:
			c.closed <- err
			return check(m)
		default:
		}
		c.t.Fatalf("connection closed waiting for reply %d: %v", id, err)
	case <-time.After(5 * time.Second):
		c.t.Fatalf("no reply to %d within 5s", id)
	}
	return nil
}

// ok calls and requires a successful reply, returning its result.
func (c *wsConn) ok(cmd map[string]any) map[string]any {
	c.t.Helper()
	m := c.call(cmd)
	if e, bad := m["error"]; bad {
		c.t.Fatalf("%v failed: %v", cmd, e)
	}
	return m["result"].(map[string]any)
}

// fails calls and requires an error reply with code, returning its message.
func (c *wsConn) fails(cmd map[string]any, code int) string {
	c.t.Helper()
	m := c.call(cmd)
	e, bad := m["error"].(map[string]any)
	if !bad || int(e["code"].(float64)) != code {
		c.t.Fatalf("%v: want error %d, got %v", cmd, code, m)
	}
	return e["message"].(string)
}

// event waits for the next server message of type typ, skipping others.
func (c *wsConn) event(typ string) map[string]any {
	c.t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case m := <-c.events:
			if m["type"] == typ {
				return m
			}
		case err := <-c.closed:
			// Messages that arrived before the close may still be queued.
			for {
				select {
				case m := <-c.events:
					if m["type"] == typ {
						c.closed <- err
						return m
					}
					continue
				default:
				}
				break
			}
			c.t.Fatalf("connection closed waiting for %s: %v", typ, err)
		case <-deadline:
			c.t.Fatalf("no %s message within 5s", typ)
		}
	}
}

// noEvent asserts nothing of type typ arrives within d.
func (c *wsConn) noEvent(typ string, d time.Duration) {
	c.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case m := <-c.events:
			if m["type"] == typ {
				c.t.Fatalf("unexpected %s: %v", typ, m)
			}
		case <-deadline:
			return
		}
	}
}

// closedWith waits for the connection to end and checks the close code.
func (c *wsConn) closedWith(code int) {
	c.t.Helper()
	select {
	case err := <-c.closed:
		if !websocket.IsCloseError(err, code) {
			c.t.Fatalf("want close %d, got %v", code, err)
		}
	case <-time.After(5 * time.Second):
		c.t.Fatalf("connection not closed within 5s (want %d)", code)
	}
}

// disconnectThenClose expects a disconnect message with code, then the
// close frame with the same code.
func (c *wsConn) disconnectThenClose(code int) string {
	c.t.Helper()
	m := c.event("disconnect")
	if int(m["code"].(float64)) != code {
		c.t.Fatalf("disconnect code %v, want %d", m["code"], code)
	}
	c.closedWith(code)
	return m["reason"].(string)
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 5s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// metric reads one sample from /metrics, e.g.
// `herald_disconnects_total{code="1009"}`; 0 when absent.
func (s *testServer) metric(t *testing.T, sample string) float64 {
	return testmetrics.Sample(t, s.srv.URL+"/metrics", sample)
}
