package socketio_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	herald "github.com/heraldhq/herald"
	sio "github.com/heraldhq/herald/socketio"
)

// A client that stops answering Engine.IO pings loses its socket with
// reason "ping timeout" (docs/socketio.md): over WebSocket the server
// sends close 1000, over long-polling the waiting GET gets a close
// packet. Both are counted under that reason.
func TestPingTimeoutEndsTheSocket(t *testing.T) {
	quick := func(c *herald.Config) {
		c.SocketIO.PingInterval = 100 * time.Millisecond
		c.SocketIO.PingTimeout = 300 * time.Millisecond
	}
	started := func(t *testing.T, mutate func(*herald.Config)) (*node, chan string) {
		n := startNode(t, mutate)
		reasons := make(chan string, 1)
		n.SocketIO().OnDisconnect("/", func(_ *sio.Socket, reason string) { reasons <- reason })
		return n, reasons
	}
	ended := func(t *testing.T, n *node, reasons chan string) {
		t.Helper()
		select {
		case r := <-reasons:
			if r != "ping timeout" {
				t.Fatalf("OnDisconnect reason %q, want ping timeout", r)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the silent client's socket was not disconnected")
		}
		waitUntil(t, "counted", func() bool {
			return n.metric(t, `herald_socketio_disconnects_total{reason="ping timeout"}`) == 1
		})
	}
	t.Run("websocket", func(t *testing.T) {
		n, reasons := started(t, quick)
		url := "ws" + strings.TrimPrefix(n.srv.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
		ws, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		if err := ws.WriteMessage(websocket.TextMessage, []byte("40")); err != nil {
			t.Fatal(err)
		}
		ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		var pinged bool
		for { // read everything, answer nothing
			_, msg, err := ws.ReadMessage()
			if err != nil {
				if !websocket.IsCloseError(err, websocket.CloseNormalClosure) || !pinged {
					t.Fatalf("got %v after ping %v; want pings, then close 1000", err, pinged)
				}
				break
			}
			pinged = pinged || string(msg) == "2"
		}
		ended(t, n, reasons)
	})
	// The WebSocket heartbeat (heartbeat.*) runs under Socket.IO too; when
	// it notices first (its default 25s + 10s is shorter than Engine.IO's
	// 25s + 20s), the close is 1011 and the reason still "ping timeout".
	t.Run("websocket, the WebSocket heartbeat first", func(t *testing.T) {
		n, reasons := started(t, func(c *herald.Config) {
			c.Heartbeat = herald.Heartbeat{Interval: 100 * time.Millisecond, Timeout: 300 * time.Millisecond}
			c.SocketIO.PingInterval, c.SocketIO.PingTimeout = 10*time.Second, 10*time.Second
		})
		url := "ws" + strings.TrimPrefix(n.srv.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
		ws, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		ws.SetPingHandler(func(string) error { return nil }) // no pongs
		if err := ws.WriteMessage(websocket.TextMessage, []byte("40")); err != nil {
			t.Fatal(err)
		}
		ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				if !websocket.IsCloseError(err, websocket.CloseInternalServerErr) {
					t.Fatalf("got %v, want close 1011", err)
				}
				break
			}
		}
		ended(t, n, reasons)
		if got := n.metric(t, `herald_heartbeat_timeouts_total{transport="socketio_websocket"}`); got != 1 {
			t.Fatalf("heartbeat timeouts %v, want 1", got)
		}
	})
	t.Run("polling", func(t *testing.T) {
		n, reasons := started(t, quick)
		p := pollingSession(t, n)
		p.post("40")
		if got := p.get(); !strings.HasPrefix(got, "40") {
			t.Fatalf("connect answer %q", got)
		}
		if got := p.get(); got != "2" {
			t.Fatalf("GET %q, want a ping", got)
		}
		if got := p.get(); got != "1" { // waits: the pong never comes
			t.Fatalf("GET %q at the ping timeout, want a close packet", got)
		}
		ended(t, n, reasons)
	})
}
