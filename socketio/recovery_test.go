package socketio_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/protocol/socketio"
	sio "github.com/heraldhq/herald/socketio"
)

// lastOffset is what a client keeps: the last argument of each event.
func lastOffset(t *testing.T, args []socketio.Arg) string {
	t.Helper()
	return str(t, args[len(args)-1])
}

func TestConnectionStateRecovery(t *testing.T) {
	n := startNode(t, nil)
	recovered := make(chan bool, 2)
	n.SocketIO().OnConnect("/", func(s *sio.Socket) error {
		recovered <- s.Recovered()
		if !s.Recovered() {
			s.SetContext("kept")
			return s.Join("news")
		}
		return nil
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
	if p.Type != socketio.Connect || back.SID != hello.SID || back.PID != hello.PID {
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
	n := startNode(t, func(c *herald.Config) { c.SocketIO.RecoveryEvents = 3 })
	n.SocketIO().OnConnect("/", func(s *sio.Socket) error { return s.Join("news") })
	try := func(missed int) bool {
		c := dialSIO(t, n, "")
		var hello struct{ SID, PID string }
		json.Unmarshal(c.connect("/", nil).Data, &hello)
		n.publish(t, `{"channel":"news","data":0}`)
		offset := lastOffset(t, c.event("/", "message"))
		c.ws.Close()
		waitUntil(t, "the server noticed", func() bool { return n.SocketIO().Len() == 0 })
		for i := 1; i <= missed; i++ {
			n.publish(t, fmt.Sprintf(`{"channel":"news","data":%d}`, i))
		}
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
