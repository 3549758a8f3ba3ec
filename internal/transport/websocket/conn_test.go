package websocket

import (
	"bufio"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"
	gorilla "github.com/gorilla/websocket"
)

// echoHandler sends every message back and records how connections end.
type echoHandler struct {
	mu     sync.Mutex
	closed []int
	done   chan int
}

func newEchoHandler() *echoHandler { return &echoHandler{done: make(chan int, 16)} }

func (h *echoHandler) OnMessage(c *Conn, text bool, p []byte) {
	if text {
		_ = c.Send(TextFrame(p))
	} else {
		_ = c.Send(BinaryFrame(p))
	}
}

func (h *echoHandler) Farewell(int, string) []byte { return nil }

func (h *echoHandler) OnClose(_ *Conn, code int, _ string) {
	h.mu.Lock()
	h.closed = append(h.closed, code)
	h.mu.Unlock()
	h.done <- code
}

// server runs an Engine behind an httptest server; conns receives each
// upgraded connection.
type server struct {
	*httptest.Server
	engine *Engine
	conns  chan *Conn
}

func startServer(t *testing.T, cfg Config, h Handler, tlsServer bool) *server {
	t.Helper()
	e, err := NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &server{engine: e, conns: make(chan *Conn, 16)}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := e.Upgrade(w, r, h)
		if err == nil {
			s.conns <- c
		}
	})
	if tlsServer {
		s.Server = httptest.NewTLSServer(handler)
	} else {
		s.Server = httptest.NewServer(handler)
	}
	t.Cleanup(func() { s.Close(); e.Stop() })
	return s
}

func (s *server) url() string { return "ws" + strings.TrimPrefix(s.URL, "http") }

func dial(t *testing.T, s *server) *gorilla.Conn {
	t.Helper()
	d := gorilla.Dialer{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	c, _, err := d.Dial(s.url(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// rawDial opens a TCP connection and completes the handshake by hand, so
// tests can send frames no well-behaved client would.
func rawDial(t *testing.T, s *server) net.Conn {
	t.Helper()
	conn, _, _, err := ws.Dial(t.Context(), s.url())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func expectClose(t *testing.T, c *gorilla.Conn, code int) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, _, err := c.ReadMessage()
		if err == nil {
			continue
		}
		if !gorilla.IsCloseError(err, code) {
			t.Fatalf("want close %d, got %v", code, err)
		}
		return
	}
}

// readRawClose reads server frames from a raw connection until a close
// frame and returns its code.
func readRawClose(t *testing.T, conn net.Conn) int {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		f, err := ws.ReadFrame(conn)
		if err != nil {
			t.Fatalf("reading for a close frame: %v", err)
		}
		if f.Header.OpCode == ws.OpClose {
			code, _ := ws.ParseCloseFrameData(f.Payload)
			return int(code)
		}
	}
}

func writeMasked(t *testing.T, conn net.Conn, f ws.Frame) {
	t.Helper()
	if err := ws.WriteFrame(conn, ws.MaskFrameInPlace(f)); err != nil {
		t.Fatal(err)
	}
}

func TestEchoTextAndBinary(t *testing.T) {
	for _, tlsServer := range []bool{false, true} {
		name := map[bool]string{false: "poller", true: "tls-fallback"}[tlsServer]
		t.Run(name, func(t *testing.T) {
			s := startServer(t, Config{}, newEchoHandler(), tlsServer)
			c := dial(t, s)
			for i, msg := range []string{"hello", strings.Repeat("x", 70000/2), "ünïcödé"} {
				typ := gorilla.TextMessage
				if i == 1 {
					typ = gorilla.BinaryMessage
				}
				if err := c.WriteMessage(typ, []byte(msg)); err != nil {
					t.Fatal(err)
				}
				gotType, got, err := c.ReadMessage()
				if err != nil || gotType != typ || string(got) != msg {
					t.Fatalf("echo %d: type %d err %v len %d", i, gotType, err, len(got))
				}
			}
		})
	}
}

func TestFragmentedMessageIsReassembled(t *testing.T) {
	s := startServer(t, Config{}, newEchoHandler(), false)
	conn := rawDial(t, s)
	writeMasked(t, conn, ws.Frame{Header: ws.Header{OpCode: ws.OpText, Length: 3}, Payload: []byte("hel")})
	writeMasked(t, conn, ws.NewPingFrame([]byte("between")))
	writeMasked(t, conn, ws.Frame{Header: ws.Header{Fin: true, OpCode: ws.OpContinuation, Length: 2}, Payload: []byte("lo")})
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var gotPong, gotText bool
	for !gotPong || !gotText {
		f, err := ws.ReadFrame(conn)
		if err != nil {
			t.Fatal(err)
		}
		switch f.Header.OpCode {
		case ws.OpPong:
			gotPong = string(f.Payload) == "between"
		case ws.OpText:
			if string(f.Payload) != "hello" {
				t.Fatalf("reassembled %q", f.Payload)
			}
			gotText = true
		}
	}
}

func TestBadInputCloseCodes(t *testing.T) {
	cases := []struct {
		name  string
		frame ws.Frame
		mask  bool
		code  int
	}{
		{"invalid utf-8", ws.NewTextFrame([]byte{0xff, 0xfe, 'a'}), true, CloseInvalidPayload},
		{"too big", ws.NewBinaryFrame(make([]byte, 2048)), true, CloseMessageTooBig},
		{"unmasked", ws.NewTextFrame([]byte("hi")), false, CloseProtocolError},
		{"reserved bits", ws.Frame{Header: ws.Header{Fin: true, Rsv: 2, OpCode: ws.OpText, Length: 1}, Payload: []byte("a")}, true, CloseProtocolError},
		{"reserved opcode", ws.Frame{Header: ws.Header{Fin: true, OpCode: 0x3, Length: 1}, Payload: []byte("a")}, true, CloseProtocolError},
		{"stray continuation", ws.Frame{Header: ws.Header{Fin: true, OpCode: ws.OpContinuation, Length: 1}, Payload: []byte("a")}, true, CloseProtocolError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newEchoHandler()
			s := startServer(t, Config{MaxMessageSize: 1024}, h, false)
			other := dial(t, s)
			conn := rawDial(t, s)
			if tc.mask {
				writeMasked(t, conn, tc.frame)
			} else if err := ws.WriteFrame(conn, tc.frame); err != nil {
				t.Fatal(err)
			}
			if got := readRawClose(t, conn); got != tc.code {
				t.Fatalf("close code %d, want %d", got, tc.code)
			}
			// The other connection is untouched.
			if err := other.WriteMessage(gorilla.TextMessage, []byte("still here")); err != nil {
				t.Fatal(err)
			}
			if _, got, err := other.ReadMessage(); err != nil || string(got) != "still here" {
				t.Fatalf("other connection: %q %v", got, err)
			}
			if s.engine.Stats().ProtocolErrors.Load() != 1 {
				t.Fatalf("protocol errors = %d", s.engine.Stats().ProtocolErrors.Load())
			}
		})
	}
}

func TestServerCloseAndPeerClose(t *testing.T) {
	h := newEchoHandler()
	s := startServer(t, Config{}, h, false)
	c := dial(t, s)
	sc := <-s.conns
	sc.Close(CloseGoingAway, "shutting down")
	expectClose(t, c, CloseGoingAway)
	if code := <-h.done; code != CloseGoingAway {
		t.Fatalf("handler saw %d", code)
	}

	c2 := dial(t, s)
	<-s.conns
	_ = c2.WriteMessage(gorilla.CloseMessage, gorilla.FormatCloseMessage(4321, "bye"))
	expectClose(t, c2, 4321) // the server echoes the peer's code
	if code := <-h.done; code != 4321 {
		t.Fatalf("handler saw %d", code)
	}
	waitFor(t, func() bool { return s.engine.Len() == 0 })
}

func TestSlowConsumerIsCutOff(t *testing.T) {
	h := newEchoHandler()
	s := startServer(t, Config{MaxQueueBytes: 64 << 10}, h, false)
	c := dial(t, s)
	sc := <-s.conns
	frame := TextFrame([]byte(strings.Repeat("p", 1000)))
	var err error
	for i := 0; i < 1_000_000 && err == nil; i++ {
		err = sc.Send(frame) // the client reads nothing
	}
	if err != ErrSlowConsumer {
		t.Fatalf("send error %v, want ErrSlowConsumer", err)
	}
	if s.engine.Stats().SlowConsumers.Load() != 1 {
		t.Fatal("slow consumer not counted")
	}
	expectClose(t, c, CloseTryAgainLater) // everything before the close still arrives
	if code := <-h.done; code != CloseTryAgainLater {
		t.Fatalf("handler saw %d", code)
	}
}

func TestHeartbeatDropsSilentPeer(t *testing.T) {
	h := newEchoHandler()
	s := startServer(t, Config{PingInterval: 50 * time.Millisecond, PongTimeout: time.Second}, h, false)
	live := dial(t, s) // gorilla answers pings while it reads
	go func() {
		for {
			if _, _, err := live.ReadMessage(); err != nil {
				return
			}
		}
	}()
	conn := rawDial(t, s) // reads nothing until dropped, never answers
	select {
	case code := <-h.done:
		if code != CloseInternalError {
			t.Fatalf("handler saw code %d, want 1011", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("silent peer was not dropped")
	}
	// What it was sent is still in its socket: pings, then the close.
	if code := readRawClose(t, conn); code != CloseInternalError {
		t.Fatalf("close frame %d, want 1011", code)
	}
	time.Sleep(300 * time.Millisecond)
	if s.engine.Len() != 1 {
		t.Fatalf("the answering peer was dropped too: %d open", s.engine.Len())
	}
	if s.engine.Stats().HeartbeatTimeouts.Load() != 1 {
		t.Fatal("timeout not counted")
	}
}

func TestQueuedFramesLeaveInOrderInOneFlush(t *testing.T) {
	s := startServer(t, Config{}, newEchoHandler(), false)
	c := dial(t, s)
	sc := <-s.conns
	needs := 0
	for i := range 100 {
		if ok, err := sc.Enqueue(TextFrame([]byte{byte('a' + i%26)})); err != nil {
			t.Fatal(err)
		} else if ok {
			needs++
		}
	}
	if needs != 1 {
		t.Fatalf("%d enqueues asked for a flush, want 1", needs)
	}
	sc.Flush()
	for i := range 100 {
		_, p, err := c.ReadMessage()
		if err != nil || p[0] != byte('a'+i%26) {
			t.Fatalf("frame %d: %q %v", i, p, err)
		}
	}
}

func TestEarlyDataIsAProtocolError(t *testing.T) {
	s := startServer(t, Config{}, newEchoHandler(), false)
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	f := ws.MaskFrameInPlace(ws.NewTextFrame([]byte("too soon")))
	var frame strings.Builder
	_ = ws.WriteFrame(&frame, f)
	if _, err := conn.Write([]byte(req + frame.String())); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %v %v", resp, err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	fr, err := ws.ReadFrame(br)
	if err != nil || fr.Header.OpCode != ws.OpClose {
		t.Fatalf("want close frame, got %v %v", fr.Header, err)
	}
	if code, _ := ws.ParseCloseFrameData(fr.Payload); code != CloseProtocolError {
		t.Fatalf("code %d", code)
	}
}

func TestDrainAfterCloseAll(t *testing.T) {
	h := newEchoHandler()
	s := startServer(t, Config{}, h, false)
	clients := []*gorilla.Conn{dial(t, s), dial(t, s), dial(t, s)}
	waitFor(t, func() bool { return s.engine.Len() == 3 })
	s.engine.CloseAll(CloseGoingAway, "bye")
	for _, c := range clients {
		expectClose(t, c, CloseGoingAway)
	}
	ctx, cancel := contextWithTimeout(t, 5*time.Second)
	defer cancel()
	if err := s.engine.Drain(ctx); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPeerEchoOfRegisteredCloseCodes(t *testing.T) {
	for _, code := range []int{CloseTryAgainLater, 1012, 4001} {
		h := newEchoHandler()
		s := startServer(t, Config{CloseTimeout: time.Minute}, h, false)
		c := dial(t, s)
		(<-s.conns).Close(code, "x")
		expectClose(t, c, code) // gorilla echoes the code back
		select {
		case got := <-h.done:
			if got != code {
				t.Fatalf("handler saw %d, want %d", got, code)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("close %d: the echoed close frame did not end the handshake", code)
		}
	}
}

func TestInvalidCloseCodeFromPeer(t *testing.T) {
	for _, code := range []int{999, 1004, 1005, 1006, 1015, 2999, 5000} {
		s := startServer(t, Config{}, newEchoHandler(), false)
		conn := rawDial(t, s)
		writeMasked(t, conn, ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusCode(code), "")))
		if got := readRawClose(t, conn); got != CloseProtocolError {
			t.Fatalf("peer close %d answered with %d, want 1002", code, got)
		}
	}
}

func TestPingFloodFromANonReaderIsASlowConsumer(t *testing.T) {
	h := newEchoHandler()
	s := startServer(t, Config{MaxQueueBytes: 64 << 10}, h, false)
	conn := rawDial(t, s) // never reads
	ping := ws.MaskFrameInPlace(ws.NewPingFrame([]byte(strings.Repeat("p", 125))))
	var frame strings.Builder
	_ = ws.WriteFrame(&frame, ping)
	burst := strings.Repeat(frame.String(), 1000)
	deadline := time.Now().Add(10 * time.Second)
	for s.engine.Stats().SlowConsumers.Load() == 0 && time.Now().Before(deadline) {
		_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
		if _, err := conn.Write([]byte(burst)); err != nil {
			break // the server closed it
		}
	}
	if s.engine.Stats().SlowConsumers.Load() != 1 {
		t.Fatal("pongs to a peer that never reads grew without bound")
	}
}

func TestTrickledMessageIsDropped(t *testing.T) {
	h := newEchoHandler()
	s := startServer(t, Config{PingInterval: 50 * time.Millisecond, PongTimeout: 50 * time.Millisecond}, h, false)
	conn := rawDial(t, s)
	// The start of a 1000-byte frame, then a byte at a time: every byte
	// counts as activity, so only the partial-message deadline ends it.
	head := []byte{0x81, 0xFE, 0x03, 0xE8, 1, 2, 3, 4}
	conn.Write(head)
	done := make(chan int, 1)
	go func() { done <- readRawClose(t, conn) }()
	for i := 0; i < 100; i++ {
		select {
		case code := <-done:
			if code != ClosePolicyViolation {
				t.Fatalf("close %d, want 1008", code)
			}
			time.Sleep(200 * time.Millisecond) // several more heartbeats
			if n := s.engine.Stats().ProtocolErrors.Load(); n != 1 {
				t.Fatalf("one trickled message counted as %d protocol errors", n)
			}
			return
		case <-time.After(20 * time.Millisecond):
			conn.Write([]byte{'x'})
		}
	}
	t.Fatal("a trickled message kept the connection open")
}

func TestCloseReasonIsCutOnACharacterBoundary(t *testing.T) {
	s := startServer(t, Config{}, newEchoHandler(), false)
	c := dial(t, s)
	reason := strings.Repeat("é", 100) // 200 bytes, two per character
	(<-s.conns).Close(4005, reason)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err := c.ReadMessage()
	var ce *gorilla.CloseError
	if !errors.As(err, &ce) || ce.Code != 4005 || !utf8.ValidString(ce.Text) || len(ce.Text) > 123 {
		t.Fatalf("close %v", err)
	}
}
