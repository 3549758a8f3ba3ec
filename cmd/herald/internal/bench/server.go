package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// target is the server under test: one this process started, or one
// given by --url (with --server-pid to measure it).
type target struct {
	wsURL   string // ws://127.0.0.1:PORT/ws
	httpURL string // http://127.0.0.1:PORT
	apiKey  string
	// tokenSecret signs connection tokens (HS256) for the server; empty
	// when not known (a --url server the bench was not told it of).
	tokenSecret string
	pid         int // 0: unknown, no memory or CPU figures
	// name is the node's name in a cluster run (node0, node1, ...);
	// empty for a server alone. broker and prefix are the cluster's.
	name           string
	broker, prefix string
	cmd            *exec.Cmd
	exited         chan struct{}
	logPath        string
	dir            string
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// freePort asks the kernel for a free loopback port. Another process
// could take it before the server binds it; startServer then fails and
// says so.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// serverConfig is the YAML the spawned server runs with: anonymous
// clients may subscribe to channels without a namespace ("bench"), only
// the API may publish, and the node takes far more connections than the
// bench opens.
func serverConfig(port int, apiKey, tokenSecret string) string {
	return fmt.Sprintf(`# written by herald bench
addr: "127.0.0.1:%d"
api_key: %q
token_secret: %q
allow_anonymous: true
# No load balancer to wait for: stop at once.
shutdown_delay: 0s
limits:
  max_connections: 200000
log:
  level: warn
default_channel:
  subscribe: anyone
  publish: nobody
  presence: false
  join_leave: false
  history_size: 0
`, port, apiKey, tokenSecret)
}

// startServer runs `exe serve` with a config of its own and waits until
// /healthz answers.
func startServer(ctx context.Context, exe string, extraEnv []string) (*target, error) {
	return startServerConfig(ctx, exe, extraEnv, "")
}

// startServerConfig is startServer with more YAML at the end of the
// config (top-level keys the base config does not set).
func startServerConfig(ctx context.Context, exe string, extraEnv []string, extraYAML string) (*target, error) {
	t, port, logf, err := newChildTarget("herald-bench-")
	if err != nil {
		return nil, err
	}
	if err := t.serve(ctx, exe, extraEnv, port, logf, extraYAML); err != nil {
		return nil, err
	}
	return t, nil
}

// serve writes the target's config (its port and keys, then extraYAML)
// and runs `exe serve` with it until /healthz answers; on failure nothing
// of it is left. It closes logf, which the child has a copy of.
func (t *target) serve(ctx context.Context, exe string, extraEnv []string, port int, logf *os.File, extraYAML string) error {
	defer logf.Close()
	t.wsURL = fmt.Sprintf("ws://127.0.0.1:%d/ws", port)
	cfg := filepath.Join(t.dir, "herald.yaml")
	if err := os.WriteFile(cfg, []byte(serverConfig(port, t.apiKey, t.tokenSecret)+extraYAML), 0o600); err != nil {
		os.RemoveAll(t.dir)
		return err
	}
	cmd := exec.Command(exe, "serve", "--config", cfg)
	cmd.Env = append(serverEnv(os.Environ()), extraEnv...)
	return t.launch(ctx, cmd, logf, "the server")
}

// newChildTarget prepares a target for a server this bench starts: a
// temporary directory (prefix) holding its log, a free port, an API key.
// The caller closes logf once the child has started.
func newChildTarget(prefix string) (t *target, port int, logf *os.File, err error) {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return nil, 0, nil, err
	}
	if port, err = freePort(); err == nil {
		t = &target{httpURL: fmt.Sprintf("http://127.0.0.1:%d", port), apiKey: "bench-" + randomHex(16), tokenSecret: randomHex(32), dir: dir,
			logPath: filepath.Join(dir, "server.log"), exited: make(chan struct{})}
		logf, err = os.Create(t.logPath)
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, 0, nil, err
	}
	return t, port, logf, nil
}

// launch starts cmd as the target's server, logging to logf, and waits
// until it answers /healthz; on failure nothing of it is left.
func (t *target) launch(ctx context.Context, cmd *exec.Cmd, logf *os.File, what string) error {
	cmd.Stdout, cmd.Stderr = logf, logf
	setChildAttrs(cmd)
	if err := cmd.Start(); err != nil {
		os.RemoveAll(t.dir)
		return fmt.Errorf("starting %s: %w", what, err)
	}
	t.cmd, t.pid = cmd, cmd.Process.Pid
	go func() { _ = cmd.Wait(); close(t.exited) }()
	if err := t.waitHealthy(ctx, 20*time.Second); err != nil {
		t.stop()
		return err
	}
	return nil
}

// serverEnv drops HERALD_* variables so that the config file alone rules.
func serverEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "HERALD_") {
			out = append(out, kv)
		}
	}
	return out
}

// externalTarget checks a --url and derives the HTTP address from it.
func externalTarget(ctx context.Context, raw, apiKey string, pid int) (*target, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return nil, usagef("--url must be ws://HOST:PORT/PATH, got %q", raw)
	}
	if u.Scheme == "wss" {
		return nil, usagef("--url: wss is not supported; bench a plain ws:// listener on loopback")
	}
	if err := requireLoopback(u.Hostname()); err != nil {
		return nil, err
	}
	t := &target{wsURL: raw, httpURL: "http://" + u.Host, apiKey: apiKey, pid: pid}
	if pid != 0 {
		if _, err := ReadCPU(pid); err != nil {
			return nil, usagef("--server-pid %d: %v", pid, err)
		}
	}
	if err := t.waitHealthy(ctx, 5*time.Second); err != nil {
		return nil, err
	}
	return t, nil
}

// requireLoopback refuses targets off this machine: the bench opens tens
// of thousands of connections and is meant for loopback only.
func requireLoopback(host string) error {
	if !isLoopback(host) {
		return usagef("--url must point at a loopback address (127.x.x.x, ::1 or localhost), got %q", host)
	}
	return nil
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

func (t *target) waitHealthy(ctx context.Context, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	var lastErr error
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, t.httpURL+"/healthz", nil)
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("/healthz answered %s", resp.Status)
		}
		lastErr = err
		select {
		case <-t.exited:
			return fmt.Errorf("the server exited at start: %s", t.logTail())
		case <-ctx.Done():
			return fmt.Errorf("the server at %s is not healthy: %v %s", t.httpURL, lastErr, t.logTail())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// logTail returns the end of the spawned server's log, for errors.
func (t *target) logTail() string {
	if t.logPath == "" {
		return ""
	}
	b, err := os.ReadFile(t.logPath)
	if err != nil || len(b) == 0 {
		return ""
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return "\n--- server log (end) ---\n" + strings.TrimSpace(string(b))
}

// alive reports whether a server this process started is still running.
func (t *target) alive() bool {
	if t.cmd == nil {
		return true
	}
	select {
	case <-t.exited:
		return false
	default:
		return true
	}
}

// stop ends a server this process started: SIGTERM, then SIGKILL if it
// has not exited within 15s. A --url server is left alone.
func (t *target) stop() {
	if t.cmd == nil {
		return
	}
	if t.alive() {
		_ = t.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-t.exited:
		case <-time.After(15 * time.Second):
			_ = t.cmd.Process.Kill()
			<-t.exited
		}
	}
	if t.dir != "" {
		os.RemoveAll(t.dir)
	}
}

// info asks GET /api/info for the node's view (connections, delivered).
func (t *target) info(ctx context.Context) (map[string]any, error) {
	if t.apiKey == "" {
		return nil, errors.New("no API key")
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, t.httpURL+"/api/info", nil)
	req.Header.Set("Authorization", "apikey "+t.apiKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("/api/info: %s", resp.Status)
	}
	var m map[string]any
	return m, json.NewDecoder(resp.Body).Decode(&m)
}

var goroutinesLine = regexp.MustCompile(`(?m)^go_goroutines\s+([0-9.e+]+)`)

// goroutines reads go_goroutines from /metrics; -1 when the server does
// not export it.
func (t *target) goroutines(ctx context.Context) int {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, t.httpURL+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	m := goroutinesLine.FindSubmatch(b)
	if m == nil {
		return -1
	}
	f, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		return -1
	}
	return int(f)
}
