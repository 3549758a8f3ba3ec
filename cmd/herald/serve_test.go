package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/heraldhq/herald/internal/testmetrics"
)

// serveConfig writes a config for `herald serve` on addr: API key "k",
// anonymous clients, channels anyone may subscribe to, then extra.
func serveConfig(t *testing.T, addr, extra string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "herald.yaml")
	yaml := fmt.Sprintf("addr: %q\napi_key: k\ntoken_secret: s\nallow_anonymous: true\nlog:\n  level: warn\ndefault_channel:\n  subscribe: anyone\n%s", addr, extra)
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// exitWithin waits for the process to exit 0 and returns how long it took.
func (p *process) exitWithin(t *testing.T, d time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("herald exited with %v; stderr:\n%s", err, p.stderr)
		}
	case <-time.After(d):
		t.Fatalf("herald still running %v after SIGTERM; stderr:\n%s", d, p.stderr)
	}
	return time.Since(start)
}

// subscriber is a herald-protocol WebSocket subscribed to channel.
func subscriber(t *testing.T, addr, channel string, timeout time.Duration) (*websocket.Conn, error) {
	d := websocket.Dialer{HandshakeTimeout: timeout}
	c, _, err := d.Dial("ws://"+addr+"/ws", nil)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Close() })
	c.SetWriteDeadline(time.Now().Add(timeout))
	if err := c.WriteMessage(websocket.TextMessage, []byte(`{"id":1,"op":"subscribe","channel":"`+channel+`"}`)); err != nil {
		return nil, err
	}
	c.SetReadDeadline(time.Now().Add(timeout))
	if _, reply, err := c.ReadMessage(); err != nil || !strings.Contains(string(reply), `"result"`) {
		return nil, fmt.Errorf("subscribe: %s %v", reply, err)
	}
	return c, nil
}

// publish posts data to channel through the API.
func publish(client *http.Client, addr, channel, data string) error {
	req, _ := http.NewRequest("POST", "http://"+addr+"/api/publish", strings.NewReader(`{"channel":"`+channel+`","data":"`+data+`"}`))
	req.Header.Set("Authorization", "apikey k")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("publish: HTTP %d", resp.StatusCode)
	}
	return nil
}

// flood opens connections that stall, as an anonymous attacker would:
// idle keep-alive ones, ones stuck in their headers, and ones stuck in a
// body (Socket.IO polling POSTs and /api/publish). It keeps them open
// until the test ends and returns how many it opened.
type flood struct {
	addr  string
	mu    sync.Mutex
	conns []net.Conn
}

func (f *flood) open(raw string) net.Conn {
	c, err := net.DialTimeout("tcp", f.addr, time.Second)
	if err != nil {
		return nil
	}
	f.mu.Lock()
	f.conns = append(f.conns, c)
	f.mu.Unlock()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		return nil
	}
	return c
}

func (f *flood) idle() {
	if c := f.open("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); c != nil {
		if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil {
			resp.Body.Close()
		}
	}
}

func (f *flood) slowHeaders() { f.open("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ") }

func (f *flood) slowAPIBody() {
	f.open("POST /api/publish HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{")
}

func (f *flood) slowPollingBody() {
	c := f.open("GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n")
	if c == nil {
		return
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return
	}
	open, _ := io.ReadAll(resp.Body)
	sid, _, _ := strings.Cut(string(open[min(len(open), strings.Index(string(open), `"sid":"`)+7):]), `"`)
	io.WriteString(c, "POST /socket.io/?EIO=4&transport=polling&sid="+sid+" HTTP/1.1\r\nHost: x\r\n"+
		"Content-Type: text/plain;charset=UTF-8\r\nContent-Length: 1000\r\n\r\n4")
}

func (f *flood) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.conns {
		c.Close()
	}
}

// A flood of stalled connections past the process's open-files limit
// leaves a bystander's health check, new WebSocket and publish each
// answered within a second: http.max_connections keeps plain HTTP
// connections below the limit, shedding the stalled ones.
func TestServeHoldsUpUnderAConnectionFlood(t *testing.T) {
	const nofile = 512 // the server's open-files limit
	addr := freeAddr(t)
	// Timeouts far longer than the test: only the cap protects the node.
	cfg := serveConfig(t, addr, "shutdown_delay: 0s\nlimits:\n  max_connections: 200\nhttp:\n  max_connections: 200\n"+
		"  idle_timeout: 1m\n  header_timeout: 1m\n  body_timeout: 1m\n")
	p := startHerald(t, []string{fmt.Sprintf("TEST_RLIMIT_NOFILE=%d", nofile)}, "serve", "--config", cfg)
	waitHealthy(t, addr)

	f := &flood{addr: addr}
	defer f.close()
	kinds := []func(){f.idle, f.idle, f.idle, f.slowHeaders, f.slowHeaders, f.slowHeaders, f.slowAPIBody, f.slowPollingBody}
	jobs := make(chan func())
	var workers sync.WaitGroup
	for range 32 {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for job := range jobs {
				job()
			}
		}()
	}
	for i := range nofile + 200 {
		jobs <- kinds[i%len(kinds)]
	}
	close(jobs)
	workers.Wait()
	// And it goes on while the bystander comes and goes.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
				f.slowHeaders()
			}
		}
	}()
	defer func() { close(stop); wg.Wait() }()

	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: time.Second}
	for round := range 5 {
		start := time.Now()
		resp, err := client.Get("http://" + addr + "/healthz")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("round %d: healthz %v %v; stderr:\n%s", round, resp, err, p.stderr)
		}
		resp.Body.Close()
		ws, err := subscriber(t, addr, "news", time.Second)
		if err != nil {
			t.Fatalf("round %d: new WebSocket: %v", round, err)
		}
		data := fmt.Sprintf("round %d", round)
		if err := publish(client, addr, "news", data); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		ws.SetReadDeadline(time.Now().Add(time.Second))
		if _, msg, err := ws.ReadMessage(); err != nil || !strings.Contains(string(msg), data) {
			t.Fatalf("round %d: publication %s %v", round, msg, err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("round %d took %v", round, d)
		}
		ws.Close()
	}
	metrics := "http://" + addr + "/metrics"
	if n := testmetrics.Sample(t, metrics, "herald_http_connections"); n > 200 {
		t.Errorf("herald_http_connections %v over the cap", n)
	}
	for _, reason := range []string{"idle", "headers"} {
		if n := testmetrics.Sample(t, metrics, `herald_http_connections_shed_total{reason="`+reason+`"}`); n == 0 {
			t.Errorf("no %s connection was shed", reason)
		}
	}
	if strings.Contains(p.stderr.String(), "too many open files") {
		t.Errorf("the server ran out of descriptors:\n%s", p.stderr)
	}
}

// After SIGTERM, /readyz answers 503 for shutdown_delay while health, new
// connections and publishing go on; then the listener closes, clients get
// 1001, and the process exits.
func TestServeRollingRestart(t *testing.T) {
	addr := freeAddr(t)
	cfg := serveConfig(t, addr, "shutdown_delay: 1s\nshutdown_timeout: 3s\n")
	p := startHerald(t, nil, "serve", "--config", cfg)
	waitHealthy(t, addr)
	before, err := subscriber(t, addr, "news", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 2 * time.Second}
	status := func(path string) (int, error) {
		resp, err := client.Get("http://" + addr + path)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, err := status("/readyz")
		if err != nil {
			t.Fatalf("readyz went to %v without answering 503 first", err)
		}
		if code == http.StatusServiceUnavailable {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("readyz never answered 503")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, err := status("/healthz"); code != 200 {
		t.Fatalf("healthz during the delay: %d %v", code, err)
	}
	during, err := subscriber(t, addr, "news", 2*time.Second)
	if err != nil {
		t.Fatalf("a new WebSocket during the delay: %v", err)
	}
	if err := publish(client, addr, "news", "during"); err != nil {
		t.Fatalf("publishing during the delay: %v", err)
	}
	for _, c := range []*websocket.Conn{before, during} {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		var got []string
		for {
			_, msg, err := c.ReadMessage()
			if err != nil {
				if !websocket.IsCloseError(err, websocket.CloseGoingAway) || !strings.Contains(strings.Join(got, ""), `"data":"during"`) {
					t.Fatalf("want the publication, then close 1001; got %q, %v", got, err)
				}
				break
			}
			got = append(got, string(msg))
		}
	}
	var refused bool
	for range 100 { // once the listener has closed, nothing answers
		if _, err := status("/readyz"); err != nil {
			refused = true
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !refused {
		t.Fatal("the listener stayed open after the delay")
	}
	p.exitWithin(t, 10*time.Second)
}

// A connection stuck in its headers and one stuck in a body do not hold
// up the exit past shutdown_timeout.
func TestServeExitsWithinShutdownTimeoutDespiteHalfOpenConnections(t *testing.T) {
	const timeout = 2 * time.Second
	addr := freeAddr(t)
	cfg := serveConfig(t, addr, fmt.Sprintf("shutdown_delay: 0s\nshutdown_timeout: %v\n", timeout))
	// The race detector otherwise holds a process for a second at exit.
	p := startHerald(t, []string{"GORACE=atexit_sleep_ms=0"}, "serve", "--config", cfg)
	waitHealthy(t, addr)
	f := &flood{addr: addr}
	defer f.close()
	f.slowHeaders()
	body := f.open("POST /api/publish HTTP/1.1\r\nHost: x\r\nAuthorization: apikey k\r\nExpect: 100-continue\r\nContent-Length: 100\r\n\r\n")
	if line, err := bufio.NewReader(body).ReadString('\n'); err != nil || !strings.Contains(line, "100 Continue") {
		t.Fatalf("the API did not start reading the body: %q %v", line, err)
	}
	io.WriteString(body, "{")
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	took := p.exitWithin(t, timeout+5*time.Second)
	t.Logf("exited %v after SIGTERM (shutdown_timeout %v)", took, timeout)
	if took > timeout+1500*time.Millisecond {
		t.Fatalf("exit took %v, more than shutdown_timeout %v and a margin", took, timeout)
	}
	body.SetReadDeadline(time.Now().Add(time.Second))
	if _, err := io.Copy(io.Discard, body); err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("the half-open body connection: %v", err)
	}
}
