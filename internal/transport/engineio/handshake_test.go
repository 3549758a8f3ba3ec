package engineio

import (
	"encoding/base64"
	"net/http"
	"regexp"
	"testing"

	"github.com/heraldhq/herald/internal/transport/websocket"
)

// The polling handshake answers with exactly the reference's open packet.
func TestHandshakePolling(t *testing.T) {
	ts := startServer(t, Config{}, websocket.Config{})
	status, hdr, body := ts.do(t, "GET", "EIO=4&transport=polling", nil, nil)
	if status != 200 {
		t.Fatalf("status %d", status)
	}
	if ct := hdr.Get("Content-Type"); ct != "text/plain; charset=UTF-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := hdr.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	want := regexp.MustCompile(`^0\{"sid":"([A-Za-z0-9_-]{20})","upgrades":\["websocket"\],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000\}$`)
	m := want.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("open packet %q", body)
	}
	sid := m[1]
	raw, err := base64.RawURLEncoding.DecodeString(sid)
	if err != nil || len(raw) < 15 {
		t.Errorf("sid %q is not >= 15 bytes of base64url: %v", sid, err)
	}
	s := <-ts.h.opened
	if s.ID() != sid || s.Transport() != "polling" || s.Closed() {
		t.Errorf("session %q transport %q closed %v", s.ID(), s.Transport(), s.Closed())
	}
	u := s.Request().URL()
	if s.RemoteAddr() == "" || u.Query().Get("EIO") != "4" || s.Request().Header().Get("User-Agent") == "" {
		t.Errorf("handshake data: addr %q url %v header %v", s.RemoteAddr(), u.String(), s.Request().Header())
	}
	if ts.srv.Len() != 1 {
		t.Errorf("Len %d", ts.srv.Len())
	}
	// sids are random: a second handshake gets another one.
	if op := ts.handshake(t); op.SID == sid {
		t.Error("two handshakes got the same sid")
	}
}

// Configured values are what the open packet advertises.
func TestHandshakeAdvertisesConfig(t *testing.T) {
	ts := startServer(t, Config{PingInterval: 3000e6, PingTimeout: 2000e6, MaxPayload: 5000}, websocket.Config{})
	op := ts.handshake(t)
	if op.PingInterval != 3000 || op.PingTimeout != 2000 || op.MaxPayload != 5000 {
		t.Fatalf("open payload %+v", op)
	}
}

// A WebSocket handshake without sid starts a WebSocket-only session whose
// first frame is the open packet with no upgrades.
func TestHandshakeWebSocket(t *testing.T) {
	ts := startServer(t, Config{}, websocket.Config{})
	c := ts.dial(t, "EIO=4&transport=websocket")
	text, open := read(t, c)
	re := regexp.MustCompile(`^0\{"sid":"([A-Za-z0-9_-]{20})","upgrades":\[\],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000\}$`)
	m := re.FindStringSubmatch(open)
	if !text || m == nil {
		t.Fatalf("first frame (text=%v) %q", text, open)
	}
	s := <-ts.h.opened
	if s.ID() != m[1] || s.Transport() != "websocket" {
		t.Fatalf("session %q on %q", s.ID(), s.Transport())
	}
	write(t, c, "4hello")
	if got := ts.h.nextMessage(t); got.data != "hello" || got.binary || got.sid != s.ID() {
		t.Fatalf("OnMessage %+v", got)
	}
	if err := s.SendText([]byte(`2["ev"]`)); err != nil {
		t.Fatal(err)
	}
	readText(t, c, `42["ev"]`)
	// A WebSocket session cannot be polled.
	status, body := ts.poll(t, s.ID())
	if status != 400 || body != `{"code":3,"message":"Bad request"}` {
		t.Fatalf("poll on websocket session: %d %s", status, body)
	}
}

// OnOpen may send; like the reference, those packets reach the client on
// the GET after the handshake.
func TestOnOpenSends(t *testing.T) {
	h := newRecorder()
	h.onOpen = func(s *Session) { _ = s.SendText([]byte("0welcome")) }
	ts := startServerWith(t, Config{}, websocket.Config{}, h)
	op := ts.handshake(t)
	if status, body := ts.poll(t, op.SID); status != 200 || body != "40welcome" {
		t.Fatalf("GET after handshake: %d %q", status, body)
	}
	c, _ := ts.openWS(t)
	readText(t, c, "40welcome")
}

// Errors are answered exactly as the reference's verify() and handshake().
func TestHandshakeErrors(t *testing.T) {
	admit := func(r *http.Request) (int, string) {
		switch r.URL.Query().Get("who") {
		case "stranger":
			return 403, ""
		case "crowd":
			return 503, "Too many connections"
		}
		return 0, ""
	}
	ts := startServer(t, Config{Admit: admit}, websocket.Config{})
	polling := ts.handshake(t).SID
	_, wsSID := ts.openWS(t)

	tests := []struct {
		name, method, query string
		status              int
		body                string
	}{
		{"unknown transport", "GET", "EIO=4&transport=flash", 400, `{"code":0,"message":"Transport unknown"}`},
		{"missing transport", "GET", "EIO=4", 400, `{"code":0,"message":"Transport unknown"}`},
		{"unknown sid", "GET", "EIO=4&transport=polling&sid=nope", 400, `{"code":1,"message":"Session ID unknown"}`},
		{"unknown sid POST", "POST", "EIO=4&transport=polling&sid=nope", 400, `{"code":1,"message":"Session ID unknown"}`},
		{"POST handshake", "POST", "EIO=4&transport=polling", 400, `{"code":2,"message":"Bad handshake method"}`},
		{"PUT handshake", "PUT", "EIO=4&transport=polling", 400, `{"code":2,"message":"Bad handshake method"}`},
		{"websocket without upgrade", "GET", "EIO=4&transport=websocket", 400, `{"code":3,"message":"Bad request"}`},
		{"transport mismatch", "GET", "EIO=4&transport=websocket&sid=" + polling, 400, `{"code":3,"message":"Bad request"}`},
		{"polling on websocket session", "GET", "EIO=4&transport=polling&sid=" + wsSID, 400, `{"code":3,"message":"Bad request"}`},
		{"admit refuses", "GET", "EIO=4&transport=polling&who=stranger", 403, `{"code":4,"message":"Forbidden"}`},
		{"admit refuses with message", "GET", "EIO=4&transport=polling&who=crowd", 503, `{"code":4,"message":"Too many connections"}`},
		{"EIO=3", "GET", "EIO=3&transport=polling", 400, `{"code":5,"message":"Unsupported protocol version"}`},
		{"EIO missing", "GET", "transport=polling", 400, `{"code":5,"message":"Unsupported protocol version"}`},
		{"EIO=5", "GET", "EIO=5&transport=polling", 400, `{"code":5,"message":"Unsupported protocol version"}`},
		{"bad method on session", "DELETE", "EIO=4&transport=polling&sid=" + polling, 500, ``},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, hdr, body := ts.do(t, tc.method, tc.query, nil, nil)
			if status != tc.status || body != tc.body {
				t.Fatalf("got %d %s, want %d %s", status, body, tc.status, tc.body)
			}
			if tc.body != "" && hdr.Get("Content-Type") != "application/json" {
				t.Errorf("Content-Type %q", hdr.Get("Content-Type"))
			}
		})
	}
	// None of that hurt the live sessions.
	if ts.srv.Len() != 2 {
		t.Fatalf("Len %d after refusals", ts.srv.Len())
	}
}

// WebSocket requests are refused before the upgrade with the reference's
// abortUpgrade answer (400, the message as text/html), or Admit's status.
func TestWebSocketHandshakeErrors(t *testing.T) {
	admit := func(r *http.Request) (int, string) {
		if r.URL.Query().Get("who") == "stranger" {
			return 403, ""
		}
		return 0, ""
	}
	ts := startServer(t, Config{Admit: admit}, websocket.Config{})
	for _, tc := range []struct {
		query  string
		status int
	}{
		{"EIO=4&transport=websocket&sid=nope", 400},
		{"EIO=3&transport=websocket", 400},
		{"EIO=4&transport=polling", 400},
		{"EIO=4&transport=websocket&who=stranger", 403},
	} {
		_, resp, err := gorillaDial(ts.wsURL(tc.query))
		if err == nil || resp == nil || resp.StatusCode != tc.status {
			t.Errorf("%s: err %v resp %v, want status %d", tc.query, err, resp, tc.status)
		}
	}
	if ts.srv.Len() != 0 {
		t.Fatalf("Len %d", ts.srv.Len())
	}
}
