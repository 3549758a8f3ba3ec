package client_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/auth"
)

// TestMain fails the run if any client goroutine outlives the tests:
// every test closes its clients, and Close must stop everything.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaked := waitNoClientGoroutines(5 * time.Second); leaked != "" {
			fmt.Fprintf(os.Stderr, "leaked client goroutines:\n%s\n", leaked)
			code = 1
		}
	}
	os.Exit(code)
}

func waitNoClientGoroutines(wait time.Duration) string {
	deadline := time.Now().Add(wait)
	for {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var leaked []string
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, "herald/client.(*Client)") {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 || time.Now().After(deadline) {
			return strings.Join(leaked, "\n\n")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

const secret = "s"

func testConfig() herald.Config {
	return herald.Config{
		AllowAnonymous: true, TokenSecret: secret, APIKey: "k",
		Namespaces: map[string]herald.ChannelPolicy{
			"chat": {Subscribe: "anyone", Publish: "subscribers", Presence: true, JoinLeave: true, HistorySize: 10},
		},
	}
}

// server is a herald node served over HTTP.
type server struct {
	node *herald.Node
	srv  *httptest.Server
	url  string
}

// startServer serves a node built from cfg on ln (a fresh port when nil).
// It stops with the test.
func startServer(t *testing.T, cfg herald.Config, ln net.Listener) *server {
	t.Helper()
	node, err := herald.New(cfg, herald.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(node.Handler())
	if ln != nil {
		srv.Listener.Close()
		srv.Listener = ln
	}
	srv.Start()
	s := &server{node: node, srv: srv, url: "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"}
	t.Cleanup(s.stop)
	return s
}

// stop shuts the node down (close 1001 to every client) and the listener.
func (s *server) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.node.Shutdown(ctx)
	s.srv.Close()
}

func token(t *testing.T, user string, ttl time.Duration) string {
	t.Helper()
	tok, err := auth.SignHS256(secret, auth.TokenOptions{User: user, TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Events a recorder collects from the callbacks.
type (
	joinEvent   struct{ Channel, Client, User string }
	leaveEvent  struct{ Channel, Client, User string }
	unsubEvent  struct{ Channel, Reason string }
	resumeEvent struct {
		Channel string
		R       client.Resume
	}
	disconnectEvent struct {
		Code   int
		Reason string
		Again  bool
	}
)

// recorder turns callbacks into a stream of events a test waits on.
type recorder struct{ ch chan any }

func newRecorder() *recorder { return &recorder{ch: make(chan any, 1024)} }

// options returns o with every callback feeding the recorder.
func (r *recorder) options(o client.Options) client.Options {
	o.OnPublication = func(p client.Publication) { r.ch <- p }
	o.OnPush = func(p client.Push) { r.ch <- p }
	o.OnJoin = func(ch string, who client.ClientInfo) { r.ch <- joinEvent{ch, who.Client, who.User} }
	o.OnLeave = func(ch string, who client.ClientInfo) { r.ch <- leaveEvent{ch, who.Client, who.User} }
	o.OnUnsubscribe = func(ch, reason string) { r.ch <- unsubEvent{ch, reason} }
	o.OnConnect = func(ci client.ConnectInfo) { r.ch <- ci }
	o.OnResume = func(ch string, res client.Resume) { r.ch <- resumeEvent{ch, res} }
	o.OnDisconnect = func(code int, reason string, again bool) { r.ch <- disconnectEvent{code, reason, again} }
	return o
}

// waitFor skips events until one of type T satisfies match.
func waitFor[T any](t *testing.T, r *recorder, match func(T) bool) T {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case e := <-r.ch:
			if v, ok := e.(T); ok && (match == nil || match(v)) {
				return v
			}
		case <-timeout:
			var zero T
			t.Fatalf("timed out waiting for a %T", zero)
			return zero
		}
	}
}

// dial connects with the recorder's callbacks and closes with the test.
func dial(t *testing.T, r *recorder, o client.Options) *client.Client {
	t.Helper()
	c, err := client.Dial(context.Background(), r.options(o))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}
