package engineio

import (
	"net/http"
	"testing"

	"github.com/heraldhq/herald/internal/transport/websocket"
)

// Preflights and polling responses carry the CORS headers for allowed
// origins, as the reference's cors middleware sets them.
func TestCORS(t *testing.T) {
	ts := startServer(t, Config{AllowedOrigins: []string{"https://app.example"}, AllowCredentials: true}, websocket.Config{})
	allowed := http.Header{"Origin": {"https://app.example"}}

	status, hdr, _ := ts.do(t, "OPTIONS", "EIO=4&transport=polling", nil, http.Header{
		"Origin":                         {"https://app.example"},
		"Access-Control-Request-Method":  {"POST"},
		"Access-Control-Request-Headers": {"content-type"},
	})
	if status != 204 {
		t.Fatalf("preflight %d", status)
	}
	checkCORS(t, "preflight", hdr, "https://app.example", true)
	if hdr.Get("Access-Control-Allow-Methods") != corsMethods || hdr.Get("Access-Control-Allow-Headers") != "content-type" {
		t.Errorf("preflight headers %v", hdr)
	}

	status, hdr, body := ts.do(t, "GET", "EIO=4&transport=polling", nil, allowed)
	if status != 200 {
		t.Fatalf("handshake %d %s", status, body)
	}
	checkCORS(t, "handshake", hdr, "https://app.example", true)
	sid := (<-ts.h.opened).ID()

	_, hdr, _ = ts.do(t, "POST", "EIO=4&transport=polling&sid="+sid, stringsReader("4x"), allowed)
	checkCORS(t, "POST", hdr, "https://app.example", true)
	ts.h.nextMessage(t)

	// Refusals carry the headers too, so the page can read them.
	_, hdr, _ = ts.do(t, "GET", "EIO=4&transport=polling&sid=nope", nil, allowed)
	checkCORS(t, "error", hdr, "https://app.example", true)

	// Another origin gets no Allow-Origin.
	_ = ts.h.session(t, sid).SendText([]byte("y"))
	_, hdr, _ = ts.do(t, "GET", "EIO=4&transport=polling&sid="+sid, nil, http.Header{"Origin": {"https://evil.example"}})
	checkCORS(t, "other origin", hdr, "", false)
}

// "*" allows any origin, echoed back so credentials keep working; an empty
// list allows only the server's own host.
func TestCORSWildcardAndSameHost(t *testing.T) {
	any := startServer(t, Config{AllowedOrigins: []string{"*"}}, websocket.Config{})
	_, hdr, _ := any.do(t, "GET", "EIO=4&transport=polling", nil, http.Header{"Origin": {"https://x.example"}})
	checkCORS(t, "wildcard", hdr, "https://x.example", false)

	same := startServer(t, Config{}, websocket.Config{})
	self := "http://" + same.Listener.Addr().String()
	_, hdr, _ = same.do(t, "GET", "EIO=4&transport=polling", nil, http.Header{"Origin": {self}})
	checkCORS(t, "same host", hdr, self, false)
	_, hdr, _ = same.do(t, "GET", "EIO=4&transport=polling", nil, http.Header{"Origin": {"https://x.example"}})
	checkCORS(t, "cross host", hdr, "", false)
}

func checkCORS(t *testing.T, what string, hdr http.Header, origin string, creds bool) {
	t.Helper()
	if got := hdr.Get("Access-Control-Allow-Origin"); got != origin {
		t.Errorf("%s: Allow-Origin %q, want %q", what, got, origin)
	}
	if got := hdr.Get("Access-Control-Allow-Credentials") == "true"; got != creds {
		t.Errorf("%s: Allow-Credentials %v, want %v", what, got, creds)
	}
	if hdr.Get("Vary") != "Origin" {
		t.Errorf("%s: Vary %v", what, hdr.Values("Vary"))
	}
}
