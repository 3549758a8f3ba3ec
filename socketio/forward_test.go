package socketio_test

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/testservices"
)

// servedNode is a node served on its own listener, announcing url (its
// own address when url is empty) to the cluster on prefix.
func servedNode(t *testing.T, broker, prefix, url string) (*node, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n := startNode(t, func(c *herald.Config) {
		c.Broker, c.Cluster.Prefix, c.Cluster.NodeTTL, c.Cluster.URL = broker, prefix, 3*time.Second, url
	})
	go func() { _ = n.Serve(ln, nil) }()
	return n, "http://" + ln.Addr().String()
}

// eioRequest makes one Engine.IO polling request and returns its status
// and body.
func eioRequest(t *testing.T, method, base, sid, body string, header http.Header) (int, string) {
	t.Helper()
	u := base + "/socket.io/?EIO=4&transport=polling"
	if sid != "" {
		u += "&sid=" + sid
	}
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// handshake opens a polling session at base and returns its sid.
func handshake(t *testing.T, base string) string {
	t.Helper()
	status, body := eioRequest(t, "GET", base, "", "", nil)
	_, rest, ok := strings.Cut(body, `"sid":"`)
	sid, _, _ := strings.Cut(rest, `"`)
	if status != 200 || !ok {
		t.Fatalf("handshake at %s: %d %s", base, status, body)
	}
	return sid
}

// A polling session made on one node is served through another: its
// requests are forwarded to the node holding it, once, and a node that
// cannot be reached is named in a 502.
func TestPollingIsForwardedToTheSessionsNode(t *testing.T) {
	broker := testservices.Redis(t)
	prefix := testservices.Prefix(t, broker, "fwd")
	_, a := servedNode(t, broker, prefix, "")
	nb, b := servedNode(t, broker, prefix, "")
	// c announces a URL where nothing listens.
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	deadURL := "http://" + dead.Addr().String()
	_ = dead.Close()
	_, c := servedNode(t, broker, prefix, deadURL)
	waitUntil(t, "three nodes announcing their URLs", func() bool {
		list, err := nb.Nodes(t.Context())
		n := 0
		for _, x := range list {
			if x.URL != "" {
				n++
			}
		}
		return err == nil && n == 3
	})

	sid := handshake(t, a)
	if status, body := eioRequest(t, "POST", b, sid, "40", nil); status != 200 || body != "ok" {
		t.Fatalf("CONNECT posted through another node: %d %q", status, body)
	}
	if status, body := eioRequest(t, "GET", b, sid, "", nil); status != 200 || !strings.HasPrefix(body, `40{`) || !strings.Contains(body, `"sid":`) {
		t.Fatalf("poll through another node: %d %q, want the CONNECT reply", status, body)
	}
	// A request that was forwarded once is not forwarded again.
	fwd := http.Header{"Herald-Forwarded-By": {"somenode"}}
	if status, body := eioRequest(t, "GET", b, sid, "", fwd); status != 400 || !strings.Contains(body, "Session ID unknown") {
		t.Fatalf("an already forwarded request: %d %q, want 400 Session ID unknown", status, body)
	}
	// A sid naming no live node is unknown.
	if status, body := eioRequest(t, "GET", b, "ffffffff"+sid[8:], "", nil); status != 400 || !strings.Contains(body, "Session ID unknown") {
		t.Fatalf("a sid of no node: %d %q, want 400 Session ID unknown", status, body)
	}
	// A node that does not answer is named.
	lost := handshake(t, c)
	status, body := eioRequest(t, "GET", b, lost, "", nil)
	if status != http.StatusBadGateway || !strings.Contains(body, strings.TrimPrefix(deadURL, "http://")) {
		t.Fatalf("a session on an unreachable node: %d %q, want 502 naming %s", status, body, deadURL)
	}
	// The session on a goes on, on a itself.
	if status, _ := eioRequest(t, "POST", a, sid, "41", nil); status != 200 {
		t.Fatalf("the session at its own node: %d", status)
	}
}
