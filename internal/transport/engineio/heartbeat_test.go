package engineio

import (
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/transport/websocket"
)

// fastBeat makes heartbeats quick enough to test; the timeout leaves a
// peer that answers room for a scheduling stall on a loaded machine.
var fastBeat = Config{PingInterval: 60 * time.Millisecond, PingTimeout: 500 * time.Millisecond}

// A polling client gets "2" on its GET every PingInterval; answering "3"
// keeps it alive, and silence closes it with "ping timeout".
func TestHeartbeatPolling(t *testing.T) {
	ts := startServer(t, fastBeat, websocket.Config{})
	sid := ts.handshake(t).SID
	for range 3 {
		if status, body := ts.poll(t, sid); status != 200 || body != "2" {
			t.Fatalf("GET: %d %q, want a ping", status, body)
		}
		if status, _ := ts.post(t, sid, "3"); status != 200 {
			t.Fatalf("pong POST: %d", status)
		}
	}
	if ts.h.isClosed(sid) {
		t.Fatal("closed although every ping was answered")
	}
	// Ping again, and this time never answer.
	if _, body := ts.poll(t, sid); body != "2" {
		t.Fatalf("GET %q", body)
	}
	get := ts.pollAsync(t, sid)
	if r := ts.h.waitClose(t, sid); r != ReasonPingTimeout {
		t.Fatalf("reason %q", r)
	}
	if r := waitPoll(t, get); r.body != "1" {
		t.Fatalf("parked GET got %q at ping timeout", r.body)
	}
}

// The same over WebSocket: "2" frames, "3" answers, silence closes.
func TestHeartbeatWebSocket(t *testing.T) {
	ts := startServer(t, fastBeat, websocket.Config{})
	c, sid := ts.openWS(t)
	for range 3 {
		readText(t, c, "2")
		write(t, c, "3")
	}
	readText(t, c, "2")
	if r := ts.h.waitClose(t, sid); r != ReasonPingTimeout {
		t.Fatalf("reason %q", r)
	}
	readClose(t, c)
}

// A ping from the client is the wrong heartbeat direction in v4: the
// reference closes with "transport error".
func TestHeartbeatClientPing(t *testing.T) {
	ts := startServer(t, Config{}, websocket.Config{})
	c, sid := ts.openWS(t)
	write(t, c, "2")
	if r := ts.h.waitClose(t, sid); r != ReasonTransportError {
		t.Fatalf("reason %q", r)
	}
}

// The heartbeat is one goroutine for the whole server, however many
// sessions: sessions add no timers or goroutines of their own.
func TestHeartbeatSingleGoroutine(t *testing.T) {
	ts := startServer(t, fastBeat, websocket.Config{})
	base := countGoroutines()
	for range 50 {
		ts.handshake(t)
	}
	// Idle polling sessions (no GET parked) hold nothing.
	time.Sleep(3 * fastBeat.PingInterval)
	if d := countGoroutines() - base; d > 5 {
		t.Fatalf("%d goroutines for 50 idle polling sessions", d)
	}
}
