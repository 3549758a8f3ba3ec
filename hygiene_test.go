package herald

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// keepsReceiving publishes to a channel a bystander is subscribed to and
// checks it arrives: bad input elsewhere harms nobody else.
func keepsReceiving(t *testing.T, s *testServer, bystander *wsConn, marker string) {
	t.Helper()
	if status, _ := s.api(t, "POST", "/api/publish", fmt.Sprintf(`{"channel":"bystanders","data":%q}`, marker)); status != 200 {
		t.Fatal(status)
	}
	if m := bystander.event("publication"); m["data"] != marker {
		t.Fatalf("bystander got %v", m)
	}
}

func newBystander(t *testing.T, s *testServer) *wsConn {
	c := dialWS(t, s.wsURL(""), nil)
	c.ok(map[string]any{"op": "subscribe", "channel": "bystanders"})
	return c
}

func TestOriginAllowList(t *testing.T) {
	s := startNode(t, testConfig())
	refused := func(origin string) {
		t.Helper()
		_, resp, err := websocket.DefaultDialer.Dial(s.wsURL(""), http.Header{"Origin": {origin}})
		if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("origin %s: want 403, got %v %v", origin, resp, err)
		}
	}
	refused("https://evil.example")
	dialWS(t, s.wsURL(""), http.Header{"Origin": {s.srv.URL}}) // same host is fine
	dialWS(t, s.wsURL(""), nil)                                // no Origin: not a browser

	cfg := testConfig()
	cfg.AllowedOrigins = []string{"https://app.example"}
	s2 := startNode(t, cfg)
	dialWS(t, s2.wsURL(""), http.Header{"Origin": {"https://app.example"}})
	_, resp, err := websocket.DefaultDialer.Dial(s2.wsURL(""), http.Header{"Origin": {"https://other.example"}})
	if err == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("want 403, got %v", err)
	}

	cfg.AllowedOrigins = []string{"*"}
	s3 := startNode(t, cfg)
	dialWS(t, s3.wsURL(""), http.Header{"Origin": {"https://anything.example"}})
	if got := s.metric(t, "herald_origin_rejected_total"); got != 1 {
		t.Fatalf("herald_origin_rejected_total = %v", got)
	}
}

func TestBadInputGetsItsCodeAndHarmsNobody(t *testing.T) {
	cfg := testConfig()
	cfg.Limits.MaxMessageSize = 1024
	s := startNode(t, cfg)
	bystander := newBystander(t, s)

	t.Run("malformed JSON keeps the connection", func(t *testing.T) {
		c := dialWS(t, s.wsURL(""), nil)
		c.sendRaw([]byte(`{"id":1,"op":`))
		if m := <-c.replies; m["error"].(map[string]any)["code"].(float64) != 400 {
			t.Fatal(m)
		}
		c.sendRaw([]byte(`{"id":2,"op":"subscribe","channel":"x","colour":"red"}`))
		m := c.reply(2)
		if !strings.Contains(m["error"].(map[string]any)["message"].(string), "colour") {
			t.Fatalf("unknown field not named: %v", m)
		}
		c.fails(map[string]any{"op": "dance"}, 404)
		c.ok(map[string]any{"op": "ping"}) // still serving
		c.conn.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3})
		if m := <-c.replies; m["error"].(map[string]any)["code"].(float64) != 400 {
			t.Fatal(m)
		}
		c.ok(map[string]any{"op": "ping"})
		keepsReceiving(t, s, bystander, "after malformed")
	})
	t.Run("several commands in one frame get replies in one frame", func(t *testing.T) {
		raw, _, err := websocket.DefaultDialer.Dial(s.wsURL(""), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		raw.WriteMessage(websocket.TextMessage, []byte("{\"id\":1,\"op\":\"ping\"}\n\n{\"id\":2,\"op\":\"subscribe\",\"channel\":\"news\"}\n{\"id\":3,\"op\":\"nope\"}"))
		raw.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, frame, err := raw.ReadMessage()
		lines := strings.Split(string(frame), "\n")
		if err != nil || len(lines) != 3 || !strings.HasPrefix(lines[0], `{"id":1,`) ||
			!strings.HasPrefix(lines[1], `{"id":2,`) || !strings.HasPrefix(lines[2], `{"id":3,"error"`) {
			t.Fatalf("one frame with three replies in order, got %q %v", frame, err)
		}
	})
	t.Run("oversized message closes 1009", func(t *testing.T) {
		c := dialWS(t, s.wsURL(""), nil)
		c.sendRaw([]byte(`{"id":1,"op":"ping","token":"` + strings.Repeat("x", 2000) + `"}`))
		c.closedWith(websocket.CloseMessageTooBig)
		keepsReceiving(t, s, bystander, "after 1009")
	})
	t.Run("invalid UTF-8 closes 1007", func(t *testing.T) {
		c := dialWS(t, s.wsURL(""), nil)
		c.conn.WriteMessage(websocket.TextMessage, []byte{'{', 0xff, 0xfe, '}'})
		c.closedWith(websocket.CloseInvalidFramePayloadData)
		keepsReceiving(t, s, bystander, "after 1007")
	})
	t.Run("protocol violation closes 1002", func(t *testing.T) {
		c := dialWS(t, s.wsURL(""), nil)
		// A continuation frame with nothing to continue, written raw.
		c.conn.UnderlyingConn().Write([]byte{0x80, 0x81, 1, 2, 3, 4, 'x' ^ 1})
		c.closedWith(websocket.CloseProtocolError)
		keepsReceiving(t, s, bystander, "after 1002")
	})
	waitUntil(t, "disconnects counted", func() bool { return s.metric(t, `herald_disconnects_total{code="1002"}`) == 1 })
	for sample, want := range map[string]float64{`herald_protocol_errors_total{transport="websocket"}`: 3,
		`herald_disconnects_total{code="1009"}`: 1, `herald_disconnects_total{code="1007"}`: 1} {
		if got := s.metric(t, sample); got != want {
			t.Errorf("%s = %v, want %v", sample, got, want)
		}
	}
}

func TestRateLimit(t *testing.T) {
	cfg := testConfig()
	cfg.Limits.CommandRate = 0.01 // no token comes back during the test
	cfg.Limits.CommandBurst = 5
	s := startNode(t, cfg)
	bystander := newBystander(t, s)
	c := dialWS(t, s.wsURL(""), nil)
	for range 5 {
		c.ok(map[string]any{"op": "ping"})
	}
	c.fails(map[string]any{"op": "ping"}, 429)
	for range 3 {
		c.fails(map[string]any{"op": "ping"}, 429)
	}
	c.send(map[string]any{"id": 99, "op": "ping"}) // the fifth refusal in a row
	c.disconnectThenClose(websocket.ClosePolicyViolation)
	keepsReceiving(t, s, bystander, "after rate limit")
	if got := s.metric(t, "herald_rate_limited_total"); got != 5 {
		t.Fatalf("herald_rate_limited_total = %v", got)
	}
}

func TestSlowConsumerIsCutOffAndOthersKeepReceiving(t *testing.T) {
	cfg := testConfig()
	cfg.Limits.MaxQueueBytes = 256 << 10
	s := startNode(t, cfg)
	slow := dialWS(t, s.wsURL(""), nil)
	slow.ok(map[string]any{"op": "subscribe", "channel": "firehose"})
	fast := dialWS(t, s.wsURL(""), nil)
	fast.ok(map[string]any{"op": "subscribe", "channel": "firehose"})
	slow.stopReading()

	payload := fmt.Sprintf("%q", strings.Repeat("p", 8000))
	sent := 0
	// Bursts of 10 (80 KB, well under the limit) that the reading client
	// takes in full before the next: only the one that stopped reading
	// falls behind.
	for ; sent < 4000 && s.node.engine.Stats().SlowConsumers.Load() == 0; sent += 10 {
		for range 10 {
			s.node.Publish(context.Background(), "firehose", []byte(payload))
		}
		for range 10 {
			fast.event("publication")
		}
	}
	if s.node.engine.Stats().SlowConsumers.Load() != 1 || s.metric(t, `herald_slow_consumers_total{transport="websocket"}`) != 1 {
		t.Fatalf("no slow consumer after %d publications", sent)
	}
	waitUntil(t, "slow consumer gone", func() bool { return s.node.core.Hub().NumSubscribers("firehose") == 1 })
	// The fast subscriber still gets new publications.
	s.node.Publish(context.Background(), "firehose", []byte(`"last"`))
	for {
		if m := fast.event("publication"); m["data"] == "last" {
			break
		}
	}
}

func TestConnectionLimits(t *testing.T) {
	cfg := testConfig()
	cfg.Limits.MaxConnections = 3
	cfg.Limits.MaxConnectionsPerUser = 2
	s := startNode(t, cfg)
	tok := token(t, "zed", time.Hour)
	a := dialWS(t, s.wsURL("token="+tok), nil)
	a.ok(map[string]any{"op": "ping"})
	b := dialWS(t, s.wsURL("token="+tok), nil)
	b.ok(map[string]any{"op": "ping"})
	third := dialWS(t, s.wsURL("token="+tok), nil)
	third.disconnectThenClose(websocket.CloseTryAgainLater)

	waitUntil(t, "third counted out", func() bool { return s.node.Info().Connections == 2 })
	dialWS(t, s.wsURL(""), nil) // the node's third connection
	_, resp, err := websocket.DefaultDialer.Dial(s.wsURL(""), nil)
	if err == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("want 503 over the node limit, got %v", err)
	}
	a.ok(map[string]any{"op": "ping"}) // the others are untouched
	for _, reason := range []string{"user_limit", "node_limit"} {
		if got := s.metric(t, `herald_connections_rejected_total{reason="`+reason+`"}`); got != 1 {
			t.Errorf("rejected %s = %v", reason, got)
		}
	}
}

func TestHeartbeatDropsUnansweringPeer(t *testing.T) {
	cfg := testConfig()
	cfg.Heartbeat = Heartbeat{Interval: 50 * time.Millisecond, Timeout: time.Second}
	s := startNode(t, cfg)
	live := dialWS(t, s.wsURL(""), nil) // gorilla answers pings while reading
	// A raw TCP peer that completes the handshake and then never reads.
	mute, _, err := websocket.DefaultDialer.Dial(s.wsURL(""), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer mute.Close()
	mute.SetPingHandler(func(string) error { return nil }) // and would not answer anyway
	waitUntil(t, "mute peer dropped", func() bool { return s.node.engine.Stats().HeartbeatTimeouts.Load() == 1 })
	// docs/protocol.md: close 1011 "ping timeout", counted under that code.
	waitUntil(t, "the drop counted as 1011", func() bool { return s.metric(t, `herald_disconnects_total{code="1011"}`) == 1 })
	mute.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, _, err := mute.ReadMessage()
		if err == nil {
			continue
		}
		if !websocket.IsCloseError(err, websocket.CloseInternalServerErr) || !strings.Contains(err.Error(), "ping timeout") {
			t.Fatalf("the mute peer got %v, want close 1011 ping timeout", err)
		}
		break
	}
	time.Sleep(200 * time.Millisecond)
	live.ok(map[string]any{"op": "ping"})
	if s.node.engine.Stats().HeartbeatTimeouts.Load() != 1 || s.metric(t, `herald_heartbeat_timeouts_total{transport="websocket"}`) != 1 {
		t.Fatal("the answering peer timed out too")
	}
	if s.metric(t, `herald_disconnects_total{code="1006"}`) != 0 {
		t.Fatal("the drop was counted as 1006 too")
	}
}

func TestGracefulShutdownSends1001(t *testing.T) {
	s := startNode(t, testConfig())
	var conns []*wsConn
	for range 5 {
		c := dialWS(t, s.wsURL(""), nil)
		c.ok(map[string]any{"op": "ping"})
		conns = append(conns, c)
	}
	ready := func() int {
		resp, err := http.Get(s.srv.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if ready() != 200 {
		t.Fatal("not ready before shutdown")
	}
	done := make(chan error)
	go func() { done <- s.node.Shutdown(context.Background()) }()
	for _, c := range conns {
		c.disconnectThenClose(websocket.CloseGoingAway)
	}
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if ready() != 503 {
		t.Fatal("still ready after shutdown")
	}
	if _, resp, err := websocket.DefaultDialer.Dial(s.wsURL(""), nil); err == nil || resp.StatusCode != 503 {
		t.Fatal("new connections accepted after shutdown")
	}
}

// Shutdown returns only once every connection's close has run to the
// end, the application's OnDisconnect included.
func TestShutdownWaitsForDisconnectHooks(t *testing.T) {
	var done atomic.Int32
	s := startNode(t, testConfig(), WithHooks(Hooks{OnDisconnect: func(context.Context, DisconnectEvent) {
		time.Sleep(50 * time.Millisecond)
		done.Add(1)
	}}))
	for range 3 {
		dialWS(t, s.wsURL(""), nil).ok(map[string]any{"op": "ping"})
	}
	if err := s.node.Shutdown(context.Background()); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if n := done.Load(); n != 3 {
		t.Fatalf("%d of 3 OnDisconnect calls done when Shutdown returned", n)
	}
}
