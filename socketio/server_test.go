package socketio_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/protocol/sioproto"
	sio "github.com/heraldhq/herald/socketio"
)

func TestConnectNamespaces(t *testing.T) {
	n := startNode(t, nil)
	c := dialSIO(t, n, "")
	if sid := c.mustConnect("/", nil); sid == "" {
		t.Fatal("no sid")
	}
	c.mustConnect("/chat", nil)
	p := c.connect("/nowhere", nil)
	if p.Type != sioproto.ConnectError || string(p.Data) != `{"message":"Invalid namespace"}` {
		t.Fatalf("unknown namespace: %s %s", p.Type, p.Data)
	}
	// A second CONNECT to a namespace already joined breaks the protocol:
	// the reference closes the connection.
	c.send(sioproto.Packet{Type: sioproto.Connect, Namespace: "/"})
	select {
	case <-c.closed:
	case <-time.After(5 * time.Second):
		t.Fatal("a second CONNECT did not close the connection")
	}
}

func TestDynamicNamespace(t *testing.T) {
	n := startNode(t, func(c *herald.Config) { c.SocketIO.DynamicNamespaces = `^/tenant-[a-z]+$` })
	c := dialSIO(t, n, "")
	c.mustConnect("/tenant-acme", nil)
	if p := c.connect("/tenant-42", nil); p.Type != sioproto.ConnectError {
		t.Fatalf("pattern mismatch admitted: %s", p.Type)
	}
}

func TestAuthAndMiddlewares(t *testing.T) {
	n := startNode(t, func(c *herald.Config) { c.AllowAnonymous = false })
	n.SocketIO().Use("/", func(s *sio.Socket) error {
		if s.User() == "mallory" {
			return &sio.ConnectError{Message: "banned", Data: map[string]string{"until": "forever"}}
		}
		return nil
	})
	c := dialSIO(t, n, "")
	p := c.connect("/", nil)
	if p.Type != sioproto.ConnectError || !strings.Contains(string(p.Data), "authentication required") {
		t.Fatalf("no token: %s %s", p.Type, p.Data)
	}
	p = c.connect("/", map[string]string{"token": "garbage"})
	if p.Type != sioproto.ConnectError || !strings.Contains(string(p.Data), `"code":4001`) {
		t.Fatalf("bad token: %s %s", p.Type, p.Data)
	}
	p = c.connect("/", map[string]string{"token": token(t, "mallory")})
	if p.Type != sioproto.ConnectError || string(p.Data) != `{"data":{"until":"forever"},"message":"banned"}` {
		t.Fatalf("middleware refusal: %s %s", p.Type, p.Data)
	}
	c.mustConnect("/", map[string]string{"token": token(t, "alice")})
}

func TestEventsAcksBothWays(t *testing.T) {
	n := startNode(t, nil)
	io := n.SocketIO()
	type order struct {
		Item string `json:"item"`
		Qty  int    `json:"qty"`
	}
	got := make(chan string, 4)
	io.OnEvent("/", "order", func(s *sio.Socket, o order, note string) (string, int) {
		got <- o.Item + "/" + note
		return "ok " + o.Item, o.Qty * 2
	})
	io.OnEvent("/", "ask-back", func(s *sio.Socket) string {
		args, err := s.EmitWithAck(2*time.Second, "question", "ready?")
		if err != nil {
			return "error: " + err.Error()
		}
		var answer string
		args[0].Decode(&answer)
		return "client said " + answer
	})
	c := dialSIO(t, n, "")
	c.mustConnect("/", nil)

	ack := c.emit("/", true, "order", map[string]any{"item": "tea", "qty": 3}, "no sugar")
	if <-got != "tea/no sugar" || str(t, ack[0]) != "ok tea" || string(ack[1].JSON) != "6" {
		t.Fatalf("client→server ack: %v", ack)
	}
	// Server→client ack, asked from inside a handler. One goroutine reads:
	// the question arrives before the ask-back's ack.
	var ask sioproto.Args
	ask.String("ask-back")
	askPacket := ask.Packet(sioproto.Event, "/")
	askPacket.ID, askPacket.HasID = 900, true
	c.send(askPacket)
	var q sioproto.Packet
	for {
		q = c.next()
		if name, _ := q.EventName(); q.Type == sioproto.Event && name == "question" {
			break
		}
	}
	if !q.HasID {
		t.Fatal("EmitWithAck sent no ack id")
	}
	var a sioproto.Args
	a.String("yes")
	reply := a.Packet(sioproto.Ack, "/")
	reply.ID, reply.HasID = q.ID, true
	c.send(reply)
	for {
		p := c.next()
		if p.Type != sioproto.Ack || p.ID != 900 {
			continue
		}
		if res, err := p.Args(); err != nil || str(t, res[0]) != "client said yes" {
			t.Fatal(res, err)
		}
		return
	}
}

func TestEmitWithAckTimeout(t *testing.T) {
	n := startNode(t, nil)
	errs := make(chan error, 1)
	n.SocketIO().OnConnect("/", func(s *sio.Socket) error {
		go func() {
			_, err := s.EmitWithAck(100*time.Millisecond, "never-answered")
			errs <- err
		}()
		return nil
	})
	c := dialSIO(t, n, "")
	c.mustConnect("/", nil)
	c.event("/", "never-answered")
	if err := <-errs; !errors.Is(err, sio.ErrAckTimeout) {
		t.Fatalf("want ErrAckTimeout, got %v", err)
	}
}

func TestBinaryBothWays(t *testing.T) {
	n := startNode(t, nil)
	n.SocketIO().OnEvent("/", "upload", func(s *sio.Socket, name string, a, b []byte) ([]byte, int) {
		return append(append([]byte{}, a...), b...), len(a) + len(b)
	})
	n.SocketIO().OnConnect("/", func(s *sio.Socket) error {
		return s.Emit("file", []byte{1, 2, 3}, map[string]any{"nested": []byte{9}})
	})
	c := dialSIO(t, n, "")
	c.mustConnect("/", nil)
	file := c.event("/", "file")
	if string(file[0].Binary) != "\x01\x02\x03" {
		t.Fatalf("binary event: %v", file)
	}
	ack := c.emit("/", true, "upload", "x.bin", []byte("ab"), []byte("cde"))
	if string(ack[0].Binary) != "abcde" || string(ack[1].JSON) != "5" {
		t.Fatalf("binary ack: %+v", ack)
	}
}

func TestRoomsBroadcastAndExcept(t *testing.T) {
	n := startNode(t, nil)
	io := n.SocketIO()
	io.OnEvent("/", "join", func(s *sio.Socket, room string) []string {
		s.Join(room)
		return s.Rooms()
	})
	io.OnEvent("/", "shout", func(s *sio.Socket, room, text string) {
		s.To(room).Emit("shout", text)
	})
	a, b, c := dialSIO(t, n, ""), dialSIO(t, n, ""), dialSIO(t, n, "")
	aid := a.mustConnect("/", nil)
	b.mustConnect("/", nil)
	c.mustConnect("/", nil)
	rooms := a.emit("/", true, "join", "lobby")
	if !strings.Contains(string(rooms[0].JSON), aid) || !strings.Contains(string(rooms[0].JSON), "lobby") {
		t.Fatalf("rooms %s", rooms[0].JSON)
	}
	b.emit("/", true, "join", "lobby")
	if io.RoomLen("/", "lobby") != 2 {
		t.Fatal(io.RoomLen("/", "lobby"))
	}
	a.emit("/", false, "shout", "lobby", "hi all")
	if got := b.event("/", "shout"); str(t, got[0]) != "hi all" {
		t.Fatal(got)
	}
	a.noEvent("/", "shout", 100*time.Millisecond) // the sender is left out
	c.noEvent("/", "shout", 10*time.Millisecond)  // not in the room

	io.To("/", "lobby").Except(aid).Emit("news", 1)
	b.event("/", "news")
	a.noEvent("/", "news", 100*time.Millisecond)

	io.ClearRoom("/", "lobby")
	if io.RoomLen("/", "lobby") != 0 || len(io.Rooms("/")) != 0 {
		t.Fatal("room not cleared")
	}
}

func TestRoomIsAHeraldChannel(t *testing.T) {
	n := startNode(t, nil)
	io := n.SocketIO()
	io.OnConnect("/chat", func(s *sio.Socket) error { return s.Join("lobby") })
	s := dialSIO(t, n, "")
	s.mustConnect("/chat", nil)
	waitUntil(t, "joined", func() bool { return io.RoomLen("/chat", "lobby") == 1 })

	// An API publish to the room's channel is an event for the socket.
	n.publish(t, `{"channel":"chat:lobby","event":"notice","data":{"text":"from the API"}}`)
	if got := s.event("/chat", "notice"); !strings.Contains(string(got[0].JSON), "from the API") {
		t.Fatal(got)
	}
	// A herald-protocol client on the same channel sees the socket's broadcast.
	h := dialHerald(t, n)
	h.subscribe("chat:lobby")
	io.BroadcastToRoom("/chat", "lobby", "chat", map[string]string{"text": "from socket.io"})
	if m := h.publication(); !strings.Contains(string(m), "from socket.io") {
		t.Fatal(string(m))
	}
	s.event("/chat", "chat")
	// And the herald client's publish reaches the socket as "message".
	h.publish("chat:lobby", `{"text":"from herald"}`)
	if got := s.event("/chat", "message"); !strings.Contains(string(got[0].JSON), "from herald") {
		t.Fatal(got)
	}
}

func TestBuiltinEventsFollowChannelPolicy(t *testing.T) {
	n := startNode(t, func(c *herald.Config) {
		c.Namespaces["alerts"] = herald.ChannelPolicy{Subscribe: herald.AccessAuthenticated, Publish: herald.AccessNobody}
	})
	c := dialSIO(t, n, "")
	c.mustConnect("/", nil)
	res := c.emit("/", true, "herald:join", "alerts:ops")
	if !strings.Contains(string(res[0].JSON), "authenticated") {
		t.Fatalf("anonymous join to an authenticated-only channel: %s", res[0].JSON)
	}
	res = c.emit("/", true, "herald:publish", "chat:lobby", map[string]string{"text": "x"})
	if !strings.Contains(string(res[0].JSON), "subscribe") {
		t.Fatalf("publish before joining: %s", res[0].JSON)
	}
	if res = c.emit("/", true, "herald:join", "chat:lobby"); !strings.Contains(string(res[0].JSON), `"ok":true`) {
		t.Fatal(string(res[0].JSON))
	}
	if res = c.emit("/", true, "herald:publish", "chat:lobby", map[string]string{"text": "hello"}); !strings.Contains(string(res[0].JSON), `"ok":true`) {
		t.Fatal(string(res[0].JSON))
	}
	if got := c.event("/", "message"); !strings.Contains(string(got[0].JSON), "hello") {
		t.Fatal(got)
	}
	c.emit("/", true, "herald:leave", "chat:lobby")
	n.publish(t, `{"channel":"chat:lobby","data":"after leaving"}`)
	c.noEvent("/", "message", 100*time.Millisecond)
}

func TestPushAndServerDisconnect(t *testing.T) {
	n := startNode(t, nil)
	reasons := make(chan string, 4)
	n.SocketIO().OnDisconnect("/", func(s *sio.Socket, reason string) { reasons <- reason })
	c := dialSIO(t, n, "")
	c.mustConnect("/", map[string]string{"token": token(t, "alice")})
	if got, _ := n.PushToUser(t.Context(), "alice", "alert", json.RawMessage(`{"level":"high"}`)); got != 1 {
		t.Fatalf("push reached %d", got)
	}
	if a := c.event("/", "alert"); !strings.Contains(string(a[0].JSON), "high") {
		t.Fatal(a)
	}
	if got, _ := n.Disconnect(t.Context(), "alice"); got != 1 {
		t.Fatal("disconnect count")
	}
	for {
		p := c.next()
		if p.Type == sioproto.Disconnect {
			break
		}
	}
	if r := <-reasons; r != "server namespace disconnect" {
		t.Fatal(r)
	}
	// A client-side DISCONNECT has its own reason.
	c.mustConnect("/", nil)
	c.send(sioproto.Packet{Type: sioproto.Disconnect, Namespace: "/"})
	if r := <-reasons; r != "client namespace disconnect" {
		t.Fatal(r)
	}
}

func TestMalformedPacketClosesOnlyItsOwnConnection(t *testing.T) {
	n := startNode(t, nil)
	n.SocketIO().OnEvent("/", "ping", func(s *sio.Socket) string { return "pong" })
	good, bad := dialSIO(t, n, ""), dialSIO(t, n, "")
	good.mustConnect("/", nil)
	bad.mustConnect("/", nil)
	bad.write(1, []byte(`42["unterminated`))
	select {
	case <-bad.closed:
	case <-time.After(5 * time.Second):
		t.Fatal("malformed packet did not close the connection")
	}
	if a := good.emit("/", true, "ping"); str(t, a[0]) != "pong" {
		t.Fatal(a)
	}
}

func TestHandlerPanicGoesToOnError(t *testing.T) {
	n := startNode(t, nil)
	errs := make(chan error, 1)
	n.SocketIO().OnError("/", func(s *sio.Socket, err error) { errs <- err })
	n.SocketIO().OnEvent("/", "boom", func(s *sio.Socket) { panic("kaboom") })
	n.SocketIO().OnEvent("/", "typed", func(s *sio.Socket, n int) {})
	c := dialSIO(t, n, "")
	c.mustConnect("/", nil)
	c.emit("/", false, "boom")
	if err := <-errs; !strings.Contains(err.Error(), "kaboom") {
		t.Fatal(err)
	}
	c.emit("/", false, "typed", "not a number")
	if err := <-errs; !strings.Contains(err.Error(), "argument 1") {
		t.Fatal(err)
	}
}

func TestOnEventRejectsBadHandlers(t *testing.T) {
	n := startNode(t, nil)
	for _, f := range []any{42, func() {}, func(string) {}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("OnEvent accepted %T", f)
				}
			}()
			n.SocketIO().OnEvent("/", "x", f)
		}()
	}
}

func TestServesTheOfficialClient(t *testing.T) {
	n := startNode(t, nil)
	for _, path := range []string{"/socket.io/socket.io.js", "/socket.io/socket.io.min.js", "/socket.io/socket.io.esm.min.js"} {
		resp, err := http.Get(n.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body[:200]), "Socket.IO v4") ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") {
			t.Fatalf("%s: %d %q %s", path, resp.StatusCode, resp.Header.Get("Content-Type"), body[:60])
		}
	}
}

// A client's namespace DISCONNECT runs the node's OnDisconnect hook off
// the reading path: while the hook is busy, the same connection's other
// namespace is served.
func TestNamespaceDisconnectHookDoesNotHoldUpTheReader(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	inHook := make(chan struct{}, 1)
	hooks := herald.Hooks{OnDisconnect: func(ctx context.Context, e herald.DisconnectEvent) {
		if e.Reason == "client namespace disconnect" {
			inHook <- struct{}{}
			<-release
		}
	}}
	n := startNode(t, nil, herald.WithHooks(hooks))
	io := n.SocketIO()
	io.OnConnect("/chat", nil)
	io.OnEvent("/", "ping", func(s *sio.Socket) string { return "pong" })
	c := dialSIO(t, n, "")
	c.mustConnect("/", nil)
	c.mustConnect("/chat", nil)
	c.send(sioproto.Packet{Type: sioproto.Disconnect, Namespace: "/chat"})
	<-inHook
	if got := c.emit("/", true, "ping"); str(t, got[0]) != "pong" {
		t.Fatalf("ack %v", got)
	}
	once.Do(func() { close(release) })
}

func TestSocketIOCanBeMountedElsewhere(t *testing.T) {
	n := startNode(t, nil)
	mux := http.NewServeMux()
	mux.Handle("/rt/", n.SocketIOHandler())
	srv := httptest.NewServer(mux)
	defer srv.Close()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/rt/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if _, open, err := ws.ReadMessage(); err != nil || open[0] != '0' {
		t.Fatalf("open packet: %q %v", open, err)
	}
}
