package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/heraldhq/herald/client"
)

// fakeServer runs script on each connection, for behaviour a real node
// does not show on demand (a drop while a call waits, odd framing).
func fakeServer(t *testing.T, script func(conn *websocket.Conn)) string {
	t.Helper()
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		script(conn)
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

func expectCommand(t *testing.T, conn *websocket.Conn, want string) {
	t.Helper()
	_, data, err := conn.ReadMessage()
	if err != nil || !strings.Contains(string(data), want) {
		t.Errorf("server read %s, %v; want %s", data, err, want)
	}
}

func TestPendingCallsFailOnDrop(t *testing.T) {
	url := fakeServer(t, func(conn *websocket.Conn) {
		expectCommand(t, conn, `{"id":1,"op":"connect"}`)
		// Several messages in one frame, the reply among them.
		_ = conn.WriteMessage(websocket.TextMessage, []byte(
			`{"type":"push","event":"early","data":1}`+"\n"+
				`{"id":1,"result":{"client":"n-1","node":"n","version":"v"}}`+"\n\n"+
				`{"type":"publication","channel":"c","offset":7,"data":"x"}`+"\n"))
		expectCommand(t, conn, `"op":"ping"`)
		// Drop without answering: no close frame.
		_ = conn.NetConn().Close()
	})
	r := newRecorder()
	c := dial(t, r, client.Options{URL: url})
	// OnConnect comes first; what arrived while connecting follows, in order.
	if ci, ok := (<-r.ch).(client.ConnectInfo); !ok || ci.Client != "n-1" {
		t.Fatalf("first event %+v, want the connect info", ci)
	}
	if p, ok := (<-r.ch).(client.Push); !ok || p.Event != "early" {
		t.Fatalf("second event %+v, want the push", p)
	}
	if p, ok := (<-r.ch).(client.Publication); !ok || p.Offset != 7 || string(p.Data) != `"x"` {
		t.Fatalf("third event %+v, want the publication", p)
	}
	_, err := c.Ping(context.Background())
	var de *client.DisconnectError
	if !errors.As(err, &de) || de.Code != 1006 {
		t.Fatalf("Ping cut short: %v, want a DisconnectError 1006", err)
	}
	if d := waitFor[disconnectEvent](t, r, nil); d.Code != 1006 || d.Again {
		t.Fatalf("disconnect = %+v", d)
	}
	<-c.Done()
}

// The disconnect message's reason is kept when the close frame has none.
func TestDisconnectNoticeReason(t *testing.T) {
	url := fakeServer(t, func(conn *websocket.Conn) {
		expectCommand(t, conn, `"op":"connect"`)
		_ = conn.WriteMessage(websocket.TextMessage, []byte(`{"id":1,"result":{"client":"n-1"}}`))
		_ = conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"disconnect","code":4003,"reason":"go away"}`))
		_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4003, ""), time.Now().Add(time.Second))
		_, _, _ = conn.ReadMessage() // the client's close answer
	})
	r := newRecorder()
	c := dial(t, r, client.Options{URL: url, Reconnect: true})
	if d := waitFor[disconnectEvent](t, r, nil); d != (disconnectEvent{4003, "go away", false}) {
		t.Fatalf("disconnect = %+v", d)
	}
	<-c.Done()
}

// Dial gives up when its context ends before the connect reply.
func TestDialContext(t *testing.T) {
	release := make(chan struct{})
	url := fakeServer(t, func(conn *websocket.Conn) { <-release })
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := client.Dial(ctx, client.Options{URL: url}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Dial = %v, want the context's error", err)
	}
}

// A half-open connection reports no error: only silence shows it is dead.
func TestSilentConnectionIsTakenForDead(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	url := fakeServer(t, func(conn *websocket.Conn) {
		expectCommand(t, conn, `"op":"connect"`)
		_ = conn.WriteMessage(websocket.TextMessage, []byte(`{"id":1,"result":{"client":"n-1","node":"n","version":"v"}}`))
		<-release // then nothing, not even pings
	})
	r := newRecorder()
	c := dial(t, r, client.Options{URL: url, ReadTimeout: 200 * time.Millisecond})
	<-r.ch // connect info
	start := time.Now()
	if d := waitFor[disconnectEvent](t, r, nil); d.Code != 1006 {
		t.Fatalf("disconnect = %+v", d)
	}
	if waited := time.Since(start); waited > 3*time.Second {
		t.Fatalf("took %v to notice", waited)
	}
	<-c.Done()
}
