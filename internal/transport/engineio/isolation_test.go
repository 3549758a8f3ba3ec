package engineio

import (
	"bytes"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"

	"github.com/heraldhq/herald/internal/transport/websocket"
)

// Each kind of malformed input closes only the session it came on; every
// other session keeps working.
func TestMalformedInputClosesOnlyItsSession(t *testing.T) {
	ts := startServer(t, Config{MaxPayload: 1000}, websocket.Config{MaxMessageSize: 1000})
	healthyPoll := ts.handshake(t).SID
	healthyWS, healthyWSID := ts.openWS(t)

	// Polling: bad type digit, bad base64, invalid UTF-8, empty body,
	// binary content type, oversized body.
	for _, body := range []string{"9nope", "b!!!", "4\xff\xfe", "", "4a\x1e\x1e4b"} {
		sid := ts.handshake(t).SID
		if status, _ := ts.post(t, sid, body); status != 400 {
			t.Errorf("POST %q: %d", body, status)
		}
		if r := ts.h.waitClose(t, sid); r != ReasonParseError {
			t.Errorf("POST %q: reason %q", body, r)
		}
	}
	sid := ts.handshake(t).SID
	status, _, _ := ts.do(t, "POST", "EIO=4&transport=polling&sid="+sid, stringsReader("4x"), http.Header{"Content-Type": {"application/octet-stream"}})
	if status != 400 || ts.h.waitClose(t, sid) != ReasonTransportError {
		t.Errorf("binary POST: %d", status)
	}

	// WebSocket: bad packets are parse errors; bad UTF-8 text is a
	// WebSocket protocol error.
	for _, frame := range []string{"9nope", "", "bnot base64!"} {
		c, sid := ts.openWS(t)
		write(t, c, frame)
		if r := ts.h.waitClose(t, sid); r != ReasonParseError {
			t.Errorf("frame %q: reason %q", frame, r)
		}
	}
	c, sid := ts.openWS(t)
	_ = c.WriteMessage(gorilla.TextMessage, []byte("4\xff"))
	if code := readClose(t, c); code != websocket.CloseInvalidPayload {
		t.Errorf("invalid UTF-8: close code %d", code)
	}
	if r := ts.h.waitClose(t, sid); r != ReasonTransportError {
		t.Errorf("invalid UTF-8: reason %q", r)
	}

	assertAlive(t, ts, healthyPoll)
	write(t, healthyWS, "4still here")
	if m := ts.h.nextMessage(t); m.sid != healthyWSID || m.data != "still here" {
		t.Fatalf("OnMessage %+v", m)
	}
	if ts.srv.Len() != 2 {
		t.Fatalf("Len %d, want the 2 healthy sessions", ts.srv.Len())
	}
}

// Enqueue shares one frame across WebSocket sessions and one text across
// polling sessions; Flush delivers it.
func TestFanOutEnqueue(t *testing.T) {
	ts := startServer(t, Config{}, websocket.Config{})
	ws1, id1 := ts.openWS(t)
	ws2, id2 := ts.openWS(t)
	pollID := ts.handshake(t).SID
	get := ts.pollAsync(t, pollID)
	ts.waitParked(t, pollID)

	text := []byte(`2["news",1]`)
	frame := TextMessageFrame(text)
	var flush []*Session
	for _, id := range []string{id1, id2, pollID} {
		s := ts.h.session(t, id)
		for range 2 {
			needs, err := s.Enqueue(text, frame)
			if err != nil {
				t.Fatal(err)
			}
			if needs {
				flush = append(flush, s)
			}
		}
	}
	if len(flush) != 3 {
		t.Fatalf("%d sessions asked for a flush, want 3 (once each)", len(flush))
	}
	for _, s := range flush {
		s.Flush()
	}
	for _, c := range []*gorilla.Conn{ws1, ws2} {
		readText(t, c, `42["news",1]`)
		readText(t, c, `42["news",1]`)
	}
	if r := waitPoll(t, get); r.body != "42[\"news\",1]\x1e42[\"news\",1]" {
		t.Fatalf("GET %q", r.body)
	}
}

// CloseAll ends every session: WebSocket ones with 1001, a parked GET
// with a close packet.
func TestCloseAll(t *testing.T) {
	ts := startServer(t, Config{}, websocket.Config{})
	c, wsID := ts.openWS(t)
	pollID := ts.handshake(t).SID
	idleID := ts.handshake(t).SID
	get := ts.pollAsync(t, pollID)
	ts.waitParked(t, pollID)

	ts.srv.CloseAll(ReasonShutdown)
	if code := readClose(t, c); code != websocket.CloseGoingAway {
		t.Fatalf("close code %d", code)
	}
	if r := waitPoll(t, get); r.body != "1" {
		t.Fatalf("parked GET got %q", r.body)
	}
	for _, id := range []string{wsID, pollID, idleID} {
		if r := ts.h.waitClose(t, id); r != ReasonShutdown {
			t.Fatalf("%s: reason %q", id, r)
		}
	}
	if ts.srv.Len() != 0 {
		t.Fatalf("Len %d", ts.srv.Len())
	}
}

// Idle WebSocket sessions hold no goroutine: 1000 of them cost only a
// constant number of goroutines (the HTTP server's and the poller's).
func TestIdleWebSocketSessionsHoldNoGoroutine(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 1000 connections")
	}
	ts := startServer(t, Config{}, websocket.Config{})
	const n = 1000
	base := countGoroutines()
	conns := make([]*gorilla.Conn, 0, n)
	for range n {
		c, resp, err := gorilla.DefaultDialer.Dial(ts.wsURL("EIO=4&transport=websocket"), nil)
		if err != nil {
			t.Fatalf("dial after %d: %v", len(conns), err)
		}
		_ = resp.Body.Close()
		conns = append(conns, c)
		if _, open, err := c.ReadMessage(); err != nil || !bytes.HasPrefix(open, []byte("0{")) {
			t.Fatalf("open packet %q: %v", open, err)
		}
	}
	t.Cleanup(func() {
		for _, c := range conns {
			_ = c.Close()
		}
	})
	eventually(t, "all sessions open", func() bool { return ts.srv.Len() == n })
	// Let HTTP goroutines that handed their connections over exit.
	var delta int
	for range 100 {
		if delta = countGoroutines() - base; delta <= 20 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if delta > 20 {
		t.Fatalf("%d idle WebSocket sessions hold %d goroutines", n, delta)
	}
	t.Logf("%d idle WebSocket sessions: goroutine delta %d", n, delta)
}

func countGoroutines() int {
	runtime.GC()
	return runtime.NumGoroutine()
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }
