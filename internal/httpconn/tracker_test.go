package httpconn

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// testServer is a real http.Server on loopback with a Tracker installed.
type testServer struct {
	t       *Tracker
	addr    string
	release chan struct{}
}

// startServer serves "/" (answers at once), "/block" (answers once the
// test releases it), "/read" (reads the body, answers 408 when it times
// out) and "/hijack" (takes the connection over).
func startServer(tb testing.TB, max int, bodyTimeout time.Duration) *testServer {
	tb.Helper()
	s := &testServer{t: New(max), release: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("/block", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-s.release:
			io.WriteString(w, "released")
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/read", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			http.Error(w, err.Error(), http.StatusRequestTimeout)
			return
		}
		w.Write(b)
	})
	mux.HandleFunc("/hijack", func(w http.ResponseWriter, _ *http.Request) {
		c, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			io.WriteString(c, "hijacked\n")
			tb.Cleanup(func() { c.Close() })
		}
	})
	srv := &http.Server{Handler: s.t.LimitBody(mux, bodyTimeout), ConnState: s.t.ConnState, ConnContext: s.t.ConnContext}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s.addr = ln.Addr().String()
	go srv.Serve(ln)
	tb.Cleanup(func() { close(s.release); srv.Close() })
	return s
}

// dial opens a connection and sends raw, which may stop mid-request.
func (s *testServer) dial(tb testing.TB, raw string) net.Conn {
	tb.Helper()
	c, err := net.Dial("tcp", s.addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	if raw != "" {
		if _, err := io.WriteString(c, raw); err != nil {
			tb.Fatal(err)
		}
	}
	return c
}

// idleConn is a keep-alive connection that has had one answer.
func (s *testServer) idleConn(tb testing.TB) net.Conn {
	tb.Helper()
	c := s.dial(tb, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != 200 {
		tb.Fatalf("first request: %v %v", resp, err)
	}
	return c
}

// waitPhases waits until the tracked connections are in want (as a
// multiset, in any order).
func (s *testServer) waitPhases(tb testing.TB, want ...phase) {
	tb.Helper()
	counts := func() [phases]int {
		var n [phases]int
		s.t.mu.Lock()
		defer s.t.mu.Unlock()
		for _, e := range s.t.conns {
			n[e.phase]++
		}
		return n
	}
	var w [phases]int
	for _, p := range want {
		w[p]++
	}
	deadline := time.Now().Add(5 * time.Second)
	for counts() != w {
		if time.Now().After(deadline) {
			tb.Fatalf("phases %v, want %v", counts(), w)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// closedByServer reports whether the server closed c (reading past any
// answer it sent ends in EOF or a reset), waiting up to a second.
func closedByServer(c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(time.Second))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

// stillOpen reports whether c stays open, unanswered, for a moment.
func stillOpen(c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	_, err := c.Read(make([]byte, 1))
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// With the cap reached, each new connection displaces the longest-idle
// connection, then the one longest in its headers, then the one longest
// in its body; a connection serving a request is never displaced, so with
// every slot serving the newcomer is refused.
func TestShedsIdleThenHeadersThenBody(t *testing.T) {
	s := startServer(t, 3, time.Minute)
	idleC := s.idleConn(t)
	headersC := s.dial(t, "GET / HTTP/1.1\r\nHo")
	bodyC := s.dial(t, "POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab")
	s.waitPhases(t, idle, headers, body)

	var blocked []net.Conn
	order := []phase{idle, headers, body}
	for i, victim := range []net.Conn{idleC, headersC, bodyC} {
		blocked = append(blocked, s.dial(t, "GET /block HTTP/1.1\r\nHost: x\r\n\r\n"))
		if !closedByServer(victim) {
			t.Fatalf("newcomer %d did not displace the %v connection", i, reasons[order[i]])
		}
		// The newcomer's own headers must be in before the next arrives,
		// or it would be the one in its headers longest.
		want := append([]phase(nil), order[i+1:]...)
		for range i + 1 {
			want = append(want, serving)
		}
		s.waitPhases(t, want...)
	}
	refused := s.dial(t, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if !closedByServer(refused) {
		t.Fatal("a fourth connection got in with every slot serving a request")
	}
	for _, c := range blocked {
		if !stillOpen(c) {
			t.Fatal("a connection serving a request was closed")
		}
	}
	for _, r := range Reasons() {
		if got := s.t.Shed(r); got != 1 {
			t.Errorf("shed %s = %d, want 1", r, got)
		}
	}
}

// Within a phase the oldest goes first.
func TestShedsOldestFirst(t *testing.T) {
	s := startServer(t, 2, time.Minute)
	older := s.idleConn(t)
	s.waitPhases(t, idle)
	newer := s.idleConn(t)
	s.waitPhases(t, idle, idle)
	fresh := s.dial(t, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, err := http.ReadResponse(bufio.NewReader(fresh), nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("newcomer: %v %v", resp, err)
	}
	if !closedByServer(older) || !stillOpen(newer) {
		t.Fatal("the newer idle connection went instead of the older")
	}
}

// A body that trickles in past the timeout ends the read with an error
// the handler answers with 408; one that arrives in time is read; a
// request without a body may be held far longer.
func TestLimitBody(t *testing.T) {
	const timeout = 200 * time.Millisecond
	s := startServer(t, 10, timeout)
	slow := s.dial(t, "POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
	stop := make(chan struct{})
	defer close(stop)
	go func() { // a byte every 50ms: never idle long, never done
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
				if _, err := slow.Write([]byte("x")); err != nil {
					return
				}
			}
		}
	}()
	slow.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(slow), nil)
	if err != nil || resp.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("trickled body: %v %v, want 408", resp, err)
	}
	if msg, _ := io.ReadAll(resp.Body); !strings.Contains(string(msg), "http.body_timeout") {
		t.Fatalf("408 body %q does not name the setting", msg)
	}

	ok, err := http.Post("http://"+s.addr+"/read", "text/plain", strings.NewReader("in time"))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(ok.Body); ok.StatusCode != 200 || string(b) != "in time" {
		t.Fatalf("prompt body: %d %q", ok.StatusCode, b)
	}
	ok.Body.Close()

	held := s.dial(t, "GET /block HTTP/1.1\r\nHost: x\r\n\r\n")
	if !stillOpen(held) { // 100ms
		t.Fatal("a bodiless request was cut")
	}
	time.Sleep(3 * timeout)
	if !stillOpen(held) {
		t.Fatal("a bodiless request was cut after the body timeout")
	}
}

// An upgraded (hijacked) connection leaves the count.
func TestHijackedLeaves(t *testing.T) {
	s := startServer(t, 1, time.Minute)
	c := s.dial(t, "GET /hijack HTTP/1.1\r\nHost: x\r\n\r\n")
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || line != "hijacked\n" {
		t.Fatalf("hijack: %q %v", line, err)
	}
	s.waitPhases(t)
	s.idleConn(t) // the one slot is free
	if !stillOpen(c) {
		t.Fatal("the hijacked connection was closed")
	}
}

// At shutdown, connections without a request under way go at once, and
// so does any accepted after; those serving a request stay.
func TestCloseUnstarted(t *testing.T) {
	s := startServer(t, 10, time.Minute)
	idleC := s.idleConn(t)
	headersC := s.dial(t, "GET / HTTP/1.1\r\n")
	busy := s.dial(t, "GET /block HTTP/1.1\r\nHost: x\r\n\r\n")
	s.waitPhases(t, idle, headers, serving)
	s.t.CloseUnstarted()
	if !closedByServer(idleC) || !closedByServer(headersC) {
		t.Fatal("an unstarted connection stayed open")
	}
	if !stillOpen(busy) {
		t.Fatal("a connection serving a request was closed")
	}
	if late := s.dial(t, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); !closedByServer(late) {
		t.Fatal("a connection accepted after CloseUnstarted was served")
	}
}
