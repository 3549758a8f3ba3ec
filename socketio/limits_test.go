package socketio_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/protocol/sioproto"
	sio "github.com/heraldhq/herald/socketio"
)

func TestOwnRoomIsPrivate(t *testing.T) {
	n := startNode(t, nil)
	n.SocketIO().OnEvent("/", "dm", func(s *sio.Socket, to, text string) {
		s.To(to).Emit("dm", text)
	})
	alice, bob := dialSIO(t, n, ""), dialSIO(t, n, "")
	alice.mustConnect("/", nil)
	bobID := bob.mustConnect("/", nil)
	// A herald client and another socket try to listen in on bob's id.
	spy := dialHerald(t, n)
	spy.ws.WriteMessage(1, []byte(`{"id":1,"op":"subscribe","channel":"`+bobID+`"}`))
	eve := dialSIO(t, n, "")
	eve.mustConnect("/", nil)
	eve.emit("/", true, "herald:join", bobID)

	alice.emit("/", false, "dm", bobID, "psst")
	if got := bob.event("/", "dm"); str(t, got[0]) != "psst" {
		t.Fatal(got)
	}
	eve.noEvent("/", "dm", 200*time.Millisecond)
	for {
		select {
		case m := <-spy.msgs:
			if string(m["type"]) == `"publication"` {
				t.Fatalf("a herald client read a private message: %v", m)
			}
			continue
		default:
		}
		break
	}
}

func TestTransportDropDuringConnectLeavesNoSocket(t *testing.T) {
	n := startNode(t, func(c *herald.Config) { c.Limits.MaxConnectionsPerUser = 1 })
	entered := make(chan struct{}, 4)
	n.SocketIO().Use("/", func(s *sio.Socket) error {
		entered <- struct{}{}
		time.Sleep(300 * time.Millisecond) // a slow middleware
		return nil
	})
	for range 3 {
		c := dialSIO(t, n, "")
		c.send(sioproto.Packet{Type: sioproto.Connect, Namespace: "/", Data: []byte(`{"token":"` + token(t, "alice") + `"}`)})
		<-entered
		c.ws.Close() // the user reloads the page while the middleware runs
	}
	waitUntil(t, "the aborted connects to unwind", func() bool { return n.Info().Users == 0 && n.Info().Connections == 0 })
	c := dialSIO(t, n, "")
	c.mustConnect("/", map[string]string{"token": token(t, "alice")}) // not locked out
}

func TestSocketLimits(t *testing.T) {
	n := startNode(t, func(c *herald.Config) {
		c.Limits.MaxSubscriptions = 2
		c.Limits.CommandRate = 0.01 // no token comes back during the test
		c.Limits.CommandBurst = 5
	})
	n.SocketIO().OnEvent("/", "join", func(s *sio.Socket, room string) string {
		if err := s.Join(room); err != nil {
			return err.Error()
		}
		return "ok"
	})
	c := dialSIO(t, n, "")
	c.mustConnect("/", nil)
	for i, want := range []string{"ok", "ok", "subscription limit reached"} {
		if got := str(t, c.emit("/", true, "join", string(rune('a'+i)))[0]); !strings.Contains(got, want) {
			t.Fatalf("join %d: %q", i, got)
		}
	}
	// Two of the five allowed at once were used above; then refusals,
	// acknowledged with an error, and a burst-long run of them disconnects.
	c.emit("/", false, "x")
	c.emit("/", false, "x")
	refused := c.emit("/", true, "herald:leave", "a")
	if !strings.Contains(string(refused[0].JSON), "rate limit exceeded") {
		t.Fatalf("want a rate-limit refusal, got %s", refused[0].JSON)
	}
	for range 6 {
		c.emit("/", false, "x")
	}
	for {
		if p := c.next(); p.Type == sioproto.Disconnect {
			break
		}
	}
}

func TestSocketTokenExpiry(t *testing.T) {
	n := startNode(t, nil)
	tok, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "dana", "exp": time.Now().Add(2 * time.Second).Unix(), // 1 to 2 s: exp is in whole seconds
	}).SignedString([]byte("s"))
	c := dialSIO(t, n, "")
	c.mustConnect("/", map[string]string{"token": tok})
	deadline := time.After(5 * time.Second)
	for {
		select {
		case p, ok := <-c.packets:
			if !ok {
				t.Fatal("closed")
			}
			if p.Type == sioproto.Disconnect {
				return
			}
		case <-deadline:
			t.Fatal("not disconnected at token expiry")
		}
	}
}

func TestShutdownRunsOnDisconnectBeforeReturning(t *testing.T) {
	n := startNode(t, nil)
	done := make(chan string, 8)
	n.SocketIO().OnDisconnect("/", func(s *sio.Socket, reason string) { done <- reason })
	for range 3 {
		dialSIO(t, n, "").mustConnect("/", nil)
	}
	if err := n.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(done) != 3 {
		t.Fatalf("%d OnDisconnect calls when Shutdown returned, want 3", len(done))
	}
	for range 3 {
		if r := <-done; r != "server shutting down" {
			t.Fatalf("reason %q", r)
		}
	}
}

func TestShutdownStopsWaitingForOnDisconnectWhenItsContextEnds(t *testing.T) {
	n := startNode(t, nil)
	release := make(chan struct{})
	defer close(release)
	n.SocketIO().OnDisconnect("/", func(*sio.Socket, string) { <-release })
	dialSIO(t, n, "").mustConnect("/", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	returned := make(chan error, 1)
	go func() { returned <- n.Shutdown(ctx) }()
	select {
	case <-returned:
	case <-time.After(3 * time.Second):
		t.Fatal("Shutdown kept waiting for a stuck OnDisconnect after its context ended")
	}
}
