package engineio

import (
	"errors"
	"strings"
	"testing"

	gorilla "github.com/gorilla/websocket"

	"github.com/heraldhq/herald/internal/transport/websocket"
)

// Binary WebSocket frames are binary message packets, both ways; text
// frames carry the type digit.
func TestWebSocketBinary(t *testing.T) {
	ts := startServer(t, Config{}, websocket.Config{})
	c, sid := ts.openWS(t)
	if err := c.WriteMessage(gorilla.BinaryMessage, []byte{0, 1, 2, 0xff}); err != nil {
		t.Fatal(err)
	}
	if m := ts.h.nextMessage(t); !m.binary || m.data != "\x00\x01\x02\xff" {
		t.Fatalf("OnMessage %+v", m)
	}
	s := ts.h.session(t, sid)
	if err := s.SendBinary([]byte{7, 7}); err != nil {
		t.Fatal(err)
	}
	if text, got := read(t, c); text || got != "\x07\x07" {
		t.Fatalf("binary frame: text=%v %q", text, got)
	}
	// A binary frame is never prefixed, so a leading "4" byte is data.
	_ = c.WriteMessage(gorilla.BinaryMessage, []byte("4x"))
	if m := ts.h.nextMessage(t); !m.binary || m.data != "4x" {
		t.Fatalf("OnMessage %+v", m)
	}
}

// The client's close packet ends a WebSocket session ("transport close").
func TestWebSocketClientClosePacket(t *testing.T) {
	ts := startServer(t, Config{}, websocket.Config{})
	c, sid := ts.openWS(t)
	write(t, c, "1")
	if r := ts.h.waitClose(t, sid); r != ReasonTransportClose {
		t.Fatalf("reason %q", r)
	}
	readClose(t, c)
}

// A WebSocket that just drops ends its session with "transport close".
func TestWebSocketDrop(t *testing.T) {
	ts := startServer(t, Config{}, websocket.Config{})
	c, sid := ts.openWS(t)
	_ = c.UnderlyingConn().Close()
	if r := ts.h.waitClose(t, sid); r != ReasonTransportClose {
		t.Fatalf("reason %q", r)
	}
	eventually(t, "session removed", func() bool { return ts.srv.Len() == 0 })
}

// Server Close on a WebSocket session closes the socket (no "1" packet, as
// the reference's WebSocket.doClose) and reports the given reason.
func TestWebSocketServerClose(t *testing.T) {
	ts := startServer(t, Config{}, websocket.Config{})
	c, sid := ts.openWS(t)
	ts.h.session(t, sid).Close(ReasonForcedClose)
	if code := readClose(t, c); code != 1000 {
		t.Fatalf("close code %d", code)
	}
	if r := ts.h.waitClose(t, sid); r != ReasonForcedClose {
		t.Fatalf("reason %q", r)
	}
}

// maxPayload bounds WebSocket messages through the engine's MaxMessageSize;
// an oversized one is a transport error for that session only.
func TestWebSocketMessageTooBig(t *testing.T) {
	ts := startServer(t, Config{MaxPayload: 1000}, websocket.Config{MaxMessageSize: 1000})
	c, sid := ts.openWS(t)
	other, otherSID := ts.openWS(t)
	write(t, c, "4"+strings.Repeat("x", 1000))
	if code := readClose(t, c); code != websocket.CloseMessageTooBig {
		t.Fatalf("close code %d", code)
	}
	if r := ts.h.waitClose(t, sid); r != ReasonTransportError {
		t.Fatalf("reason %q", r)
	}
	write(t, other, "4fine")
	if m := ts.h.nextMessage(t); m.sid != otherSID || m.data != "fine" {
		t.Fatalf("OnMessage %+v", m)
	}
}

// A handler may close its own session from OnMessage; OnClose still comes
// once, after OnMessage returned.
func TestCloseFromOnMessage(t *testing.T) {
	h := newRecorder()
	inMessage := make(chan bool, 1)
	ts := startServerWith(t, Config{}, websocket.Config{}, &closingRecorder{recorder: h, inMessage: inMessage})
	c, sid := ts.openWS(t)
	write(t, c, "4close me")
	if r := h.waitClose(t, sid); r != ReasonForcedClose {
		t.Fatalf("reason %q", r)
	}
	if <-inMessage {
		t.Fatal("OnClose ran inside OnMessage")
	}
}

// closingRecorder closes the session from OnMessage.
type closingRecorder struct {
	*recorder
	inMessage chan bool
	in        bool
}

func (h *closingRecorder) OnMessage(s *Session, data []byte, binary bool) {
	h.in = true
	s.Close(ReasonForcedClose)
	h.in = false
}

func (h *closingRecorder) OnClose(s *Session, reason string) {
	h.inMessage <- h.in
	h.recorder.OnClose(s, reason)
}

// A WebSocket client that stops reading is cut off once the engine's
// queue limit (MaxQueueBytes, which should equal MaxBufferedBytes) is
// reached: the session closes with "transport error".
func TestWebSocketSlowConsumer(t *testing.T) {
	ts := startServer(t, Config{}, websocket.Config{MaxQueueBytes: 64 << 10})
	_, sid := ts.openWS(t) // never read from again
	s := ts.h.session(t, sid)
	msg := []byte(strings.Repeat("z", 4096))
	var err error
	for i := 0; i < 50000 && err == nil; i++ {
		err = s.SendText(msg)
	}
	if !errors.Is(err, ErrSlowConsumer) {
		t.Fatalf("SendText: %v", err)
	}
	if r := ts.h.waitClose(t, sid); r != ReasonTransportError {
		t.Fatalf("reason %q", r)
	}
}

// Stop releases parked GETs and closes what is left.
func TestStopClosesSessions(t *testing.T) {
	ts := startServer(t, Config{}, websocket.Config{})
	sid := ts.handshake(t).SID
	get := ts.pollAsync(t, sid)
	ts.waitParked(t, sid)
	ts.srv.Stop()
	if r := waitPoll(t, get); r.body != "1" {
		t.Fatalf("parked GET got %q", r.body)
	}
	if r := ts.h.waitClose(t, sid); r != ReasonShutdown {
		t.Fatalf("reason %q", r)
	}
	ts.srv.Stop() // idempotent
}
