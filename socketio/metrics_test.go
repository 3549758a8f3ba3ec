package socketio_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/testmetrics"
)

// metric reads one sample from the node's /metrics.
func (n *node) metric(t *testing.T, sample string) float64 {
	return testmetrics.Sample(t, n.srv.URL+"/metrics", sample)
}

// waitMetric waits until sample reaches want; the other transports'
// samples of the same metric must stay at zero.
func waitMetric(t *testing.T, n *node, metric, transport string) {
	t.Helper()
	sample := func(tr string) string { return metric + `{transport="` + tr + `"}` }
	waitUntil(t, sample(transport), func() bool { return n.metric(t, sample(transport)) == 1 })
	for _, other := range []string{"websocket", "socketio_websocket", "socketio_polling"} {
		if other != transport {
			if got := n.metric(t, sample(other)); got != 0 {
				t.Errorf("%s = %v, want 0", sample(other), got)
			}
		}
	}
}

// pollingSession opens a long-polling session and returns its client.
func pollingSession(t *testing.T, n *node) *pollingClient {
	base := n.srv.URL + "/socket.io/?EIO=4&transport=polling"
	open := (&pollingClient{t: t, url: base}).get()
	sid := open[strings.Index(open, `"sid":"`)+7:]
	return &pollingClient{t: t, url: base + "&sid=" + sid[:strings.IndexByte(sid, '"')]}
}

// The transport failures /metrics counts are counted for Socket.IO over
// WebSocket and over long-polling, each under its own transport label
// (herald's protocol's own are in the root package's tests).
func TestTransportFailuresAreCountedForSocketIO(t *testing.T) {
	// A small queue for the slow consumers, which keep the default
	// heartbeat (a short one would end them as unanswered pings first);
	// short pings for the others.
	small := func(c *herald.Config) { c.Limits.MaxQueueBytes = 64 << 10 }
	quick := func(c *herald.Config) {
		c.SocketIO.PingInterval = 100 * time.Millisecond
		c.SocketIO.PingTimeout = 300 * time.Millisecond
	}
	t.Run("slow consumer over WebSocket", func(t *testing.T) {
		n := startNode(t, small)
		c := dialSIO(t, n, "")
		c.mustConnect("/", nil)
		c.emit("/", true, "herald:join", "firehose")
		c.ws.UnderlyingConn().(interface{ SetReadBuffer(int) error }).SetReadBuffer(4096)
		stopReading(c)
		floodUntil(t, n, "firehose", func() bool { return n.metric(t, `herald_slow_consumers_total{transport="socketio_websocket"}`) > 0 })
		waitMetric(t, n, "herald_slow_consumers_total", "socketio_websocket")
	})
	t.Run("slow consumer over polling", func(t *testing.T) {
		n := startNode(t, small)
		p := pollingSession(t, n)
		p.post("40")
		p.get()
		p.post(`42["herald:join","firehose"]`)
		// No GET is waiting: what is published piles up in the session.
		floodUntil(t, n, "firehose", func() bool { return n.metric(t, `herald_slow_consumers_total{transport="socketio_polling"}`) > 0 })
		waitMetric(t, n, "herald_slow_consumers_total", "socketio_polling")
	})
	t.Run("ping timeout over WebSocket", func(t *testing.T) {
		n := startNode(t, quick)
		ws := dialSilent(t, n)
		defer ws.Close()
		waitMetric(t, n, "herald_heartbeat_timeouts_total", "socketio_websocket")
	})
	t.Run("ping timeout over polling", func(t *testing.T) {
		n := startNode(t, quick)
		pollingSession(t, n) // and never polls again: the ping goes unanswered
		waitMetric(t, n, "herald_heartbeat_timeouts_total", "socketio_polling")
	})
	t.Run("a packet that does not decode, over WebSocket", func(t *testing.T) {
		n := startNode(t, quick)
		c := dialSIO(t, n, "")
		c.write(websocket.TextMessage, []byte("4X not a packet"))
		<-c.closed
		waitMetric(t, n, "herald_protocol_errors_total", "socketio_websocket")
	})
	t.Run("a body that does not decode, over polling", func(t *testing.T) {
		n := startNode(t, quick)
		p := pollingSession(t, n)
		resp, err := http.Post(p.url, "text/plain;charset=UTF-8", strings.NewReader("\x1e\x1e"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("a bad payload got %d, want 400", resp.StatusCode)
		}
		waitMetric(t, n, "herald_protocol_errors_total", "socketio_polling")
	})
}

// stopReading makes a test client stop reading its socket, so what the
// server sends piles up.
func stopReading(c *sioClient) {
	c.ws.UnderlyingConn().SetReadDeadline(time.Now()) // the reader goroutine stops
}

// floodUntil publishes 8 KB messages to ch until done reports true.
func floodUntil(t *testing.T, n *node, ch string, done func() bool) {
	t.Helper()
	data := fmt.Sprintf("%q", strings.Repeat("x", 8000))
	for i := 0; i < 20000 && !done(); i++ {
		if _, err := n.Publish(t.Context(), ch, []byte(data)); err != nil {
			t.Fatal(err)
		}
		if i%50 == 49 {
			time.Sleep(5 * time.Millisecond) // let fan-out catch up with the check
		}
	}
	if !done() {
		t.Fatal("no slow consumer after 20000 publications")
	}
}

// dialSilent opens a Socket.IO WebSocket that reads but never answers the
// server's pings.
func dialSilent(t *testing.T, n *node) *websocket.Conn {
	url := "ws" + strings.TrimPrefix(n.srv.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
		}
	}()
	return ws
}
