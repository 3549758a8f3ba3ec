package engineio

import (
	"net/http/httptest"
	"reflect"
	"testing"
)

func TestRequestKeepsHeadersURLAndAddress(t *testing.T) {
	r := httptest.NewRequest("GET", "/socket.io/?EIO=4&transport=polling&q=a%20b", nil)
	r.RemoteAddr = "192.0.2.1:5000"
	r.Header.Set("User-Agent", "test: agent") // ": " inside a value
	r.Header.Add("Cookie", "a=1")
	r.Header.Add("Cookie", "b=2")
	r.Header.Set("X-Empty", "")
	q := newRequest(r)

	if got := q.Header(); !reflect.DeepEqual(got, r.Header) {
		t.Fatalf("headers: got %v, want %v", got, r.Header)
	}
	q.Header().Set("User-Agent", "changed")
	if q.Header().Get("User-Agent") != "test: agent" {
		t.Fatal("a caller's change to Header leaked into the request")
	}
	u := q.URL()
	if u.Path != "/socket.io/" || u.Query().Get("q") != "a b" || u.Query().Get("EIO") != "4" {
		t.Fatalf("url %v", u.String())
	}
	if q.RemoteAddr() != "192.0.2.1:5000" {
		t.Fatalf("remote %q", q.RemoteAddr())
	}
	// The WebSocket handshake's own headers describe the upgrade, not the
	// client: they are not kept.
	r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	r.Header.Set("Upgrade", "websocket")
	if h := newRequest(r).Header(); !reflect.DeepEqual(h, q.Header()) {
		t.Fatalf("upgrade headers kept: %v", h)
	}
}
