package socketio_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/protocol/sioproto"
	sio "github.com/heraldhq/herald/socketio"
)

// lastOffset is what a client keeps: the last argument of each event.
func lastOffset(t *testing.T, args []sioproto.Arg) string {
	t.Helper()
	return str(t, args[len(args)-1])
}

func TestConnectionStateRecovery(t *testing.T) {
	n := startNode(t, nil)
	recovered := make(chan bool, 2)
	n.SocketIO().OnConnect("/", func(s *sio.Socket) error {
		if s.Recovered() {
			recovered <- true
			return nil
		}
		s.SetContext("kept")
		err := s.Join("news") // before the test publishes to it
		recovered <- false
		return err
	})
	c := dialSIO(t, n, "")
	p := c.connect("/", nil)
	var hello struct{ SID, PID string }
	json.Unmarshal(p.Data, &hello)
	if hello.PID == "" {
		t.Fatal("no pid in CONNECT: recovery is on by default")
	}
	if <-recovered {
		t.Fatal("a fresh socket claims to be recovered")
	}
	n.publish(t, `{"channel":"news","data":1}`)
	offset := lastOffset(t, c.event("/", "message"))

	c.ws.Close() // the transport drops without a goodbye
	waitUntil(t, "the server noticed", func() bool { return n.SocketIO().Len() == 0 })
	for i := 2; i <= 4; i++ {
		n.publish(t, fmt.Sprintf(`{"channel":"news","data":%d}`, i))
	}

	c2 := dialSIO(t, n, "")
	p = c2.connect("/", map[string]string{"pid": hello.PID, "offset": offset})
	var back struct{ SID, PID string }
	json.Unmarshal(p.Data, &back)
	if p.Type != sioproto.Connect || back.SID != hello.SID || back.PID != hello.PID {
		t.Fatalf("recovery: %s %s (was %+v)", p.Type, p.Data, hello)
	}
	if !<-recovered {
		t.Fatal("OnConnect did not see Recovered()")
	}
	for want := 2; want <= 4; want++ {
		args := c2.event("/", "message")
		if string(args[0].JSON) != fmt.Sprint(want) {
			t.Fatalf("missed event %d came back as %s", want, args[0].JSON)
		}
	}
	s := n.SocketIO().Socket("/", hello.SID)
	if s == nil || s.Context() != "kept" || len(s.Rooms()) != 2 {
		t.Fatalf("socket state not kept: %v", s)
	}
	// Still in its room afterwards.
	n.publish(t, `{"channel":"news","data":5}`)
	if args := c2.event("/", "message"); string(args[0].JSON) != "5" {
		t.Fatal(args)
	}
}

func TestRecoveryFailsWithAnUnknownOffsetOrAfterTheWindow(t *testing.T) {
	n := startNode(t, func(c *herald.Config) { c.SocketIO.RecoveryWindow = 200 * time.Millisecond })
	disconnects := make(chan string, 4)
	n.SocketIO().OnDisconnect("/", func(s *sio.Socket, r string) { disconnects <- r })
	c := dialSIO(t, n, "")
	var hello struct{ SID, PID string }
	json.Unmarshal(c.connect("/", nil).Data, &hello)
	c.ws.Close()
	if r := <-disconnects; r != "transport close" {
		t.Fatal(r)
	}
	time.Sleep(500 * time.Millisecond) // past the window
	c2 := dialSIO(t, n, "")
	var again struct{ SID string }
	json.Unmarshal(c2.connect("/", map[string]string{"pid": hello.PID, "offset": "0"}).Data, &again)
	if again.SID == hello.SID {
		t.Fatal("recovered after the window")
	}
	// An offset the server never gave cannot be recovered either.
	c3 := dialSIO(t, n, "")
	var third struct{ SID, PID string }
	json.Unmarshal(c3.connect("/", nil).Data, &third)
	c3.ws.Close()
	<-disconnects
	c4 := dialSIO(t, n, "")
	var fourth struct{ SID string }
	json.Unmarshal(c4.connect("/", map[string]string{"pid": third.PID, "offset": "zzzz"}).Data, &fourth)
	if fourth.SID == third.SID {
		t.Fatal("recovered with an offset from the future")
	}
}

func TestRecoveryCanBeTurnedOff(t *testing.T) {
	n := startNode(t, func(c *herald.Config) { c.SocketIO.RecoveryWindow = -1 })
	c := dialSIO(t, n, "")
	var hello struct{ PID string }
	json.Unmarshal(c.connect("/", nil).Data, &hello)
	if hello.PID != "" {
		t.Fatal("pid sent with recovery off")
	}
	n.SocketIO().OnConnect("/", nil)
}

// A socket that missed more events than recovery_events keeps cannot be
// recovered: the client would silently lose the oldest.
func TestRecoveryFailsOnceTheLogDroppedAMissedEvent(t *testing.T) {
	try := func(missed int) bool {
		// A node per try: the kept socket is the room's only member.
		n := startNode(t, func(c *herald.Config) { c.SocketIO.RecoveryEvents = 3 })
		n.SocketIO().OnConnect("/", func(s *sio.Socket) error { return s.Join("news") })
		c := dialSIO(t, n, "")
		var hello struct{ SID, PID string }
		json.Unmarshal(c.connect("/", nil).Data, &hello)
		waitJoined(t, n, "news")
		n.publish(t, `{"channel":"news","data":0}`)
		offset := lastOffset(t, c.event("/", "message"))
		c.ws.Close()
		waitUntil(t, "the server noticed", func() bool { return n.SocketIO().Len() == 0 })
		before := n.Info().Delivered
		for i := 1; i <= missed; i++ {
			n.publish(t, fmt.Sprintf(`{"channel":"news","data":%d}`, i))
		}
		// Publishing is asynchronous: the kept socket must have logged
		// every missed event before its client comes back.
		waitUntil(t, "fan-out", func() bool { return n.Info().Delivered >= before+int64(missed) })
		c2 := dialSIO(t, n, "")
		var back struct{ SID string }
		json.Unmarshal(c2.connect("/", map[string]string{"pid": hello.PID, "offset": offset}).Data, &back)
		recovered := back.SID == hello.SID
		for i := 1; recovered && i <= missed; i++ {
			if args := c2.event("/", "message"); string(args[0].JSON) != fmt.Sprint(i) {
				t.Fatalf("replayed %s, want %d", args[0].JSON, i)
			}
		}
		c2.ws.Close()
		waitUntil(t, "the server noticed", func() bool { return n.SocketIO().Len() == 0 })
		return recovered
	}
	if !try(3) {
		t.Fatal("three missed events, three kept: not recovered")
	}
	if try(4) {
		t.Fatal("recovered although the log no longer holds the event after the client's offset")
	}
}

// Events that arrive while the application's OnConnect hook decides on a
// recovering client are kept for it, even past recovery_events: the check
// that the log reaches back far enough holds until the replay.
func TestRecoveryKeepsEventsThatArriveWhileTheHookDecides(t *testing.T) {
	r := startHeldRecovery(t, func(c *herald.Config) { c.SocketIO.RecoveryEvents = 3 })
	c2, hello := r.c2, r.hello
	r.publishWhileHeld(t, 5) // more than recovery_events
	if sid := r.connectAnswer(t); sid != hello.SID {
		t.Fatalf("not recovered: sid %q, want %q", sid, hello.SID)
	}
	for want := 1; want <= 5; want++ {
		if args := c2.event("/", "message"); string(args[0].JSON) != fmt.Sprint(want) {
			t.Fatalf("replayed %s, want %d: an event was lost", args[0].JSON, want)
		}
	}
}

// The log of a recovering socket is bounded even while the hook holds it:
// once it has dropped a missed event, the client gets a new socket.
func TestRecoveryFailsWhenTheLogOverflowsWhileTheHookDecides(t *testing.T) {
	r := startHeldRecovery(t, func(c *herald.Config) { c.SocketIO.RecoveryEvents = 3 })
	r.publishWhileHeld(t, 4*3+1) // one past the pinned log's bound, four times recovery_events
	if sid := r.connectAnswer(t); sid == "" || sid == r.hello.SID {
		t.Fatalf("sid %q: want a new socket, the log lost a missed event", sid)
	}
}

// A recovering client whose connection closes while the hook decides
// leaves its socket kept, unannounced, for its next try.
func TestRecoveryOfAConnectionThatClosesWhileTheHookDecides(t *testing.T) {
	r := startHeldRecovery(t, nil)
	io := r.n.SocketIO()
	var recovered atomic.Int32
	io.OnConnect("/", func(s *sio.Socket) error {
		if s.Recovered() {
			recovered.Add(1)
		}
		return nil
	})
	r.c2.ws.Close()
	waitUntil(t, "the server noticed", func() bool { return io.Len() == 0 })
	close(r.release)
	c3 := dialSIO(t, r.n, "")
	var back struct{ SID string }
	json.Unmarshal(c3.connect("/", map[string]string{"pid": r.hello.PID, "offset": r.offset}).Data, &back)
	if back.SID != r.hello.SID {
		t.Fatalf("the next try got %q, want the kept socket %q", back.SID, r.hello.SID)
	}
	waitUntil(t, "OnConnect", func() bool { return recovered.Load() >= 1 })
	time.Sleep(50 * time.Millisecond)
	if got := recovered.Load(); got != 1 {
		t.Fatalf("OnConnect ran %d times for the recovered socket, want once", got)
	}
}

// A recovered socket's OnConnect runs before the events its client sends
// once it hears CONNECT, as a new socket's does.
func TestRecoveredSocketsOnConnectRunsBeforeItsClientsEvents(t *testing.T) {
	r := startHeldRecovery(t, nil)
	io := r.n.SocketIO()
	io.OnConnect("/", func(s *sio.Socket) error {
		if s.Recovered() {
			time.Sleep(100 * time.Millisecond) // a slow hook
			s.SetContext("welcomed back")
		}
		return nil
	})
	io.OnEvent("/", "who", func(s *sio.Socket) any { return s.Context() })
	close(r.release)
	if sid := r.connectAnswer(t); sid != r.hello.SID {
		t.Fatalf("not recovered: %q", sid)
	}
	if got := r.c2.emit("/", true, "who"); len(got) != 1 || str(t, got[0]) != "welcomed back" {
		t.Fatalf("the event ran before OnConnect: %v", got)
	}
}

// A socket whose token expired while it was away is not given back: the
// client gets a new socket (with its fresh token), as herald's own
// protocol makes a client with an expired token connect again.
func TestRecoveryRefusesASocketWhoseTokenExpired(t *testing.T) {
	n := startNode(t, nil)
	short, err := auth.SignHS256("s", auth.TokenOptions{User: "u", TTL: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	c := dialSIO(t, n, "")
	var hello struct{ SID, PID string }
	json.Unmarshal(c.connect("/", map[string]string{"token": short}).Data, &hello)
	if hello.PID == "" {
		t.Fatalf("no pid: %+v", hello)
	}
	c.ws.Close()
	waitUntil(t, "the server noticed", func() bool { return n.SocketIO().Len() == 0 })
	// exp is in whole seconds: the token lives 1 to 2 s, enough to connect.
	time.Sleep(3100 * time.Millisecond) // past its exp

	c2 := dialSIO(t, n, "")
	p := c2.connect("/", map[string]string{"pid": hello.PID, "offset": "0", "token": token(t, "u")})
	var back struct{ SID string }
	json.Unmarshal(p.Data, &back)
	if p.Type != sioproto.Connect || back.SID == "" {
		t.Fatalf("the fresh token was refused: %s %s", p.Type, p.Data)
	}
	if back.SID == hello.SID {
		t.Fatal("recovered a socket whose token had expired")
	}
}

// A socket whose client comes back while the node shuts down is not
// kept for a recovery that can no longer happen: it leaves its rooms.
func TestRecoveryDuringShutdownEndsTheSocket(t *testing.T) {
	r := startHeldRecovery(t, nil)
	n, io, release := r.n, r.n.SocketIO(), r.release
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_ = n.Shutdown(ctx) // gives up on the held hook when ctx ends
	if io.RoomLen("/", "news") != 1 {
		t.Fatal("the recovering socket left its room before its hook returned")
	}
	close(release)
	waitUntil(t, "the socket left its room", func() bool { return io.RoomLen("/", "news") == 0 })
}

// heldRecovery is a client asking to recover its socket (in room "news",
// one event received before its transport dropped) while the node's
// OnConnect hook holds the restore until release is closed.
type heldRecovery struct {
	n       *node
	c2      *sioClient
	release chan struct{}
	hello   struct{ SID, PID string }
	offset  string // of the event received before the drop
}

// publishWhileHeld publishes 1..count to "news" while the hook holds the
// restore, waits until fan-out has logged them all, then lets the hook go.
func (r *heldRecovery) publishWhileHeld(t *testing.T, count int) {
	t.Helper()
	before := r.n.Info().Delivered
	for i := 1; i <= count; i++ {
		r.n.publish(t, fmt.Sprintf(`{"channel":"news","data":%d}`, i))
	}
	waitUntil(t, "fan-out", func() bool { return r.n.Info().Delivered >= before+int64(count) })
	close(r.release)
}

// connectAnswer returns the sid of the recovering client's CONNECT answer.
func (r *heldRecovery) connectAnswer(t *testing.T) string {
	t.Helper()
	p := r.c2.next()
	for p.Type != sioproto.Connect && p.Type != sioproto.ConnectError {
		p = r.c2.next()
	}
	var back struct{ SID string }
	json.Unmarshal(p.Data, &back)
	return back.SID
}

// startHeldRecovery returns once the hook holds the restore.
func startHeldRecovery(t *testing.T, mutate func(*herald.Config)) *heldRecovery {
	t.Helper()
	var holding atomic.Bool
	entered := make(chan struct{}, 1)
	r := &heldRecovery{release: make(chan struct{})}
	hooks := herald.Hooks{OnConnect: func(ctx context.Context, e herald.ConnectEvent) error {
		if holding.Load() {
			entered <- struct{}{}
			<-r.release
		}
		return nil
	}}
	r.n = startNode(t, mutate, herald.WithHooks(hooks))
	io := r.n.SocketIO()
	io.OnConnect("/", func(s *sio.Socket) error {
		if s.Recovered() {
			return nil
		}
		return s.Join("news")
	})
	c := dialSIO(t, r.n, "")
	json.Unmarshal(c.connect("/", nil).Data, &r.hello)
	waitJoined(t, r.n, "news")
	r.n.publish(t, `{"channel":"news","data":0}`)
	r.offset = lastOffset(t, c.event("/", "message"))
	c.ws.Close()
	waitUntil(t, "the server noticed", func() bool { return io.Len() == 0 })

	holding.Store(true)
	r.c2 = dialSIO(t, r.n, "")
	auth, _ := json.Marshal(map[string]string{"pid": r.hello.PID, "offset": r.offset})
	r.c2.send(sioproto.Packet{Type: sioproto.Connect, Namespace: "/", Data: auth})
	<-entered
	return r
}

// The server's disconnect of a user ends their sockets kept for recovery
// too: the client cannot get back a socket the server disconnected.
func TestServerDisconnectEndsASocketKeptForRecovery(t *testing.T) {
	n := startNode(t, nil)
	tok := token(t, "frank")
	c := dialSIO(t, n, "")
	p := c.connect("/", map[string]string{"token": tok})
	var hello struct{ SID, PID string }
	json.Unmarshal(p.Data, &hello)
	n.SocketIO().BroadcastToRoom("/", hello.SID, "hi") // an offset to come back with
	offset := lastOffset(t, c.event("/", "hi"))
	c.ws.Close()
	waitUntil(t, "the server noticed", func() bool { return n.SocketIO().Len() == 0 })
	if got, _ := n.Disconnect(t.Context(), "frank"); got != 1 {
		t.Fatalf("disconnected %d sockets, want the kept one", got)
	}
	p = dialSIO(t, n, "").connect("/", map[string]string{"token": tok, "pid": hello.PID, "offset": offset})
	var back struct{ SID string }
	json.Unmarshal(p.Data, &back)
	if p.Type != sioproto.Connect || back.SID == hello.SID {
		t.Fatalf("the client got its disconnected socket back: %s %s", p.Type, p.Data)
	}
}
