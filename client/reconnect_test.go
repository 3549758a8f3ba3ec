package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/client"
)

// relisten listens again on addr, which a closed server just freed.
func relisten(t *testing.T, addr string) net.Listener {
	t.Helper()
	var err error
	for range 100 {
		var ln net.Listener
		if ln, err = net.Listen("tcp", addr); err == nil {
			return ln
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("listening again on %s: %v", addr, err)
	return nil
}

func TestReconnectResubscribes(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	s1 := startServer(t, testConfig(), ln)
	ctx := ctxT(t)

	var tokens atomic.Int32
	r := newRecorder()
	c := dial(t, r, client.Options{
		URL: s1.url, Reconnect: true, MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
		TokenFunc: func(ctx context.Context) (string, error) {
			tokens.Add(1)
			return token(t, "alice", 0), nil
		},
	})
	waitFor[client.ConnectInfo](t, r, nil)
	for _, ch := range []string{"chat:a", "chat:b", "lobby"} {
		if _, err := c.Subscribe(ctx, ch); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Unsubscribe(ctx, "chat:b"); err != nil {
		t.Fatal(err)
	}

	// The node shuts down (close 1001): the client is to come back.
	s1.stop()
	if d := waitFor[disconnectEvent](t, r, nil); d.Code != 1001 || !d.Again {
		t.Fatalf("disconnect = %+v, want 1001 with a reconnect", d)
	}
	// Calls made while no connection is up fail at once.
	var de *client.DisconnectError
	if _, err := c.Ping(ctx); !errors.As(err, &de) || de.Code != 1001 {
		t.Fatalf("Ping while reconnecting: %v", err)
	}

	s2 := startServer(t, testConfig(), relisten(t, addr))
	info := waitFor[client.ConnectInfo](t, r, nil)
	if info.Node != s2.node.ID() || info.User != "alice" || c.Info() != info {
		t.Fatalf("reconnected to %+v (Info %+v), want node %s", info, c.Info(), s2.node.ID())
	}
	if n := tokens.Load(); n != 2 {
		t.Fatalf("TokenFunc called %d times, want 2 (dial and reconnect)", n)
	}
	// OnConnect comes once the channels are subscribed again, so these
	// publications must arrive; chat:b was unsubscribed and must not.
	for _, ch := range []string{"chat:b", "chat:a", "lobby"} {
		if _, err := s2.node.Publish(ctx, ch, json.RawMessage(`"`+ch+`"`)); err != nil {
			t.Fatal(err)
		}
	}
	// Channels are delivered independently, so in either order.
	got := map[string]bool{}
	for range 2 {
		got[waitFor[client.Publication](t, r, nil).Channel] = true
	}
	if !got["chat:a"] || !got["lobby"] {
		t.Fatalf("publications on %v, want chat:a and lobby", got)
	}
	// The new connection serves calls, and knows chat:a is subscribed.
	if _, err := c.Subscribe(ctx, "chat:a"); err == nil {
		t.Fatal("subscribing again to a resubscribed channel succeeded; want 409")
	}
	if _, err := c.Publish(ctx, "chat:a", "back"); err != nil {
		t.Fatal(err)
	}
}

func TestDisconnectByServerIsFinal(t *testing.T) {
	s := startServer(t, testConfig(), nil)
	r := newRecorder()
	c := dial(t, r, client.Options{URL: s.url, Token: token(t, "alice", 0), Reconnect: true, MinBackoff: time.Millisecond})
	waitFor[client.ConnectInfo](t, r, nil)
	if n, _ := s.node.Disconnect(context.Background(), "alice"); n != 1 {
		t.Fatalf("Disconnect = %d", n)
	}
	if d := waitFor[disconnectEvent](t, r, nil); d.Code != 4003 || d.Again {
		t.Fatalf("disconnect = %+v, want final 4003", d)
	}
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done not closed after a final close code")
	}
	if _, err := c.Ping(context.Background()); !errors.Is(err, client.ErrClosed) {
		// The client stopped for good; Close was not called, so calls
		// report the disconnect.
		var de *client.DisconnectError
		if !errors.As(err, &de) || de.Code != 4003 {
			t.Fatalf("Ping after the end: %v", err)
		}
	}
}

// A reconnect refused with 4001 (the new node does not accept the token)
// ends the client.
func TestUnauthorizedReconnectIsFinal(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	s1 := startServer(t, testConfig(), ln)
	r := newRecorder()
	var tokens atomic.Int32
	c := dial(t, r, client.Options{URL: s1.url, Reconnect: true, MinBackoff: 10 * time.Millisecond,
		TokenFunc: func(context.Context) (string, error) {
			tokens.Add(1)
			return token(t, "alice", 0), nil
		}})
	waitFor[client.ConnectInfo](t, r, nil)
	s1.stop()
	waitFor[disconnectEvent](t, r, func(d disconnectEvent) bool { return d.Code == 1001 && d.Again })

	cfg := testConfig()
	cfg.TokenSecret = "another secret"
	startServer(t, cfg, relisten(t, addr))
	if d := waitFor[disconnectEvent](t, r, nil); d.Code != 4001 || d.Again {
		t.Fatalf("disconnect = %+v, want final 4001", d)
	}
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done not closed after 4001")
	}
	n := tokens.Load()
	time.Sleep(100 * time.Millisecond)
	if tokens.Load() != n {
		t.Fatal("still reconnecting after 4001")
	}
}

// An expired token closes with 4006; the client comes back with a fresh one.
func TestTokenExpiryReconnectsWithFreshToken(t *testing.T) {
	s := startServer(t, testConfig(), nil)
	r := newRecorder()
	var tokens atomic.Int32
	c := dial(t, r, client.Options{URL: s.url, Reconnect: true, MinBackoff: 10 * time.Millisecond,
		TokenFunc: func(context.Context) (string, error) {
			ttl := time.Hour // the fresh token outlives the test
			if tokens.Add(1) == 1 {
				ttl = 2 * time.Second
			}
			return token(t, "alice", ttl), nil
		}})
	first := waitFor[client.ConnectInfo](t, r, nil)
	if first.Expires.IsZero() {
		t.Fatal("connect info has no expiry")
	}
	if _, err := c.Subscribe(context.Background(), "chat:x"); err != nil {
		t.Fatal(err)
	}
	if d := waitFor[disconnectEvent](t, r, nil); d.Code != 4006 || !d.Again {
		t.Fatalf("disconnect = %+v, want 4006 with a reconnect", d)
	}
	second := waitFor[client.ConnectInfo](t, r, nil)
	if second.Client == first.Client || tokens.Load() != 2 {
		t.Fatalf("reconnect: %+v after %+v, %d tokens", second, first, tokens.Load())
	}
	if _, err := s.node.Publish(context.Background(), "chat:x", json.RawMessage(`1`)); err != nil {
		t.Fatal(err)
	}
	waitFor[client.Publication](t, r, nil)
}

// Without Reconnect, a drop ends the client.
func TestNoReconnect(t *testing.T) {
	s := startServer(t, herald.Config{AllowAnonymous: true}, nil)
	r := newRecorder()
	c := dial(t, r, client.Options{URL: s.url})
	s.stop()
	if d := waitFor[disconnectEvent](t, r, nil); d.Code != 1001 || d.Again {
		t.Fatalf("disconnect = %+v", d)
	}
	<-c.Done()
}

// Dial tries each endpoint until one connects, and a client whose node
// goes away reconnects to another of them.
func TestSeveralURLs(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "ws://" + ln.Addr().String() + "/ws"
	ln.Close() // nothing listens there now
	s1 := startServer(t, testConfig(), nil)
	s2 := startServer(t, testConfig(), nil)
	r := newRecorder()
	c := dial(t, r, client.Options{URL: dead, URLs: []string{s1.url, s2.url}, Reconnect: true,
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, Token: token(t, "alice", 0)})
	if info := waitFor[client.ConnectInfo](t, r, nil); info.Node != s1.node.ID() {
		t.Fatalf("connected to node %s, want the first live one %s", info.Node, s1.node.ID())
	}
	s1.stop()
	if info := waitFor[client.ConnectInfo](t, r, nil); info.Node != s2.node.ID() {
		t.Fatalf("reconnected to node %s, want %s", info.Node, s2.node.ID())
	}
	if _, err := c.Ping(ctxT(t)); err != nil {
		t.Fatal(err)
	}
}
