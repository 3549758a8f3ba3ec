package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/auth"
)

// clientTestNode serves a node for the client command's tests.
func clientTestNode(t *testing.T) (*herald.Node, string) {
	t.Helper()
	node, err := herald.New(herald.Config{
		AllowAnonymous: true, TokenSecret: "s", APIKey: "k",
		Namespaces: map[string]herald.ChannelPolicy{
			"chat": {Subscribe: "anyone", Publish: "subscribers", Presence: true, JoinLeave: true, HistorySize: 10},
		},
	}, herald.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(node.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = node.Shutdown(ctx)
		srv.Close()
	})
	return node, "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
}

func userToken(t *testing.T, user string) string {
	t.Helper()
	tok, err := auth.SignHS256("s", auth.TokenOptions{User: user})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// syncBuffer is a bytes.Buffer safe to write and read from two goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// cliRun is runClient running with pipes for stdin and stdout.
type cliRun struct {
	stdin  *io.PipeWriter
	lines  chan string
	stderr *syncBuffer
	result chan error
}

func startCLI(t *testing.T, args ...string) *cliRun {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	r := &cliRun{stdin: inW, lines: make(chan string, 100), stderr: &syncBuffer{}, result: make(chan error, 1)}
	go func() {
		err := runClient(args, inR, outW, r.stderr)
		outW.Close()
		r.result <- err
	}()
	go func() {
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			r.lines <- sc.Text()
		}
		close(r.lines)
	}()
	t.Cleanup(func() { inW.Close() }) // ends the stdin reader in every case
	return r
}

func (r *cliRun) expectLine(t *testing.T, want string) {
	t.Helper()
	select {
	case got := <-r.lines:
		if got != want {
			t.Fatalf("stdout line %q, want %q", got, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("no stdout line; want %q (stderr: %s)", want, r.stderr.String())
	}
}

func (r *cliRun) send(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(r.stdin, line+"\n"); err != nil {
		t.Fatal(err)
	}
}

func (r *cliRun) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-r.result:
		return err
	case <-time.After(5 * time.Second):
		t.Fatalf("runClient did not return (stderr: %s)", r.stderr.String())
		return nil
	}
}

// waitPresence waits until ch has n subscribers.
func waitPresence(t *testing.T, node *herald.Node, ch string, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		list, err := node.Presence(context.Background(), ch)
		if err == nil && len(list) == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("presence of %s = %v, %v; want %d", ch, list, err, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestClientCommand(t *testing.T) {
	node, url := clientTestNode(t)
	// Flags after the URL, as people type them.
	r := startCLI(t, url, "--sub", "chat:lobby", "--token", userToken(t, "alice"), "--header", "X-Trace: 1")
	waitPresence(t, node, "chat:lobby", 1)

	r.send(t, `{"text": "hi"}`)
	r.expectLine(t, `[chat:lobby #1] alice: {"text":"hi"}`)
	r.send(t, `hello world`)
	r.expectLine(t, `[chat:lobby #2] alice: "hello world"`)
	r.send(t, "") // blank lines are skipped
	r.send(t, `42`)
	r.expectLine(t, `[chat:lobby #3] alice: 42`)

	if _, err := node.PushToUser(context.Background(), "alice", "alert", json.RawMessage(`{"level":"high"}`)); err != nil {
		t.Fatal(err)
	}
	r.expectLine(t, `[push alert] {"level":"high"}`)

	// Someone else publishes; the server too.
	ctx := context.Background()
	bob, err := client.Dial(ctx, client.Options{URL: url, Token: userToken(t, "bob")})
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close()
	if _, err := bob.Subscribe(ctx, "chat:lobby"); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Publish(ctx, "chat:lobby", []string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	r.expectLine(t, `[chat:lobby #4] bob: ["a","b"]`)
	if _, err := node.Publish(ctx, "chat:lobby", json.RawMessage(`null`)); err != nil {
		t.Fatal(err)
	}
	r.expectLine(t, `[chat:lobby #5] server: null`)

	// EOF on stdin closes cleanly.
	r.stdin.Close()
	if err := r.wait(t); err != nil {
		t.Fatalf("runClient = %v after EOF, want nil", err)
	}
	stderr := r.stderr.String()
	for _, want := range []string{"* connected to node " + node.ID(), "as alice", "* subscribed to chat:lobby", "* bob joined chat:lobby"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	waitPresence(t, node, "chat:lobby", 1) // only bob is left
}

func TestClientCommandPubChannel(t *testing.T) {
	node, url := clientTestNode(t)
	ctx := context.Background()
	// An anonymous listener on chat:out, shown by its connection id.
	lr := startCLI(t, "--sub", "chat:out", url)
	// A publisher to chat:out that listens to chat:in; publishing needs a
	// subscription, so it subscribes to both and prints both.
	pr := startCLI(t, url, "--sub", "chat:in", "--sub", "chat:out", "--pub", "chat:out")
	waitPresence(t, node, "chat:out", 2)
	pr.send(t, "ping")
	for _, r := range []*cliRun{lr, pr} {
		select {
		case got := <-r.lines:
			if !strings.HasPrefix(got, "[chat:out #1] "+node.ID()+"-") || !strings.HasSuffix(got, `: "ping"`) {
				t.Fatalf("line %q", got)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no publication printed")
		}
	}
	if _, err := node.Publish(ctx, "chat:in", json.RawMessage(`1`)); err != nil {
		t.Fatal(err)
	}
	pr.expectLine(t, `[chat:in #1] server: 1`)
	lr.stdin.Close()
	pr.stdin.Close()
	for _, r := range []*cliRun{lr, pr} {
		if err := r.wait(t); err != nil {
			t.Fatal(err)
		}
	}
}

func TestClientCommandFinalDisconnect(t *testing.T) {
	node, url := clientTestNode(t)
	r := startCLI(t, url, "--token", userToken(t, "carol"), "--sub", "chat:x")
	waitPresence(t, node, "chat:x", 1)
	node.Disconnect(context.Background(), "carol")
	err := r.wait(t)
	if err == nil || !strings.Contains(err.Error(), "4003") {
		t.Fatalf("runClient = %v, want the 4003 close", err)
	}
}

func TestClientCommandErrors(t *testing.T) {
	node, url := clientTestNode(t)
	_ = node
	for _, tc := range []struct {
		args  []string
		usage bool
	}{
		{args: nil, usage: true},
		{args: []string{url, url}, usage: true},
		{args: []string{url, "--header", "no colon"}, usage: true},
		{args: []string{url, "--sub", "nope:x"}},                   // 403
		{args: []string{"ws://127.0.0.1:1/ws"}},                    // nothing listens
		{args: []string{url, "--token", "bad"}},                    // 401
		{args: []string{url, "--header", "Origin: http://evil.x"}}, // 403 upgrade
	} {
		var stderr bytes.Buffer
		err := runClient(tc.args, strings.NewReader(""), io.Discard, &stderr)
		if err == nil || errors.Is(err, errUsage) != tc.usage {
			t.Errorf("runClient(%q) = %v; usage error wanted: %v", tc.args, err, tc.usage)
		}
	}
	if err := runClient([]string{"-h"}, strings.NewReader(""), io.Discard, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
}

func TestParseInterspersed(t *testing.T) {
	for _, tc := range []struct{ args, pos, subs []string }{
		{[]string{"u", "--sub", "a", "--sub", "b"}, []string{"u"}, []string{"a", "b"}},
		{[]string{"--sub", "a", "u", "--sub=b"}, []string{"u"}, []string{"a", "b"}},
		{[]string{"--sub", "a", "--", "--u"}, []string{"--u"}, []string{"a"}},
		{[]string{"u", "v"}, []string{"u", "v"}, nil},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		var subs listFlag
		fs.Var(&subs, "sub", "")
		pos, err := parseInterspersed(fs, tc.args)
		if err != nil || !slices.Equal(pos, tc.pos) || !slices.Equal(subs, tc.subs) {
			t.Errorf("parseInterspersed(%q) = %q, subs %q, %v", tc.args, pos, subs, err)
		}
	}
}

// restartingNode is a node served on addr, to stop and start again there.
type restartingNode struct {
	node *herald.Node
	srv  *httptest.Server
}

// startNodeAt builds a node from cfg, has it publish each of pubs to ch
// before it serves (so a client cannot be back in time to see them
// live), then serves it on addr.
func startNodeAt(t *testing.T, cfg herald.Config, addr, ch string, pubs ...string) *restartingNode {
	t.Helper()
	node, err := herald.New(cfg, herald.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pubs {
		if _, err := node.Publish(context.Background(), ch, json.RawMessage(p)); err != nil {
			t.Fatal(err)
		}
	}
	var ln net.Listener
	for range 100 { // the previous node's port may take a moment to free
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(node.Handler())
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	n := &restartingNode{node: node, srv: srv}
	t.Cleanup(n.stop)
	return n
}

func (n *restartingNode) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = n.node.Shutdown(ctx)
	n.srv.Close()
}

// waitStderr waits until the CLI's stderr holds want.
func (r *cliRun) waitStderr(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(r.stderr.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("stderr lacks %q:\n%s", want, r.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// After its node restarts, the client prints what it recovered: with the
// streams on disk, the publications made before the new node served;
// with them in memory, nothing, the streams being new.
func TestClientCommandResumes(t *testing.T) {
	for _, tc := range []struct {
		store string
		line  string
		// out is what stdout shows after the restart, a live
		// publication last.
		out []string
	}{
		{herald.StoreDisk, "* resumed chat:lobby: recovered, 2 replayed", []string{
			`[chat:lobby #3] server: 3`, `[chat:lobby #4] server: 4`, `[chat:lobby #5] server: 5`}},
		// The new stream's publications made before the client was back
		// belong to a stream it never saw: not replayed.
		{herald.StoreMemory, "* resumed chat:lobby: NOT recovered (epoch changed)", []string{
			`[chat:lobby #3] server: 5`}},
	} {
		t.Run(tc.store, func(t *testing.T) {
			cfg := herald.Config{
				AllowAnonymous: true, TokenSecret: "s", DataDir: t.TempDir(),
				History: herald.History{Store: tc.store},
				Namespaces: map[string]herald.ChannelPolicy{
					"chat": {Subscribe: "anyone", HistorySize: 10},
				},
			}
			addr := freeAddr(t)
			n1 := startNodeAt(t, cfg, addr, "chat:lobby")
			r := startCLI(t, "ws://"+addr+"/ws", "--sub", "chat:lobby")
			r.waitStderr(t, "* subscribed to chat:lobby")
			for _, p := range []string{"1", "2"} {
				if _, err := n1.node.Publish(context.Background(), "chat:lobby", json.RawMessage(p)); err != nil {
					t.Fatal(err)
				}
			}
			r.expectLine(t, `[chat:lobby #1] server: 1`)
			r.expectLine(t, `[chat:lobby #2] server: 2`)

			n1.stop()
			r.waitStderr(t, "* disconnected (code 1001)")
			n2 := startNodeAt(t, cfg, addr, "chat:lobby", "3", "4")
			r.waitStderr(t, tc.line)
			if _, err := n2.node.Publish(context.Background(), "chat:lobby", json.RawMessage("5")); err != nil {
				t.Fatal(err)
			}
			for _, want := range tc.out {
				r.expectLine(t, want)
			}
			r.stdin.Close()
			if err := r.wait(t); err != nil {
				t.Fatal(err)
			}
		})
	}
}
