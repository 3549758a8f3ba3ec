package socketio_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"
	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/protocol/sioproto"
	sio "github.com/heraldhq/herald/socketio"
)

// The same policy and hook cases over every way a connection asks for a
// subscription or a publication: a herald-protocol command, a Socket.IO
// client's built-in event (herald:join, herald:publish), and a Socket.IO
// handler's Go API (Socket.Join, Socket.To(room).Emit). They all go
// through the one core, so they cannot drift apart: a client's own
// request meets the policy, the limits and the hooks; application code
// meets the limits and the hooks (it speaks for the server, as the HTTP
// API does).

// matrixNode is a node whose hooks refuse channels starting "forbidden"
// (subscribe) and "muted" (publish) and users named "banned", with a
// namespace for authenticated users only and a Socket.IO namespace /me
// whose rooms are private "#user" channels.
func matrixNode(t *testing.T, mutate func(*herald.Config)) *node {
	hooks := herald.Hooks{
		OnConnect: func(_ context.Context, e herald.ConnectEvent) error {
			if e.User == "banned" {
				return errors.New("banned user")
			}
			return nil
		},
		OnSubscribe: func(_ context.Context, e herald.SubscribeEvent) error {
			if strings.HasPrefix(e.Channel, "forbidden") {
				return errors.New("not this channel")
			}
			return nil
		},
		OnPublish: func(_ context.Context, e herald.PublishEvent) error {
			if strings.HasPrefix(e.Channel, "muted") {
				return errors.New("not on this channel")
			}
			return nil
		},
	}
	n := startNode(t, func(c *herald.Config) {
		c.Namespaces["authed"] = herald.ChannelPolicy{Subscribe: herald.AccessAuthenticated, Publish: herald.AccessAuthenticated}
		c.SocketIO.Namespaces = []string{"/chat", "/me"}
		c.SocketIO.ChannelPrefix = map[string]string{"/me": "#"}
		if mutate != nil {
			mutate(c)
		}
	}, herald.WithHooks(hooks))
	goEntries(n, "/", "/me")
	return n
}

// goEntries gives namespaces the handlers through which a test asks the
// Go API to join and publish.
func goEntries(n *node, nsps ...string) {
	for _, nsp := range nsps {
		n.SocketIO().OnEvent(nsp, "go-join", func(s *sio.Socket, room string) string {
			if err := s.Join(room); err != nil {
				return err.Error()
			}
			return "ok"
		})
		n.SocketIO().OnEvent(nsp, "go-publish", func(s *sio.Socket, room string) string {
			if err := s.To(room).Emit("said", "hello"); err != nil {
				return err.Error()
			}
			return "ok"
		})
	}
}

// tokenWith signs a token for user with a channels claim.
func tokenWith(t *testing.T, user string, channels []string) string {
	t.Helper()
	claims := jwt.MapClaims{"sub": user, "exp": time.Now().Add(time.Hour).Unix()}
	if channels != nil {
		claims["channels"] = channels
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte("s"))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// entry is one way in: it asks for a subscription to, or a publication
// on, a room (a channel for herald's protocol) and returns "" or the
// refusal's text.
type entry struct {
	name      string
	subscribe func(room string) string
	publish   func(room string) string
}

// entries connects once per way in, with token ("" for anonymous), to
// namespace nsp for Socket.IO, whose room R is channel prefix+R for
// herald's protocol.
func entries(t *testing.T, n *node, token, nsp, prefix string) []entry {
	h := dialHeraldToken(t, n, token)
	auth := map[string]string{}
	if token != "" {
		auth["token"] = token
	}
	builtin, goapi := dialSIO(t, n, ""), dialSIO(t, n, "")
	builtin.mustConnect(nsp, auth)
	goapi.mustConnect(nsp, auth)
	ackText := func(args []sioproto.Arg) string {
		var v struct{ Error string }
		json.Unmarshal(args[0].JSON, &v)
		return v.Error
	}
	goText := func(args []sioproto.Arg) string {
		if s := str(t, args[0]); s != "ok" {
			return s
		}
		return ""
	}
	return []entry{
		{"herald protocol",
			func(room string) string { return h.refusal(`{"op":"subscribe","channel":"`+prefix+room+`"}`, 403) },
			func(room string) string {
				return h.refusal(`{"op":"publish","channel":"`+prefix+room+`","data":1}`, 403)
			}},
		{"socket.io built-in events",
			func(room string) string { return ackText(builtin.emit(nsp, true, "herald:join", room)) },
			func(room string) string { return ackText(builtin.emit(nsp, true, "herald:publish", room, 1)) }},
		{"socket.io Go API",
			func(room string) string { return goText(goapi.emit(nsp, true, "go-join", room)) },
			func(room string) string { return goText(goapi.emit(nsp, true, "go-publish", room)) }},
	}
}

// want is what one case expects of each way in: the refusal's text ("" for
// success), for the herald protocol, the built-in events and the Go API.
type want [3]string

func checkEntries(t *testing.T, es []entry, op, room string, w want) {
	t.Helper()
	for i, e := range es {
		f := e.subscribe
		if op == "publish" {
			f = e.publish
		}
		got := f(room)
		switch {
		case w[i] == "" && got != "":
			t.Errorf("%s: %s %q refused: %q", e.name, op, room, got)
		case w[i] != "" && !strings.Contains(got, w[i]):
			t.Errorf("%s: %s %q: got %q, want a refusal saying %q", e.name, op, room, got, w[i])
		}
	}
}

func TestPolicyAndHooksAreTheSameForEveryProtocol(t *testing.T) {
	n := matrixNode(t, nil)
	t.Run("the hook refuses a subscription", func(t *testing.T) {
		checkEntries(t, entries(t, n, "", "/", ""), "subscribe", "forbidden-x",
			want{"subscription refused: not this channel", "subscription refused: not this channel", "subscription refused: not this channel"})
	})
	t.Run("the hook refuses a publication, and nobody receives it", func(t *testing.T) {
		listener := dialHerald(t, n)
		listener.subscribe("muted-x")
		checkEntries(t, entries(t, n, "", "/", ""), "publish", "muted-x",
			want{"publication refused: not on this channel", "publication refused: not on this channel", "publication refused: not on this channel"})
		n.publish(t, `{"channel":"muted-x","data":"from the server"}`) // the server passes no hook
		if got := string(listener.publication()); got != `"from the server"` {
			t.Fatalf("the subscriber got %s first: a refused publication went through", got)
		}
	})
	t.Run("the token's channels claim binds clients", func(t *testing.T) {
		tok := tokenWith(t, "alice", []string{"chat:*"})
		es := entries(t, n, tok, "/", "")
		checkEntries(t, es, "subscribe", "chat:ok", want{})
		checkEntries(t, es, "subscribe", "news", want{"token does not allow", "token does not allow", ""})
	})
	t.Run("private channels are for their users", func(t *testing.T) {
		// Room "alice" of /me is channel "#alice".
		bob := entries(t, n, tokenWith(t, "bob", nil), "/me", "#")
		checkEntries(t, bob, "subscribe", "alice", want{"private to alice", "private to alice", ""})
		checkEntries(t, entries(t, n, "", "/me", "#"), "subscribe", "alice", want{"private to alice", "private to alice", ""})
		checkEntries(t, entries(t, n, tokenWith(t, "alice", nil), "/me", "#"), "subscribe", "alice", want{})
	})
	t.Run("the publish policy binds clients", func(t *testing.T) {
		es := entries(t, n, "", "/", "")
		before := "subscribe to \"chat:x\" before publishing to it" // chat: publish is for subscribers
		checkEntries(t, es, "publish", "chat:x", want{before, before, ""})
		checkEntries(t, es, "subscribe", "chat:x", want{})
		checkEntries(t, es, "publish", "chat:x", want{})
	})
	t.Run("anonymous connections stay out of authenticated channels", func(t *testing.T) {
		es := entries(t, n, "", "/", "")
		checkEntries(t, es, "subscribe", "authed:x", want{"needs an authenticated connection", "needs an authenticated connection", ""})
		checkEntries(t, es, "publish", "authed:y", want{"needs an authenticated connection", "needs an authenticated connection", ""})
		checkEntries(t, entries(t, n, tokenWith(t, "carol", nil), "/", ""), "subscribe", "authed:z", want{})
	})
}

func TestLimitsAreTheSameForEveryProtocol(t *testing.T) {
	n := matrixNode(t, func(c *herald.Config) {
		c.Limits.MaxSubscriptions = 2
		c.Limits.MaxConnectionsPerUser = 1
	})
	t.Run("subscriptions per connection", func(t *testing.T) {
		es := entries(t, n, "", "/", "")
		checkEntries(t, es, "subscribe", "a", want{})
		checkEntries(t, es, "subscribe", "b", want{})
		full := "subscription limit reached: at most 2 channels per connection"
		checkEntries(t, es, "subscribe", "c", want{full, full, full})
	})
	t.Run("connections per user, counted across protocols", func(t *testing.T) {
		tok := tokenWith(t, "dave", nil)
		h := dialHeraldToken(t, n, tok)
		if got := h.refusal(`{"op":"ping"}`, 0); got != "" {
			t.Fatal(got)
		}
		c := dialSIO(t, n, "")
		refusedWith(t, c.connect("/", map[string]string{"token": tok}), "too many connections for this user", 1013)
		h.ws.Close()
		waitUntil(t, "dave's herald connection to end", func() bool { return n.Info().Users == 0 })
		c.mustConnect("/", map[string]string{"token": tok})
		if code := dialHeraldToken(t, n, tok).closeCode(); code != 1013 {
			t.Fatalf("a herald connection over the limit closed %d, want 1013", code)
		}
	})
}

func TestAdmissionIsTheSameForEveryProtocol(t *testing.T) {
	t.Run("the OnConnect hook refuses", func(t *testing.T) {
		n := matrixNode(t, nil)
		tok := tokenWith(t, "banned", nil)
		if code := dialHeraldToken(t, n, tok).closeCode(); code != herald.CloseRefused {
			t.Fatalf("herald protocol closed %d, want %d", code, herald.CloseRefused)
		}
		refusedWith(t, dialSIO(t, n, "").connect("/", map[string]string{"token": tok}), "connection refused: banned user", herald.CloseRefused)
	})
	t.Run("anonymous connections are refused when anonymous access is off", func(t *testing.T) {
		n := matrixNode(t, func(c *herald.Config) { c.AllowAnonymous = false })
		h := dialHeraldToken(t, n, "")
		if got := h.refusal(`{"op":"connect"}`, 401); !strings.Contains(got, "a token is required") {
			t.Fatalf("herald protocol: %q", got)
		}
		if code := h.closeCode(); code != herald.CloseUnauthorized {
			t.Fatalf("herald protocol closed %d, want %d", code, herald.CloseUnauthorized)
		}
		refusedWith(t, dialSIO(t, n, "").connect("/", nil), "authentication required", herald.CloseUnauthorized)
	})
	t.Run("a bad token is refused", func(t *testing.T) {
		n := matrixNode(t, nil)
		if code := dialHeraldToken(t, n, "not-a-token").closeCode(); code != herald.CloseUnauthorized {
			t.Fatalf("herald protocol closed %d, want %d", code, herald.CloseUnauthorized)
		}
		refusedWith(t, dialSIO(t, n, "").connect("/", map[string]string{"token": "not-a-token"}), "token", herald.CloseUnauthorized)
	})
}

// refusedWith checks a CONNECT_ERROR's message and code.
func refusedWith(t *testing.T, p sioproto.Packet, msg string, code int) {
	t.Helper()
	var v struct {
		Message string
		Data    struct{ Code int }
	}
	json.Unmarshal(p.Data, &v)
	if p.Type != sioproto.ConnectError || !strings.Contains(v.Message, msg) || v.Data.Code != code {
		t.Fatalf("got %s %s, want CONNECT_ERROR %q with code %d", p.Type, p.Data, msg, code)
	}
}

// Every connection's context ends when the connection does: a hook
// waiting on it is released when its client goes, whatever the protocol.
func TestHooksGetAContextThatEndsWithTheConnection(t *testing.T) {
	type call struct {
		ctx    context.Context
		client string
	}
	waiting := make(chan call, 4)
	n := startNode(t, func(c *herald.Config) { c.SocketIO.RecoveryWindow = -1 },
		herald.WithHooks(herald.Hooks{OnSubscribe: func(ctx context.Context, e herald.SubscribeEvent) error {
			if e.Channel != "slow" {
				return nil
			}
			waiting <- call{ctx, e.Client}
			<-ctx.Done() // until the connection ends
			return ctx.Err()
		}}))
	h := dialHerald(t, n)
	h.ws.WriteMessage(websocket.TextMessage, []byte(`{"id":1,"op":"subscribe","channel":"slow"}`))
	c := dialSIO(t, n, "")
	sid := c.mustConnect("/", nil)
	c.emit("/", false, "herald:join", "slow")
	// The two hooks run in either order: each context is told from the
	// other by its client.
	calls := map[bool]context.Context{}
	for range 2 {
		select {
		case k := <-waiting:
			calls[k.client == sid] = k.ctx
		case <-time.After(5 * time.Second):
			t.Fatal("the hook was not called")
		}
	}
	for _, step := range []struct {
		socketIO bool
		hangUp   func()
	}{{false, func() { h.ws.Close() }}, {true, func() { c.ws.Close() }}} {
		ctx := calls[step.socketIO]
		if ctx == nil || ctx.Err() != nil {
			t.Fatal("the context ended before the connection did")
		}
		step.hangUp()
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("the context outlived its connection")
		}
	}
	waitUntil(t, "both connections to end", func() bool { return n.Info().Connections == 0 })
}

// A hook that panics refuses what it was asked about, whatever the
// protocol, and leaves nothing held: the user can connect again and the
// node shuts down at once.
func TestAPanickingHookRefusesAndLeavesNothingHeld(t *testing.T) {
	n := startNode(t, func(c *herald.Config) { c.Limits.MaxConnectionsPerUser = 1 },
		herald.WithHooks(herald.Hooks{
			OnConnect: func(_ context.Context, e herald.ConnectEvent) error {
				if e.User == "crash" {
					panic("kaboom")
				}
				return nil
			},
			OnSubscribe: func(context.Context, herald.SubscribeEvent) error { panic("kaboom") },
		}))
	goEntries(n, "/")
	tok := tokenWith(t, "crash", nil)
	for range 2 { // the second finds the user's slot free again
		refusedWith(t, dialSIO(t, n, "").connect("/", map[string]string{"token": tok}), "OnConnect panicked: kaboom", herald.CloseRefused)
		if code := dialHeraldToken(t, n, tok).closeCode(); code != herald.CloseRefused {
			t.Fatalf("herald protocol closed %d, want %d", code, herald.CloseRefused)
		}
	}
	checkEntries(t, entries(t, n, "", "/", ""), "subscribe", "x",
		want{"OnSubscribe panicked", "OnSubscribe panicked", "OnSubscribe panicked"})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := n.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v (a connection was left half let in)", err)
	}
}

// A hook may call the node back for its own user: the core holds no lock
// of the connection while a hook runs.
func TestAHookMayCallTheNodeForItsOwnUser(t *testing.T) {
	var n *node
	n = startNode(t, nil, herald.WithHooks(herald.Hooks{
		OnConnect: func(ctx context.Context, e herald.ConnectEvent) error {
			n.Unsubscribe(ctx, e.User, "news")
			return nil
		},
		OnSubscribe: func(ctx context.Context, e herald.SubscribeEvent) error {
			if e.Channel == "leave-all" {
				n.Disconnect(ctx, e.User)
			}
			return nil
		},
	}))
	tok := tokenWith(t, "erin", nil)
	c := dialSIO(t, n, "")
	c.mustConnect("/", map[string]string{"token": tok})
	h := dialHeraldToken(t, n, tok)
	h.ws.WriteMessage(websocket.TextMessage, []byte(`{"id":1,"op":"subscribe","channel":"leave-all"}`))
	if code := h.closeCode(); code != herald.CloseDisconnected {
		t.Fatalf("herald protocol closed %d, want %d", code, herald.CloseDisconnected)
	}
	for {
		if p := c.next(); p.Type == sioproto.Disconnect {
			break // the socket of the same user was disconnected too
		}
	}
}

// What a socket's handler publishes as the socket ends goes out, and
// OnPublish gets a live context for it.
func TestPublishingFromOnDisconnectGetsALiveContext(t *testing.T) {
	seen := make(chan error, 1)
	n := startNode(t, func(c *herald.Config) { c.SocketIO.RecoveryWindow = -1 },
		herald.WithHooks(herald.Hooks{OnPublish: func(ctx context.Context, e herald.PublishEvent) error {
			seen <- ctx.Err()
			return ctx.Err()
		}}))
	sent := make(chan error, 1)
	n.SocketIO().OnDisconnect("/", func(s *sio.Socket, _ string) { sent <- s.To("room").Emit("left", s.ID()) })
	c := dialSIO(t, n, "")
	c.mustConnect("/", nil)
	c.ws.Close()
	if err := <-seen; err != nil {
		t.Fatalf("OnPublish's context: %v", err)
	}
	if err := <-sent; err != nil {
		t.Fatalf("the emit from OnDisconnect: %v", err)
	}
}

// A socket whose client goes while it is being let in has its context
// cancelled at once: an OnConnect waiting on it returns.
func TestASocketsContextEndsWhenItsClientGoesDuringAdmission(t *testing.T) {
	waiting, released := make(chan struct{}), make(chan struct{})
	n := startNode(t, nil, herald.WithHooks(herald.Hooks{OnConnect: func(ctx context.Context, _ herald.ConnectEvent) error {
		close(waiting)
		<-ctx.Done()
		close(released)
		return ctx.Err()
	}}))
	c := dialSIO(t, n, "")
	c.send(sioproto.Packet{Type: sioproto.Connect, Namespace: "/"})
	<-waiting
	c.ws.Close()
	select {
	case <-released:
	case <-time.After(5 * time.Second):
		t.Fatal("OnConnect still waits for a client that is gone")
	}
	waitUntil(t, "the socket to end", func() bool { return n.Info().Connections == 0 })
}
