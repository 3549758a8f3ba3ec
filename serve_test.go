package herald

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// startServed runs a node with Node.Serve on a loopback listener. The
// testServer's httptest.Server only carries the URL, for its helpers.
func startServed(t *testing.T, cfg Config, opts ...Option) (*testServer, <-chan error) {
	t.Helper()
	n, err := New(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- n.Serve(ln, nil) }()
	t.Cleanup(func() { _ = n.Shutdown(context.Background()) })
	return &testServer{node: n, srv: &httptest.Server{URL: "http://" + ln.Addr().String()}}, served
}

func (s *testServer) addr() string { return strings.TrimPrefix(s.srv.URL, "http://") }

// rawConn opens a TCP connection to the node and writes raw, which may
// stop in the middle of a request.
func (s *testServer) rawConn(t *testing.T, raw string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", s.addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	return c
}

// trickle writes a space to c every 50ms until stop closes or a write
// fails: whitespace, so a JSON body stays valid and unfinished.
func trickle(c net.Conn, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case <-time.After(50 * time.Millisecond):
			if _, err := c.Write([]byte(" ")); err != nil {
				return
			}
		}
	}
}

// closedWithin reports whether the server closes c within d (reading and
// discarding whatever it sends first).
func closedWithin(c net.Conn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

func TestServeClosesIdleKeepAliveConnections(t *testing.T) {
	cfg := testConfig()
	cfg.HTTP.IdleTimeout = 200 * time.Millisecond
	s, _ := startServed(t, cfg)
	c := s.rawConn(t, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(c)
	for i := range 2 { // kept alive between requests
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("request %d: %v %v", i, resp, err)
		}
		io.Copy(io.Discard, resp.Body)
		if i == 0 {
			io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		}
	}
	if !closedWithin(c, 5*time.Second) {
		t.Fatal("an idle keep-alive connection outlived http.idle_timeout")
	}
}

func TestServeCutsSlowHeaders(t *testing.T) {
	cfg := testConfig()
	cfg.HTTP.HeaderTimeout = 300 * time.Millisecond
	s, _ := startServed(t, cfg)
	c := s.rawConn(t, "GET /healthz HTTP/1.1\r\nX-Slow: ")
	stop := make(chan struct{})
	defer close(stop)
	go trickle(c, stop) // never idle, never done
	if !closedWithin(c, 5*time.Second) {
		t.Fatal("headers trickling in outlived http.header_timeout")
	}
}

// A body trickling in past http.body_timeout gets 408 naming the setting,
// on every endpoint that reads one; the connection then closes.
func TestServeCutsSlowBodies(t *testing.T) {
	cfg := testConfig()
	cfg.HTTP.BodyTimeout = 300 * time.Millisecond
	cfg.DevLogin = true
	s, _ := startServed(t, cfg)
	slowPost := func(t *testing.T, target string, header string) (*http.Response, string) {
		t.Helper()
		c := s.rawConn(t, "POST "+target+" HTTP/1.1\r\nHost: x\r\n"+header+"Content-Length: 1000\r\n\r\n{")
		stop := make(chan struct{})
		defer close(stop)
		go trickle(c, stop)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("no answer to a trickled body: %v", err)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(body), "http.body_timeout") {
			t.Fatalf("trickled body: %d %q, want 408 naming http.body_timeout", resp.StatusCode, body)
		}
		if !resp.Close || !closedWithin(c, 5*time.Second) {
			t.Fatal("the connection stayed open after the 408")
		}
		return resp, string(body)
	}
	t.Run("api", func(t *testing.T) {
		slowPost(t, "/api/publish", "Authorization: apikey "+testAPIKey+"\r\n")
		if got := s.metric(t, `herald_api_requests_total{endpoint="publish",status="408"}`); got != 1 {
			t.Fatalf("408 counted %v times", got)
		}
	})
	t.Run("socketio polling", func(t *testing.T) {
		resp, err := http.Get(s.srv.URL + "/socket.io/?EIO=4&transport=polling")
		if err != nil {
			t.Fatal(err)
		}
		open, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		sid := string(open[strings.Index(string(open), `"sid":"`)+7:])
		sid = sid[:strings.IndexByte(sid, '"')]
		slowPost(t, "/socket.io/?EIO=4&transport=polling&sid="+sid, "Content-Type: text/plain;charset=UTF-8\r\n")
		waitUntil(t, "the session closed", func() bool { return s.node.Info().Connections == 0 })
		if got := s.metric(t, `herald_protocol_errors_total{transport="socketio_polling"}`); got != 1 {
			t.Fatalf("protocol errors %v, want 1", got)
		}
	})
	t.Run("dev token", func(t *testing.T) {
		slowPost(t, "/dev/token", "")
	})
}

// An application serving its own mux through Serve gets the body bound
// for its handlers too, and herald's handlers inside it answer as alone.
func TestServeAnApplicationsMux(t *testing.T) {
	cfg := testConfig()
	cfg.HTTP.BodyTimeout = 300 * time.Millisecond
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/rt/", http.StripPrefix("/rt", n.Handler()))
	mux.HandleFunc("/upload", func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); errors.Is(err, os.ErrDeadlineExceeded) {
			http.Error(w, err.Error(), http.StatusRequestTimeout)
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go n.Serve(ln, mux)
	t.Cleanup(func() { _ = n.Shutdown(context.Background()) })
	s := &testServer{node: n, srv: &httptest.Server{URL: "http://" + ln.Addr().String()}}
	for _, target := range []string{"/upload", "/rt/api/publish"} {
		c := readingBody(t, s, target, "Authorization: apikey "+testAPIKey+"\r\n")
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || resp.StatusCode != http.StatusRequestTimeout {
			t.Fatalf("%s: %v %v, want 408", target, resp, err)
		}
	}
}

// With http.max_connections reached by connections that idle, stall in
// their headers or in their bodies, a bystander still gets in: health,
// a WebSocket, a publish.
func TestServeShedsStalledConnectionsAtTheCap(t *testing.T) {
	cfg := testConfig()
	cfg.HTTP.MaxConnections = 12
	s, _ := startServed(t, cfg)
	for range 4 {
		c := s.rawConn(t, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%v %v", resp, err)
		}
		s.rawConn(t, "GET /healthz HTTP/1.1\r\nHo")
		s.rawConn(t, "POST /api/publish HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
	}
	waitUntil(t, "the cap filled", func() bool { return s.node.conns.Len() == 12 })
	bystander := dialWS(t, s.wsURL(""), nil)
	bystander.ok(map[string]any{"op": "subscribe", "channel": "news"})
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	resp, err := client.Get(s.srv.URL + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz at the cap: %v %v", resp, err)
	}
	resp.Body.Close()
	if status, _ := s.api(t, "POST", "/api/publish", `{"channel":"news","data":"still here"}`); status != 200 {
		t.Fatalf("publish at the cap: %d", status)
	}
	if m := bystander.event("publication"); m["data"] != "still here" {
		t.Fatalf("bystander got %v", m)
	}
	if s.metric(t, "herald_http_connections") > 12 || s.metric(t, `herald_http_connections_shed_total{reason="idle"}`) < 1 {
		t.Fatal("the cap was not kept by shedding the idle connections first")
	}
}

// During shutdown_delay /readyz answers 503 while everything else goes
// on as before, new connections included; then the listener closes and
// connections get 1001.
func TestShutdownDelayKeepsServingWhileNotReady(t *testing.T) {
	cfg := testConfig()
	cfg.ShutdownDelay = 700 * time.Millisecond
	s, served := startServed(t, cfg)
	before := dialWS(t, s.wsURL(""), nil)
	before.ok(map[string]any{"op": "subscribe", "channel": "news"})
	shutdown := make(chan error, 1)
	go func() { shutdown <- s.node.Shutdown(context.Background()) }()
	status := func(path string) int {
		resp, err := http.Get(s.srv.URL + path)
		if err != nil {
			t.Fatalf("%s during the delay: %v", path, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	waitUntil(t, "readyz 503", func() bool { return status("/readyz") == http.StatusServiceUnavailable })
	if got := status("/healthz"); got != 200 {
		t.Fatalf("healthz %d during the delay", got)
	}
	during := dialWS(t, s.wsURL(""), nil)
	during.ok(map[string]any{"op": "subscribe", "channel": "news"})
	if code, _ := s.api(t, "POST", "/api/publish", `{"channel":"news","data":"during"}`); code != 200 {
		t.Fatalf("publish during the delay: %d", code)
	}
	for _, c := range []*wsConn{before, during} {
		if m := c.event("publication"); m["data"] != "during" {
			t.Fatalf("got %v", m)
		}
		c.disconnectThenClose(websocket.CloseGoingAway)
	}
	if err := <-shutdown; err != nil {
		t.Fatal(err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Fatalf("Serve returned %v", err)
	}
	if _, err := net.Dial("tcp", s.addr()); err == nil {
		t.Fatal("the listener is still open after Shutdown")
	}
}

// Half-open connections do not hold up a shutdown: one still sending its
// headers is closed at once (net/http alone waits 5s for it), one still
// sending a body is cut at shutdown_timeout.
func TestShutdownIsNotHeldByHalfOpenConnections(t *testing.T) {
	t.Run("headers", func(t *testing.T) {
		cfg := testConfig()
		s, _ := startServed(t, cfg)
		c := s.rawConn(t, "GET /healthz HTTP/1.1\r\nHo")
		waitUntil(t, "tracked", func() bool { return s.node.conns.Len() == 1 })
		start := time.Now()
		if err := s.node.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("shutdown took %v with a connection in its headers", d)
		}
		if !closedWithin(c, time.Second) {
			t.Fatal("the half-open connection is still open")
		}
	})
	t.Run("body", func(t *testing.T) {
		cfg := testConfig()
		cfg.ShutdownTimeout = time.Second
		s, _ := startServed(t, cfg)
		c := readingBody(t, s, "/api/publish", "Authorization: apikey "+testAPIKey+"\r\n")
		start := time.Now()
		err := s.node.Shutdown(context.Background())
		if d := time.Since(start); d > cfg.ShutdownTimeout+2*time.Second {
			t.Fatalf("shutdown took %v with shutdown_timeout %v", d, cfg.ShutdownTimeout)
		}
		if !errors.Is(err, errRequestsCut) {
			t.Fatalf("Shutdown returned %v, want it to say a request was cut", err)
		}
		if !closedWithin(c, time.Second) {
			t.Fatal("the half-open connection is still open")
		}
	})
}

// readingBody sends a POST's headers, waits until its handler starts
// reading the body (net/http answers "100 Continue" then), sends one
// byte of it and leaves the rest unsent.
func readingBody(t *testing.T, s *testServer, target, header string) net.Conn {
	t.Helper()
	c := s.rawConn(t, "POST "+target+" HTTP/1.1\r\nHost: x\r\n"+header+"Expect: 100-continue\r\nContent-Length: 100\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var interim []byte // read byte by byte: what follows is the answer's
	for !strings.HasSuffix(string(interim), "\r\n\r\n") {
		b := make([]byte, 1)
		if _, err := c.Read(b); err != nil {
			t.Fatalf("waiting for 100 Continue: %q %v", interim, err)
		}
		interim = append(interim, b[0])
	}
	if !strings.HasPrefix(string(interim), "HTTP/1.1 100 Continue") {
		t.Fatalf("got %q, want 100 Continue", interim)
	}
	if _, err := io.WriteString(c, "{"); err != nil {
		t.Fatal(err)
	}
	return c
}

// Serve warns when the open-files limit cannot hold what the limits
// allow, and is quiet when it can.
func TestServeWarnsOfTooFewOpenFiles(t *testing.T) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur < 2*fileMargin {
		t.Skip("no usable open-files limit")
	}
	for _, tc := range []struct {
		conns int
		warns bool
	}{{int(rl.Cur), true}, {int(rl.Cur) / 4, false}} {
		var logged strings.Builder
		cfg := testConfig()
		cfg.Limits.MaxConnections, cfg.HTTP.MaxConnections = tc.conns, tc.conns/4+1
		s, served := startServed(t, cfg, WithLogger(slog.New(slog.NewTextHandler(&syncWriter{w: &logged}, nil))))
		s.node.Shutdown(context.Background())
		<-served
		if warned := strings.Contains(logged.String(), "open-files limit"); warned != tc.warns {
			t.Errorf("limits %d+%d with %d open files: warned %v; log:\n%s", tc.conns, tc.conns/4+1, rl.Cur, warned, logged.String())
		}
	}
}

// syncWriter serializes writes to w.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
