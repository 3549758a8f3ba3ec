package engineio

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"

	eio "github.com/heraldhq/herald/internal/protocol/eioproto"
	"github.com/heraldhq/herald/internal/transport/websocket"
)

// waitFor bounds every wait in these tests.
const waitFor = 5 * time.Second

// message is one OnMessage call, copied.
type message struct {
	sid    string
	data   string
	binary bool
}

// closeEvent is one OnClose call.
type closeEvent struct {
	sid    string
	reason string
}

// recorder is a Handler that records everything and optionally echoes.
type recorder struct {
	echo    bool
	onOpen  func(*Session)
	opened  chan *Session
	msgs    chan message
	closed  chan closeEvent
	mu      sync.Mutex
	byID    map[string]*Session
	reasons map[string]string
}

func newRecorder() *recorder {
	return &recorder{
		opened:  make(chan *Session, 4096),
		msgs:    make(chan message, 4096),
		closed:  make(chan closeEvent, 4096),
		byID:    make(map[string]*Session),
		reasons: make(map[string]string),
	}
}

func (h *recorder) OnOpen(s *Session) {
	h.mu.Lock()
	h.byID[s.ID()] = s
	h.mu.Unlock()
	if h.onOpen != nil {
		h.onOpen(s)
	}
	h.opened <- s
}

func (h *recorder) OnMessage(s *Session, data []byte, binary bool) {
	h.msgs <- message{s.ID(), string(data), binary}
	if h.echo {
		if binary {
			_ = s.SendBinary(data)
		} else {
			_ = s.SendText(data)
		}
	}
}

func (h *recorder) OnClose(s *Session, reason string) {
	h.mu.Lock()
	if _, dup := h.reasons[s.ID()]; dup {
		panic("OnClose called twice for " + s.ID())
	}
	h.reasons[s.ID()] = reason
	h.mu.Unlock()
	h.closed <- closeEvent{s.ID(), reason}
}

func (h *recorder) session(t *testing.T, sid string) *Session {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.byID[sid]
	if s == nil {
		t.Fatalf("no session %q opened", sid)
	}
	return s
}

// nextMessage waits for the next OnMessage.
func (h *recorder) nextMessage(t *testing.T) message {
	t.Helper()
	select {
	case m := <-h.msgs:
		return m
	case <-time.After(waitFor):
		t.Fatal("timed out waiting for OnMessage")
	}
	return message{}
}

// waitClose waits for OnClose of sid and returns its reason.
func (h *recorder) waitClose(t *testing.T, sid string) string {
	t.Helper()
	deadline := time.After(waitFor)
	for {
		h.mu.Lock()
		r, ok := h.reasons[sid]
		h.mu.Unlock()
		if ok {
			return r
		}
		select {
		case <-h.closed:
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out waiting for OnClose of %s", sid)
		}
	}
}

// isClosed reports whether OnClose ran for sid.
func (h *recorder) isClosed(sid string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.reasons[sid]
	return ok
}

// testServer is a Server behind a real HTTP server with a real WebSocket
// engine.
type testServer struct {
	*httptest.Server
	srv    *Server
	engine *websocket.Engine
	h      *recorder
	client *http.Client
}

func startServer(t *testing.T, cfg Config, wsCfg websocket.Config) *testServer {
	t.Helper()
	return startServerWith(t, cfg, wsCfg, newRecorder())
}

func startServerWith(t *testing.T, cfg Config, wsCfg websocket.Config, hh Handler) *testServer {
	t.Helper()
	e, err := websocket.NewEngine(wsCfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(cfg, e, hh)
	h, ok := hh.(*recorder)
	if !ok {
		h = hh.(*closingRecorder).recorder
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	ts := &testServer{Server: httptest.NewServer(mux), srv: srv, engine: e, h: h}
	ts.client = &http.Client{Timeout: waitFor}
	t.Cleanup(func() {
		srv.Stop() // releases parked GETs so the HTTP server can close
		ts.client.CloseIdleConnections()
		ts.Close()
		e.Stop()
	})
	return ts
}

func (ts *testServer) url(query string) string { return ts.URL + "/socket.io/?" + query }

func (ts *testServer) wsURL(query string) string {
	return "ws" + strings.TrimPrefix(ts.URL, "http") + "/socket.io/?" + query
}

// do sends one request and returns status, headers and body.
func (ts *testServer) do(t *testing.T, method, query string, body io.Reader, hdr http.Header) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, ts.url(query), body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := ts.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, query, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

// openPayload is the decoded open packet.
type openPayload struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int      `json:"pingInterval"`
	PingTimeout  int      `json:"pingTimeout"`
	MaxPayload   int      `json:"maxPayload"`
}

// handshake opens a polling session and returns its open payload.
func (ts *testServer) handshake(t *testing.T) openPayload {
	t.Helper()
	status, _, body := ts.do(t, "GET", "EIO=4&transport=polling", nil, nil)
	if status != 200 || !strings.HasPrefix(body, "0{") {
		t.Fatalf("handshake: %d %q", status, body)
	}
	var op openPayload
	if err := json.Unmarshal([]byte(body[1:]), &op); err != nil {
		t.Fatal(err)
	}
	<-ts.h.opened
	return op
}

// poll does one polling GET.
func (ts *testServer) poll(t *testing.T, sid string) (int, string) {
	t.Helper()
	status, _, body := ts.do(t, "GET", "EIO=4&transport=polling&sid="+url.QueryEscape(sid), nil, nil)
	return status, body
}

// pollAsync starts a polling GET and delivers its result on the channel.
func (ts *testServer) pollAsync(t *testing.T, sid string) <-chan pollResult {
	ch := make(chan pollResult, 1)
	go func() {
		req, _ := http.NewRequest("GET", ts.url("EIO=4&transport=polling&sid="+url.QueryEscape(sid)), nil)
		resp, err := ts.client.Do(req)
		if err != nil {
			ch <- pollResult{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		ch <- pollResult{status: resp.StatusCode, body: string(b), err: err}
	}()
	return ch
}

type pollResult struct {
	status int
	body   string
	err    error
}

func waitPoll(t *testing.T, ch <-chan pollResult) pollResult {
	t.Helper()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatal(r.err)
		}
		return r
	case <-time.After(waitFor):
		t.Fatal("timed out waiting for a polling GET")
	}
	return pollResult{}
}

// waitParked waits until sid has a GET parked on the server.
func (ts *testServer) waitParked(t *testing.T, sid string) {
	t.Helper()
	s := ts.h.session(t, sid)
	eventually(t, "GET parked", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.poll != nil
	})
}

// post sends one polling POST.
func (ts *testServer) post(t *testing.T, sid, body string) (int, string) {
	t.Helper()
	status, _, resp := ts.do(t, "POST", "EIO=4&transport=polling&sid="+url.QueryEscape(sid), strings.NewReader(body), http.Header{"Content-Type": {"text/plain;charset=UTF-8"}})
	return status, resp
}

// dial opens a WebSocket with the given query.
func (ts *testServer) dial(t *testing.T, query string) *gorilla.Conn {
	t.Helper()
	c, resp, err := gorilla.DefaultDialer.Dial(ts.wsURL(query), nil)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (status %d)", query, err, status)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// read reads one WebSocket message as (text?, payload).
func read(t *testing.T, c *gorilla.Conn) (bool, string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(waitFor))
	mt, p, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return mt == gorilla.TextMessage, string(p)
}

// readText reads one text message and checks it.
func readText(t *testing.T, c *gorilla.Conn, want string) {
	t.Helper()
	text, got := read(t, c)
	if !text || got != want {
		t.Fatalf("read (text=%v) %q, want text %q", text, got, want)
	}
}

func write(t *testing.T, c *gorilla.Conn, s string) {
	t.Helper()
	if err := c.WriteMessage(gorilla.TextMessage, []byte(s)); err != nil {
		t.Fatal(err)
	}
}

// readClose reads until the server closes the WebSocket and returns the
// close code (1006 when the TCP connection just ended). It then hangs up,
// as a browser does once the closing handshake is over.
func readClose(t *testing.T, c *gorilla.Conn) int {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(waitFor))
	defer c.Close()
	for {
		_, _, err := c.ReadMessage()
		if err == nil {
			continue
		}
		if ce, ok := err.(*gorilla.CloseError); ok {
			return ce.Code
		}
		if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
			t.Fatal("timed out waiting for the server to close the WebSocket")
		}
		return gorilla.CloseAbnormalClosure
	}
}

// openWS opens a WebSocket-only session and returns it with its sid.
func (ts *testServer) openWS(t *testing.T) (*gorilla.Conn, string) {
	t.Helper()
	c := ts.dial(t, "EIO=4&transport=websocket")
	_, open := read(t, c)
	var op openPayload
	if !strings.HasPrefix(open, "0") || json.Unmarshal([]byte(open[1:]), &op) != nil {
		t.Fatalf("open packet %q", open)
	}
	<-ts.h.opened
	return c, op.SID
}

// upgrade upgrades polling session sid to a WebSocket and returns it.
func (ts *testServer) upgrade(t *testing.T, sid string) *gorilla.Conn {
	t.Helper()
	c := ts.dial(t, "EIO=4&transport=websocket&sid="+url.QueryEscape(sid))
	write(t, c, "2probe")
	readText(t, c, "3probe")
	write(t, c, "5")
	s := ts.h.session(t, sid)
	eventually(t, "upgrade", func() bool { return s.Transport() == "websocket" })
	return c
}

// eventually polls cond until it holds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// errorBody is the JSON body the server refuses polling requests with.
func errorBody(code eio.ErrorCode, msg string) string {
	return string(eio.AppendErrorBody(nil, code, msg))
}

// withTimeout returns a context bounded by waitFor.
func withTimeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	t.Cleanup(cancel)
	return ctx
}

// gorillaDial dials without failing the test, for refusals.
func gorillaDial(u string) (*gorilla.Conn, *http.Response, error) {
	c, resp, err := gorilla.DefaultDialer.Dial(u, nil)
	if c != nil {
		_ = c.Close()
	}
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	return c, resp, err
}

// withCancel returns a cancelable context released at cleanup.
func withCancel(t *testing.T) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ctx, cancel
}
