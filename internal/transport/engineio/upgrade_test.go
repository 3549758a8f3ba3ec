package engineio

import (
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"

	"github.com/heraldhq/herald/internal/transport/websocket"
)

// The full upgrade as socket.io-client does it, with a GET parked during
// the probe: "2probe" is answered "3probe" and the parked GET a noop;
// packets queued meanwhile are flushed on the WebSocket after "5"; client
// messages keep their order across the switch.
func TestUpgradeWithParkedGET(t *testing.T) {
	ts := startServer(t, Config{}, websocket.Config{})
	sid := ts.handshake(t).SID
	s := ts.h.session(t, sid)

	get := ts.pollAsync(t, sid)
	ts.waitParked(t, sid)
	c := ts.dial(t, "EIO=4&transport=websocket&sid="+sid)
	if s.Transport() != "polling" {
		t.Fatal("switched before the probe")
	}
	write(t, c, "2probe")
	readText(t, c, "3probe")
	if r := waitPoll(t, get); r.status != 200 || r.body != "6" {
		t.Fatalf("parked GET during probe: %d %q", r.status, r.body)
	}
	// The client has paused polling; the server keeps sending meanwhile,
	// and the client's last POST is still delivered in order.
	_ = s.SendText([]byte("queued1"))
	_ = s.SendBinary([]byte{9, 8})
	_ = s.SendText([]byte("queued2"))
	if status, _ := ts.post(t, sid, "4before"); status != 200 {
		t.Fatalf("POST during upgrade: %d", status)
	}
	write(t, c, "5")
	readText(t, c, "4queued1")
	if text, got := read(t, c); text || got != "\x09\x08" {
		t.Fatalf("queued binary: text=%v %q", text, got)
	}
	readText(t, c, "4queued2")
	if s.Transport() != "websocket" {
		t.Fatalf("transport %q after upgrade", s.Transport())
	}
	write(t, c, "4after")
	if m := ts.h.nextMessage(t); m.data != "before" {
		t.Fatalf("first message %+v", m)
	}
	if m := ts.h.nextMessage(t); m.data != "after" {
		t.Fatalf("second message %+v", m)
	}
	// From now on the session is on the WebSocket only.
	_ = s.SendText([]byte("live"))
	readText(t, c, "4live")
	if status, body := ts.poll(t, sid); status != 400 || body != `{"code":3,"message":"Bad request"}` {
		t.Fatalf("polling after upgrade: %d %s", status, body)
	}
	if ts.h.isClosed(sid) {
		t.Fatal("session closed by the upgrade")
	}
}

// A GET arriving after the probe (socket.io-client polls until it has
// paused) is released with a noop at once.
func TestUpgradeGETAfterProbe(t *testing.T) {
	ts := startServer(t, Config{}, websocket.Config{})
	sid := ts.handshake(t).SID
	c := ts.dial(t, "EIO=4&transport=websocket&sid="+sid)
	write(t, c, "2probe")
	readText(t, c, "3probe")
	if status, body := ts.poll(t, sid); status != 200 || body != "6" {
		t.Fatalf("GET after probe: %d %q", status, body)
	}
	write(t, c, "5")
	s := ts.h.session(t, sid)
	eventually(t, "upgrade", func() bool { return s.Transport() == "websocket" })
}

// A probe that never sends "5" is closed after UpgradeTimeout; the session
// stays on polling and keeps working.
func TestUpgradeTimeout(t *testing.T) {
	ts := startServer(t, Config{UpgradeTimeout: 500 * time.Millisecond}, websocket.Config{})
	sid := ts.handshake(t).SID
	c := ts.dial(t, "EIO=4&transport=websocket&sid="+sid)
	write(t, c, "2probe")
	readText(t, c, "3probe")
	start := time.Now()
	readClose(t, c)
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("probe closed after %v", d)
	}
	s := ts.h.session(t, sid)
	if s.Transport() != "polling" || s.Closed() {
		t.Fatalf("session %q closed=%v", s.Transport(), s.Closed())
	}
	assertAlive(t, ts, sid)
	// A later upgrade attempt is allowed again.
	ts.upgrade(t, sid)
}

// A second WebSocket for a session that is upgrading, or has upgraded, is
// closed; the first one is unaffected.
func TestUpgradeSecondWebSocketClosed(t *testing.T) {
	ts := startServer(t, Config{}, websocket.Config{})
	sid := ts.handshake(t).SID
	first := ts.dial(t, "EIO=4&transport=websocket&sid="+sid)
	write(t, first, "2probe")
	readText(t, first, "3probe")

	second := ts.dial(t, "EIO=4&transport=websocket&sid="+sid)
	write(t, second, "2probe")
	readClose(t, second)

	write(t, first, "5")
	s := ts.h.session(t, sid)
	eventually(t, "upgrade", func() bool { return s.Transport() == "websocket" })

	third := ts.dial(t, "EIO=4&transport=websocket&sid="+sid)
	readClose(t, third)

	_ = s.SendText([]byte("still"))
	readText(t, first, "4still")
}

// Anything but a probe or "5" on the probing WebSocket aborts the upgrade
// (reference _maybeUpgrade), leaving the session on polling.
func TestUpgradeBadProbe(t *testing.T) {
	ts := startServer(t, Config{}, websocket.Config{})
	sid := ts.handshake(t).SID
	c := ts.dial(t, "EIO=4&transport=websocket&sid="+sid)
	write(t, c, "4not a probe")
	readClose(t, c)
	assertAlive(t, ts, sid)
	ts.upgrade(t, sid)
}

// A probing WebSocket that drops leaves the session on polling.
func TestUpgradeProbeDrops(t *testing.T) {
	ts := startServer(t, Config{}, websocket.Config{})
	sid := ts.handshake(t).SID
	c := ts.dial(t, "EIO=4&transport=websocket&sid="+sid)
	write(t, c, "2probe")
	readText(t, c, "3probe")
	_ = c.WriteMessage(gorilla.CloseMessage, gorilla.FormatCloseMessage(1000, ""))
	_ = c.Close()
	s := ts.h.session(t, sid)
	eventually(t, "upgrade abandoned", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.upgrading == nil
	})
	assertAlive(t, ts, sid)
}
