package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/testservices"
)

// TestMain lets the test binary stand in for the herald binary: run with
// RUN_TEST_BINARY_AS_HERALD=1 it is herald, so tests can start real server
// processes and send them signals. TEST_RLIMIT_NOFILE lowers its open-files
// limit first, so a test can run it out of descriptors quickly.
func TestMain(m *testing.M) {
	if os.Getenv("RUN_TEST_BINARY_AS_HERALD") == "1" {
		if n, err := strconv.ParseUint(os.Getenv("TEST_RLIMIT_NOFILE"), 10, 64); err == nil {
			if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: n, Max: n}); err != nil {
				fmt.Fprintln(os.Stderr, "setrlimit:", err)
				os.Exit(3)
			}
		}
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// process is a herald started as a child.
type process struct {
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
}

func freeAddr(t *testing.T) string { return testservices.FreeAddr(t) }

// startHerald runs `herald args...` with env added to a clean environment.
func startHerald(t *testing.T, env []string, args ...string) *process {
	t.Helper()
	p := &process{stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	p.cmd = exec.Command(os.Args[0], args...)
	p.cmd.Env = append([]string{"RUN_TEST_BINARY_AS_HERALD=1", "PATH=" + os.Getenv("PATH")}, env...)
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
	})
	return p
}

// heraldOutput runs herald to completion and returns its exit code and output.
func heraldOutput(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	p := startHerald(t, env, args...)
	err := p.cmd.Wait()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, p.stdout.String(), p.stderr.String()
}

func waitHealthy(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("herald at %s not healthy within 10s", addr)
}

func TestServeShutsDownGracefullyOnSIGTERM(t *testing.T) {
	addr := freeAddr(t)
	p := startHerald(t, []string{"HERALD_ADDR=" + addr, "HERALD_API_KEY=k", "HERALD_TOKEN_SECRET=s", "HERALD_ALLOW_ANONYMOUS=true",
		"HERALD_SHUTDOWN_DELAY=0s"}, "serve")
	waitHealthy(t, addr)
	var conns []*websocket.Conn
	for range 3 {
		c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.WriteMessage(websocket.TextMessage, []byte(`{"id":1,"op":"subscribe","channel":"news"}`))
		c.ReadMessage()
		conns = append(conns, c)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for _, c := range conns {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		var sawNotice bool
		for {
			_, msg, err := c.ReadMessage()
			if err != nil {
				if !websocket.IsCloseError(err, websocket.CloseGoingAway) || !sawNotice {
					t.Fatalf("want a disconnect notice then close 1001, got %v (notice %v)", err, sawNotice)
				}
				break
			}
			sawNotice = sawNotice || strings.Contains(string(msg), `"code":1001`)
		}
	}
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("herald exited with %v; stderr:\n%s", err, p.stderr)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("herald did not exit after SIGTERM")
	}
}

func TestServeDevMode(t *testing.T) {
	addr := freeAddr(t)
	p := startHerald(t, []string{"HERALD_ADDR=" + addr}, "serve")
	waitHealthy(t, addr)
	var key string
	deadline := time.Now().Add(5 * time.Second)
	for key == "" && time.Now().Before(deadline) {
		if m := regexp.MustCompile(`api key:\s+(\S+)`).FindStringSubmatch(p.stdout.String()); m != nil {
			key = m[1]
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(p.stdout.String(), "DEV MODE") || key == "" {
		t.Fatalf("dev mode not announced with a key:\n%s", p.stdout)
	}
	c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws", nil) // anonymous is allowed
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.WriteMessage(websocket.TextMessage, []byte(`{"id":1,"op":"subscribe","channel":"news"}`))
	c.ReadMessage()
	req, _ := http.NewRequest("POST", "http://"+addr+"/api/publish", strings.NewReader(`{"channel":"news","data":"hi"}`))
	req.Header.Set("Authorization", "apikey "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("publish with the printed key: %v %v", resp, err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, msg, err := c.ReadMessage(); err != nil || !strings.Contains(string(msg), `"data":"hi"`) {
		t.Fatalf("%s %v", msg, err)
	}
	resp, err = http.Post("http://"+addr+"/dev/token", "application/json", strings.NewReader(`{"user":"ann"}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("dev login: %v %v", resp, err)
	}
}

func TestConfigFileWithoutSecretsIsAStartupError(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "herald.yaml")
	os.WriteFile(file, []byte("addr: \"127.0.0.1:0\"\n"), 0o600)
	code, _, stderr := heraldOutput(t, nil, "serve", "--config", file)
	if code != 1 || !strings.Contains(stderr, "api_key") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	os.WriteFile(file, []byte("api_key: k\n"), 0o600)
	code, _, stderr = heraldOutput(t, nil, "serve", "--config", file)
	if code != 1 || !strings.Contains(stderr, "token_secret") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

func TestGenConfigThenCheckConfig(t *testing.T) {
	code, yaml, _ := heraldOutput(t, nil, "genconfig")
	if code != 0 || !strings.Contains(yaml, "api_key:") {
		t.Fatalf("genconfig: %d %q", code, yaml)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "herald.yaml")
	os.WriteFile(file, []byte(yaml), 0o600)
	code, _, stderr := heraldOutput(t, nil, "checkconfig", "--config", file)
	if code != 1 || !strings.Contains(stderr, "api_key") {
		t.Fatalf("checkconfig of the template (no secrets): %d %q", code, stderr)
	}
	filled := strings.Replace(strings.Replace(yaml, `api_key: ""`, `api_key: "k"`, 1), `token_secret: ""`, `token_secret: "s"`, 1)
	os.WriteFile(file, []byte(filled), 0o600)
	if code, out, stderr := heraldOutput(t, nil, "checkconfig", "--config", file); code != 0 || !strings.Contains(out, "ok") {
		t.Fatalf("checkconfig of a filled template: %d %q %q", code, out, stderr)
	}
	os.WriteFile(file, []byte(strings.Replace(filled, "  max_connections:", "  max_conections:", 1)), 0o600)
	if code, _, stderr := heraldOutput(t, nil, "checkconfig", "--config", file); code != 1 || !strings.Contains(stderr, "max_conections") {
		t.Fatalf("unknown key: %d %q", code, stderr)
	}
}

func TestGenTokenAndVersion(t *testing.T) {
	code, out, stderr := heraldOutput(t, nil, "gentoken", "--user", "alice", "--ttl", "1h", "--secret", "s3cret")
	if code != 0 {
		t.Fatalf("gentoken: %d %s", code, stderr)
	}
	v, _ := auth.NewVerifier(auth.VerifierConfig{HMACSecret: "s3cret"})
	creds, err := v.Verify(strings.TrimSpace(out))
	if err != nil || creds.User != "alice" || time.Until(creds.ExpiresAt) < 59*time.Minute {
		t.Fatalf("token %q: %+v %v", out, creds, err)
	}
	if code, _, stderr := heraldOutput(t, nil, "gentoken", "--ttl", "1h", "--secret", "s"); code != 2 || !strings.Contains(stderr, "--user") {
		t.Fatalf("gentoken without --user: %d %q", code, stderr)
	}
	if code, out, _ := heraldOutput(t, nil, "version"); code != 0 || !strings.HasPrefix(out, "herald ") {
		t.Fatalf("version: %d %q", code, out)
	}
	if code, _, _ := heraldOutput(t, nil, "frobnicate"); code != 2 {
		t.Fatalf("unknown command exit %d", code)
	}
}
