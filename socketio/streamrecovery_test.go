package socketio_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/protocol/sioproto"
	sio "github.com/heraldhq/herald/socketio"
)

// streamRoom is a room whose channel keeps history: recovery serves its
// broadcasts from the channel's stream.
const streamRoom = "feed:live"

// withStreams gives the "feed" namespace a stream of history
// publications and keeps recovery_events per socket.
func withStreams(history, events int) func(*herald.Config) {
	return func(c *herald.Config) {
		c.Namespaces["feed"] = herald.ChannelPolicy{Subscribe: herald.AccessAnyone, Publish: herald.AccessAnyone, HistorySize: history}
		c.SocketIO.RecoveryEvents = events
	}
}

// droppedSocket is a socket in streamRoom whose transport dropped after
// it got one broadcast: its client holds pid and offset.
type droppedSocket struct {
	n           *node
	sid, pid    string
	offset      string
	disconnects chan string
}

func dropInStreamRoom(t *testing.T, n *node) *droppedSocket {
	t.Helper()
	d := &droppedSocket{n: n, disconnects: make(chan string, 4)}
	io := n.SocketIO()
	io.OnConnect("/", func(s *sio.Socket) error {
		if s.Recovered() {
			return nil
		}
		return s.Join(streamRoom)
	})
	io.OnDisconnect("/", func(s *sio.Socket, r string) { d.disconnects <- r })
	c := dialSIO(t, n, "")
	var hello struct{ SID, PID string }
	json.Unmarshal(c.connect("/", nil).Data, &hello)
	d.sid, d.pid = hello.SID, hello.PID
	waitJoined(t, n, streamRoom)
	n.publish(t, `{"channel":"feed:live","data":0}`)
	d.offset = lastOffset(t, c.event("/", "message"))
	c.ws.Close()
	if r := <-d.disconnects; r != "transport close" {
		t.Fatalf("disconnected for %q", r)
	}
	return d
}

// reconnect comes back with pid and offset and returns the client and
// the sid it was given.
func (d *droppedSocket) reconnect(t *testing.T) (*sioClient, string, string) {
	t.Helper()
	c := dialSIO(t, d.n, "")
	p := c.connect("/", map[string]string{"pid": d.pid, "offset": d.offset})
	if p.Type != sioproto.Connect {
		t.Fatalf("CONNECT answered with %s %s", p.Type, p.Data)
	}
	var back struct{ SID, PID string }
	json.Unmarshal(p.Data, &back)
	return c, back.SID, back.PID
}

// A socket that missed more room broadcasts than its log keeps gets them
// all, once and in order, from the room's stream; then the live ones.
func TestRecoveryServesRoomBroadcastsFromTheStream(t *testing.T) {
	n := startNode(t, withStreams(100, 3))
	d := dropInStreamRoom(t, n)
	const missed = 20 // far more than recovery_events
	for i := 1; i <= missed; i++ {
		n.publish(t, fmt.Sprintf(`{"channel":"feed:live","data":%d}`, i))
	}
	c, sid, pid := d.reconnect(t)
	if sid != d.sid || pid != d.pid {
		t.Fatalf("not recovered: sid %q pid %q, want %q %q", sid, pid, d.sid, d.pid)
	}
	var last string
	for want := 1; want <= missed; want++ {
		args := c.event("/", "message")
		if string(args[0].JSON) != fmt.Sprint(want) {
			t.Fatalf("replayed %s, want %d", args[0].JSON, want)
		}
		last = lastOffset(t, args)
	}
	if last == "" || last == d.offset {
		t.Fatalf("replayed events carry no new offset (%q)", last)
	}
	n.publish(t, `{"channel":"feed:live","data":"live"}`)
	if args := c.event("/", "message"); string(args[0].JSON) != `"live"` {
		t.Fatalf("after the replay got %s, want the live broadcast (a duplicate?)", args[0].JSON)
	}
	c.noEvent("/", "message", 100*time.Millisecond)
}

// Emits to the socket alone while it is away come from its log, beside
// the room broadcasts from the stream.
func TestRecoveryServesDirectEmitsFromTheLog(t *testing.T) {
	n := startNode(t, withStreams(100, 3))
	d := dropInStreamRoom(t, n)
	io := n.SocketIO()
	for i := 1; i <= 5; i++ {
		n.publish(t, fmt.Sprintf(`{"channel":"feed:live","data":%d}`, i))
	}
	if err := io.BroadcastToRoom("/", d.sid, "direct", "a"); err != nil {
		t.Fatal(err)
	}
	if err := io.BroadcastToRoom("/", d.sid, "direct", "b"); err != nil {
		t.Fatal(err)
	}
	// The emits go through fan-out: wait until the kept socket logged them.
	time.Sleep(50 * time.Millisecond)
	c, sid, _ := d.reconnect(t)
	if sid != d.sid {
		t.Fatalf("not recovered: %q, want %q", sid, d.sid)
	}
	var direct []string
	room := 0
	for len(direct) < 2 || room < 5 {
		p := c.next()
		if p.Type != sioproto.Event {
			continue
		}
		args, _ := p.Args()
		switch name, _ := p.EventName(); name {
		case "direct":
			direct = append(direct, str(t, args[0]))
		case "message":
			room++
			if string(args[0].JSON) != fmt.Sprint(room) {
				t.Fatalf("room broadcast %s, want %d", args[0].JSON, room)
			}
		}
	}
	if direct[0] != "a" || direct[1] != "b" {
		t.Fatalf("direct emits %v", direct)
	}
}

// A room whose stream no longer holds what the client missed cannot be
// recovered: the client gets a new socket rather than part of it.
func TestRecoveryFailsWhenARoomsStreamNoLongerReachesBack(t *testing.T) {
	n := startNode(t, withStreams(3, 100))
	d := dropInStreamRoom(t, n)
	for i := 1; i <= 5; i++ { // two more than the stream keeps
		n.publish(t, fmt.Sprintf(`{"channel":"feed:live","data":%d}`, i))
	}
	c, sid, pid := d.reconnect(t)
	if sid == d.sid || pid == d.pid {
		t.Fatalf("recovered although the stream lost missed broadcasts: sid %q", sid)
	}
	io := n.SocketIO()
	waitUntil(t, "the kept socket ended", func() bool { return io.Socket("/", d.sid) == nil })
	waitUntil(t, "the new socket joined", func() bool { return io.RoomLen("/", streamRoom) == 1 })
	c.noEvent("/", "message", 100*time.Millisecond)
}

// With the streams on disk, a socket outlives its node: the node that
// starts next on the same data_dir gives it back to its client, with the
// room broadcasts it missed, once and in order.
func TestRecoveryAfterARestartWithTheStreamsOnDisk(t *testing.T) {
	dir := t.TempDir()
	onDisk := func(c *herald.Config) {
		withStreams(100, 3)(c)
		c.DataDir, c.History.Store = dir, herald.StoreDisk
	}
	a := startNode(t, onDisk)
	d := dropInStreamRoom(t, a)
	// An emit to the socket alone while it is kept: only the log has it,
	// and the saved socket carries it over.
	if err := a.SocketIO().BroadcastToRoom("/", d.sid, "direct", "a"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // fan-out logs it
	if err := a.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	a.srv.Close()

	b := startNode(t, onDisk)
	recovered := make(chan bool, 1)
	b.SocketIO().OnConnect("/", func(s *sio.Socket) error {
		recovered <- s.Recovered()
		if !s.Recovered() {
			return s.Join(streamRoom)
		}
		return nil
	})
	for i := 1; i <= 10; i++ { // more than recovery_events, while the client is away
		b.publish(t, fmt.Sprintf(`{"channel":"feed:live","data":%d}`, i))
	}
	d.n = b
	c2, sid, pid := d.reconnect(t)
	if sid != d.sid || pid != d.pid {
		t.Fatalf("not recovered after the restart: sid %q pid %q, want %q %q", sid, pid, d.sid, d.pid)
	}
	if !<-recovered {
		t.Fatal("OnConnect did not see Recovered()")
	}
	if args := c2.event("/", "direct"); str(t, args[0]) != "a" {
		t.Fatalf("the carried emit arrived as %v", args)
	}
	for want := 1; want <= 10; want++ {
		if args := c2.event("/", "message"); string(args[0].JSON) != fmt.Sprint(want) {
			t.Fatalf("replayed %s, want %d", args[0].JSON, want)
		}
	}
	b.publish(t, `{"channel":"feed:live","data":"live"}`)
	if args := c2.event("/", "message"); string(args[0].JSON) != `"live"` {
		t.Fatalf("after the replay got %s, want the live broadcast", args[0].JSON)
	}
	if got := b.SocketIO().RoomLen("/", streamRoom); got != 1 {
		t.Fatalf("%d sockets in the room after the restart, want 1", got)
	}
	// A session is given back once.
	c3 := dialSIO(t, b, "")
	var again struct{ SID string }
	json.Unmarshal(c3.connect("/", map[string]string{"pid": d.pid, "offset": d.offset}).Data, &again)
	if again.SID == d.sid {
		t.Fatal("the saved session was given back twice")
	}
}

// The replay from the streams is filtered as live broadcasts are: a
// broadcast to several of the socket's rooms arrives once, one that
// excepts a room the socket is in does not arrive.
func TestRecoveryFromTheStreamsFiltersAsLiveBroadcastsAre(t *testing.T) {
	const other = "feed:other"
	n := startNode(t, withStreams(100, 3))
	io := n.SocketIO()
	io.OnConnect("/", func(s *sio.Socket) error {
		if s.Recovered() {
			return nil
		}
		return s.Join(streamRoom, other)
	})
	disconnects := make(chan string, 1)
	io.OnDisconnect("/", func(s *sio.Socket, r string) { disconnects <- r })
	c := dialSIO(t, n, "")
	var hello struct{ SID, PID string }
	json.Unmarshal(c.connect("/", nil).Data, &hello)
	waitUntil(t, "joined both", func() bool { return io.RoomLen("/", other) == 1 && io.RoomLen("/", streamRoom) == 1 })
	if err := io.BroadcastToRoom("/", streamRoom, "n", 0); err != nil {
		t.Fatal(err)
	}
	offset := lastOffset(t, c.event("/", "n"))
	c.ws.Close()
	<-disconnects

	if err := io.To("/", streamRoom, other).Emit("n", 1); err != nil { // both rooms: once
		t.Fatal(err)
	}
	if err := io.To("/", streamRoom).Except(other).Emit("n", "excepted"); err != nil {
		t.Fatal(err)
	}
	if err := io.To("/", other).Emit("n", 2); err != nil {
		t.Fatal(err)
	}
	d := &droppedSocket{n: n, sid: hello.SID, pid: hello.PID, offset: offset}
	c2, sid, _ := d.reconnect(t)
	if sid != hello.SID {
		t.Fatalf("not recovered: %q", sid)
	}
	got := map[string]int{}
	for range 2 {
		got[string(c2.event("/", "n")[0].JSON)]++
	}
	c2.noEvent("/", "n", 150*time.Millisecond)
	if got["1"] != 1 || got["2"] != 1 {
		t.Fatalf("replayed %v, want 1 and 2 once each, nothing excepted", got)
	}
}

// A client that had not got the last broadcasts it was sent before its
// transport dropped (still on the wire) comes back with an older offset:
// its log says where in the stream that offset stands, and the stream
// gives it everything after, the sent-but-lost ones included.
func TestRecoveryFromTheStreamsStartsWhereTheClientsOffsetIs(t *testing.T) {
	n := startNode(t, withStreams(100, 5))
	d := &droppedSocket{n: n, disconnects: make(chan string, 1)}
	io := n.SocketIO()
	io.OnConnect("/", func(s *sio.Socket) error {
		if s.Recovered() {
			return nil
		}
		return s.Join(streamRoom)
	})
	io.OnDisconnect("/", func(s *sio.Socket, r string) { d.disconnects <- r })
	c := dialSIO(t, n, "")
	var hello struct{ SID, PID string }
	json.Unmarshal(c.connect("/", nil).Data, &hello)
	d.sid, d.pid = hello.SID, hello.PID
	waitJoined(t, n, streamRoom)
	for i := 0; i <= 2; i++ {
		n.publish(t, fmt.Sprintf(`{"channel":"feed:live","data":%d}`, i))
		if off := lastOffset(t, c.event("/", "message")); i == 0 {
			d.offset = off // the client lost 1 and 2
		}
	}
	c.ws.Close()
	<-d.disconnects
	for i := 3; i <= 12; i++ {
		n.publish(t, fmt.Sprintf(`{"channel":"feed:live","data":%d}`, i))
	}
	c2, sid, _ := d.reconnect(t)
	if sid != d.sid {
		t.Fatalf("not recovered: %q", sid)
	}
	for want := 1; want <= 12; want++ {
		if args := c2.event("/", "message"); string(args[0].JSON) != fmt.Sprint(want) {
			t.Fatalf("replayed %s, want %d", args[0].JSON, want)
		}
	}
	c2.noEvent("/", "message", 100*time.Millisecond)
}

// A socket saved across a restart goes back to its own user only.
func TestRecoveryAfterARestartKeepsTheSocketToItsUser(t *testing.T) {
	dir := t.TempDir()
	onDisk := func(c *herald.Config) {
		withStreams(100, 3)(c)
		c.DataDir, c.History.Store = dir, herald.StoreDisk
	}
	a := startNode(t, onDisk)
	a.SocketIO().OnConnect("/", func(s *sio.Socket) error { return s.Join(streamRoom) })
	c := dialSIO(t, a, "")
	var hello struct{ SID, PID string }
	json.Unmarshal(c.connect("/", map[string]string{"token": token(t, "ann")}).Data, &hello)
	waitJoined(t, a, streamRoom)
	a.publish(t, `{"channel":"feed:live","data":0}`)
	offset := lastOffset(t, c.event("/", "message"))
	if err := a.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	a.srv.Close()

	b := startNode(t, onDisk)
	p := dialSIO(t, b, "").connect("/", map[string]string{"token": token(t, "bob"), "pid": hello.PID, "offset": offset})
	var back struct{ SID, PID string }
	json.Unmarshal(p.Data, &back)
	if p.Type != sioproto.Connect || back.PID == hello.PID || back.PID == "" {
		t.Fatalf("another user's CONNECT: %s %s, want a new socket", p.Type, p.Data)
	}
	if got := b.SocketIO().RoomLen("/", streamRoom); got != 0 {
		t.Fatalf("another user got the saved socket's rooms (%d)", got)
	}
}
