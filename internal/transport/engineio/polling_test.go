package engineio

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/transport/websocket"
)

// A GET parks until packets are flushed, then returns all of them joined
// by 0x1e; binary ones as "b"+base64.
func TestPollingLongPoll(t *testing.T) {
	ts := startServer(t, Config{}, websocket.Config{})
	sid := ts.handshake(t).SID
	s := ts.h.session(t, sid)

	get := ts.pollAsync(t, sid)
	ts.waitParked(t, sid)
	select {
	case r := <-get:
		t.Fatalf("GET answered before anything was sent: %+v", r)
	case <-time.After(50 * time.Millisecond):
	}
	// Enqueue does not write; Flush releases the GET with everything.
	frame := TextMessageFrame([]byte("2[\"a\"]"))
	if needs, err := s.Enqueue([]byte(`2["a"]`), frame); err != nil || !needs {
		t.Fatalf("Enqueue: needsFlush %v err %v", needs, err)
	}
	if needs, err := s.Enqueue([]byte(`2["b"]`), nil); err != nil || needs {
		t.Fatalf("second Enqueue: needsFlush %v err %v", needs, err)
	}
	select {
	case r := <-get:
		t.Fatalf("Enqueue wrote without Flush: %+v", r)
	case <-time.After(50 * time.Millisecond):
	}
	s.Flush()
	r := waitPoll(t, get)
	if want := "42[\"a\"]\x1e42[\"b\"]"; r.status != 200 || r.body != want {
		t.Fatalf("GET: %d %q, want %q", r.status, r.body, want)
	}
	// Binary travels as "b" + base64.
	get = ts.pollAsync(t, sid)
	ts.waitParked(t, sid)
	if err := s.SendBinary([]byte{1, 2, 3, 4}); err != nil {
		t.Fatal(err)
	}
	if r := waitPoll(t, get); r.body != "bAQIDBA==" {
		t.Fatalf("binary GET: %q", r.body)
	}
	// Packets sent while no GET is parked wait for the next one.
	_ = s.SendText([]byte("x"))
	_ = s.SendText([]byte("y"))
	if status, body := ts.poll(t, sid); status != 200 || body != "4x\x1e4y" {
		t.Fatalf("GET: %d %q", status, body)
	}
	// Text that would forge packets on the client is refused.
	if err := s.SendText([]byte("a\x1e4b")); !errors.Is(err, ErrSeparator) {
		t.Fatalf("SendText with separator: %v", err)
	}
}

// A POST body is decoded and its messages delivered in order; the answer
// is the reference's "ok".
func TestPollingPost(t *testing.T) {
	ts := startServer(t, Config{}, websocket.Config{})
	sid := ts.handshake(t).SID
	status, hdr, body := ts.do(t, "POST", "EIO=4&transport=polling&sid="+sid,
		strings.NewReader("4first\x1e4second\x1ebAQID\x1e6"), nil)
	if status != 200 || body != "ok" || hdr.Get("Content-Type") != "text/html" {
		t.Fatalf("POST: %d %q %q", status, body, hdr.Get("Content-Type"))
	}
	want := []message{{sid, "first", false}, {sid, "second", false}, {sid, "\x01\x02\x03", true}}
	for _, w := range want {
		if got := ts.h.nextMessage(t); got != w {
			t.Fatalf("OnMessage %+v, want %+v", got, w)
		}
	}
}

// A POST larger than MaxPayload gets 413 and closes that session only.
func TestPollingPostTooLarge(t *testing.T) {
	ts := startServer(t, Config{MaxPayload: 100}, websocket.Config{})
	sid := ts.handshake(t).SID
	other := ts.handshake(t).SID
	if status, _ := ts.post(t, sid, "4"+strings.Repeat("x", 99)); status != 200 {
		t.Fatalf("POST at the limit: %d", status)
	}
	ts.h.nextMessage(t)
	if status, _ := ts.post(t, sid, "4"+strings.Repeat("x", 100)); status != 413 {
		t.Fatalf("POST past the limit: %d, want 413", status)
	}
	if r := ts.h.waitClose(t, sid); r != ReasonTransportError {
		t.Fatalf("reason %q", r)
	}
	if status, _ := ts.poll(t, sid); status != 400 {
		t.Fatalf("closed session still polls: %d", status)
	}
	assertAlive(t, ts, other)
}

// A malformed POST gets 400 and closes the session with "parse error".
func TestPollingPostBadPacket(t *testing.T) {
	ts := startServer(t, Config{}, websocket.Config{})
	sid := ts.handshake(t).SID
	get := ts.pollAsync(t, sid)
	ts.waitParked(t, sid)
	if status, body := ts.post(t, sid, "4ok\x1e9bad"); status != 400 || body != `{"code":3,"message":"Bad request"}` {
		t.Fatalf("bad POST: %d %s", status, body)
	}
	if r := ts.h.waitClose(t, sid); r != ReasonParseError {
		t.Fatalf("reason %q", r)
	}
	// The parked GET learns of the close with a close packet.
	if r := waitPoll(t, get); r.body != "1" {
		t.Fatalf("parked GET got %q", r.body)
	}
	select {
	case m := <-ts.h.msgs:
		t.Fatalf("a packet of a rejected payload was delivered: %+v", m)
	default:
	}
}

// A second concurrent GET is refused with 400, and the session closes: the
// first GET gets a close packet.
func TestPollingConcurrentGET(t *testing.T) {
	ts := startServer(t, Config{}, websocket.Config{})
	sid := ts.handshake(t).SID
	first := ts.pollAsync(t, sid)
	ts.waitParked(t, sid)
	if status, body := ts.poll(t, sid); status != 400 || body != "" {
		t.Fatalf("overlapping GET: %d %q", status, body)
	}
	if r := waitPoll(t, first); r.status != 200 || r.body != "1" {
		t.Fatalf("first GET: %d %q", r.status, r.body)
	}
	if r := ts.h.waitClose(t, sid); r != ReasonTransportError {
		t.Fatalf("reason %q", r)
	}
}

// A second concurrent POST is refused with 400 and the session closes.
func TestPollingConcurrentPOST(t *testing.T) {
	ts := startServer(t, Config{}, websocket.Config{})
	sid := ts.handshake(t).SID
	pr, pw := io.Pipe()
	firstDone := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("POST", ts.url("EIO=4&transport=polling&sid="+sid), pr)
		resp, err := ts.client.Do(req)
		if err != nil {
			firstDone <- 0
			return
		}
		resp.Body.Close()
		firstDone <- resp.StatusCode
	}()
	_, _ = pw.Write([]byte("4par")) // the first POST is now being read
	s := ts.h.session(t, sid)
	eventually(t, "POST in progress", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.postActive
	})
	if status, _ := ts.post(t, sid, "4second"); status != 400 {
		t.Fatalf("overlapping POST: %d", status)
	}
	if r := ts.h.waitClose(t, sid); r != ReasonTransportError {
		t.Fatalf("reason %q", r)
	}
	_, _ = pw.Write([]byte("tial"))
	_ = pw.Close()
	<-firstDone
}

// The client's close packet over polling ends the session ("transport
// close") and releases the parked GET with a noop, as Polling.onClose does.
func TestPollingClientClose(t *testing.T) {
	ts := startServer(t, Config{}, websocket.Config{})
	sid := ts.handshake(t).SID
	get := ts.pollAsync(t, sid)
	ts.waitParked(t, sid)
	if status, _ := ts.post(t, sid, "1"); status != 200 {
		t.Fatalf("POST close: %d", status)
	}
	if r := waitPoll(t, get); r.body != "6" {
		t.Fatalf("parked GET got %q", r.body)
	}
	if r := ts.h.waitClose(t, sid); r != ReasonTransportClose {
		t.Fatalf("reason %q", r)
	}
	if ts.srv.Len() != 0 {
		t.Fatalf("Len %d", ts.srv.Len())
	}
}

// A client abandoning its GET is a transport error (the reference's "poll
// connection closed prematurely").
func TestPollingGETAborted(t *testing.T) {
	ts := startServer(t, Config{}, websocket.Config{})
	sid := ts.handshake(t).SID
	ctx, cancel := withCancel(t)
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.url("EIO=4&transport=polling&sid="+sid), nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if resp, err := ts.client.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	ts.waitParked(t, sid)
	cancel()
	<-done
	if r := ts.h.waitClose(t, sid); r != ReasonTransportError {
		t.Fatalf("reason %q", r)
	}
}

// Server-side Close answers a parked GET with a close packet at once.
func TestPollingServerCloseParked(t *testing.T) {
	ts := startServer(t, Config{}, websocket.Config{})
	sid := ts.handshake(t).SID
	get := ts.pollAsync(t, sid)
	ts.waitParked(t, sid)
	ts.h.session(t, sid).Close(ReasonForcedClose)
	if r := waitPoll(t, get); r.body != "1" {
		t.Fatalf("parked GET got %q", r.body)
	}
	if r := ts.h.waitClose(t, sid); r != ReasonForcedClose {
		t.Fatalf("reason %q", r)
	}
}

// Without a parked GET, Close keeps the session until the next GET, which
// gets the queued packets and then the close packet; until then nothing
// more can be sent.
func TestPollingServerCloseDeferred(t *testing.T) {
	ts := startServer(t, Config{}, websocket.Config{})
	sid := ts.handshake(t).SID
	s := ts.h.session(t, sid)
	_ = s.SendText([]byte("bye"))
	s.Close(ReasonForcedClose)
	if !s.Closed() {
		t.Fatal("Closed() false after Close")
	}
	if err := s.SendText([]byte("late")); !errors.Is(err, ErrClosed) {
		t.Fatalf("SendText after Close: %v", err)
	}
	if ts.h.isClosed(sid) {
		t.Fatal("OnClose before the close packet left")
	}
	if status, body := ts.poll(t, sid); status != 200 || body != "4bye\x1e1" {
		t.Fatalf("GET: %d %q", status, body)
	}
	if r := ts.h.waitClose(t, sid); r != ReasonForcedClose {
		t.Fatalf("reason %q", r)
	}
}

// A deferred close gives up after the close timeout if no GET comes.
func TestPollingServerCloseTimeout(t *testing.T) {
	ts := startServer(t, Config{PingInterval: 40 * time.Millisecond, PingTimeout: time.Second}, websocket.Config{})
	ts.srv.closeTimeout = 50 * time.Millisecond
	sid := ts.handshake(t).SID
	ts.h.session(t, sid).Close(ReasonForcedClose)
	if r := ts.h.waitClose(t, sid); r != ReasonForcedClose {
		t.Fatalf("reason %q", r)
	}
	if ts.srv.Len() != 0 {
		t.Fatalf("Len %d", ts.srv.Len())
	}
}

// A polling client that never polls is cut off at MaxBufferedBytes rather
// than allowed to grow memory.
func TestPollingSlowConsumer(t *testing.T) {
	ts := startServer(t, Config{MaxBufferedBytes: 1000}, websocket.Config{})
	sid := ts.handshake(t).SID
	other := ts.handshake(t).SID
	s := ts.h.session(t, sid)
	msg := []byte(strings.Repeat("m", 99))
	var err error
	sent := 0
	for ; sent < 100 && err == nil; sent++ {
		err = s.SendText(msg)
	}
	if !errors.Is(err, ErrSlowConsumer) || sent > 11 {
		t.Fatalf("after %d sends: %v", sent, err)
	}
	if r := ts.h.waitClose(t, sid); r != ReasonTransportError {
		t.Fatalf("reason %q", r)
	}
	s.mu.Lock()
	held := cap(s.buf)
	s.mu.Unlock()
	if held != 0 {
		t.Fatalf("closed session still holds a %d-byte buffer", held)
	}
	assertAlive(t, ts, other)
}

// assertAlive checks that polling session sid still round-trips a message.
func assertAlive(t *testing.T, ts *testServer, sid string) {
	t.Helper()
	if status, _ := ts.post(t, sid, "4ping?"); status != 200 {
		t.Fatalf("session %s POST: %d", sid, status)
	}
	if m := ts.h.nextMessage(t); m.sid != sid || m.data != "ping?" {
		t.Fatalf("session %s: OnMessage %+v", sid, m)
	}
	_ = ts.h.session(t, sid).SendText([]byte("pong!"))
	if status, body := ts.poll(t, sid); status != 200 || body != "4pong!" {
		t.Fatalf("session %s GET: %d %q", sid, status, body)
	}
}
