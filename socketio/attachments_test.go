package socketio_test

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/protocol/sioproto"
	sio "github.com/heraldhq/herald/socketio"
)

// uploadNode serves an "upload" event that acknowledges how many binary
// parts it got and their bytes together.
func uploadNode(t *testing.T, mutate func(*herald.Config)) *node {
	t.Helper()
	n := startNode(t, mutate)
	n.SocketIO().OnEvent("/", "upload", func(s *sio.Socket, parts ...[]byte) string {
		total := 0
		for _, p := range parts {
			total += len(p)
		}
		return fmt.Sprintf("%d parts, %d bytes", len(parts), total)
	})
	return n
}

// parts returns count binary arguments of size bytes each.
func parts(count, size int) []any {
	out := make([]any, count)
	for i := range out {
		out[i] = make([]byte, size)
	}
	return out
}

// uploadOverWebSocket sends upload with args and returns the
// acknowledgement, or "" when the server closed the connection instead.
func uploadOverWebSocket(t *testing.T, n *node, args []any) string {
	t.Helper()
	c := dialSIO(t, n, "")
	c.mustConnect("/", nil)
	var a sioproto.Args
	a.String("upload")
	for _, v := range args {
		if err := a.Value(v); err != nil {
			t.Fatal(err)
		}
	}
	pkt := a.Packet(sioproto.Event, "/")
	pkt.ID, pkt.HasID = 1, true
	c.send(pkt)
	deadline := time.After(5 * time.Second)
	for {
		select {
		case p, ok := <-c.packets:
			if !ok {
				return ""
			}
			if p.Type == sioproto.Ack && p.ID == 1 {
				got, err := p.Args()
				if err != nil {
					t.Fatal(err)
				}
				return str(t, got[0])
			}
		case <-deadline:
			t.Fatal("neither an acknowledgement nor a close within 5s")
		}
	}
}

// A binary packet may carry up to socketio.max_attachments attachments,
// together up to socketio.max_payload bytes; one over either bound closes
// its connection as a protocol error, over WebSocket and long-polling.
func TestAttachmentBounds(t *testing.T) {
	t.Run("eleven attachments pass by default", func(t *testing.T) {
		n := uploadNode(t, nil)
		if got := uploadOverWebSocket(t, n, parts(11, 3)); got != "11 parts, 33 bytes" {
			t.Fatalf("ack %q", got)
		}
	})
	limited := func(c *herald.Config) {
		c.SocketIO.MaxAttachments = 3
		c.SocketIO.MaxPayload = 1000
	}
	t.Run("WebSocket", func(t *testing.T) {
		n := uploadNode(t, limited)
		if got := uploadOverWebSocket(t, n, parts(3, 1)); got != "3 parts, 3 bytes" {
			t.Fatalf("at the count bound: %q", got)
		}
		if got := uploadOverWebSocket(t, n, parts(4, 1)); got != "" {
			t.Fatalf("over the count bound: acknowledged %q", got)
		}
		if got := uploadOverWebSocket(t, n, parts(2, 500)); got != "2 parts, 1000 bytes" {
			t.Fatalf("at the byte bound: %q", got)
		}
		if got := uploadOverWebSocket(t, n, []any{make([]byte, 500), make([]byte, 501)}); got != "" {
			t.Fatalf("over the byte bound: acknowledged %q", got)
		}
		waitUntil(t, "the protocol errors counted", func() bool {
			return n.metric(t, `herald_protocol_errors_total{transport="socketio_websocket"}`) == 2
		})
	})
	t.Run("long-polling", func(t *testing.T) {
		n := uploadNode(t, limited)
		if got := uploadOverPolling(t, n, 3, 1); got != `431["3 parts, 3 bytes"]` {
			t.Fatalf("at the count bound: %q", got)
		}
		if got := uploadOverPolling(t, n, 4, 1); got != "" {
			t.Fatalf("over the count bound: %q", got)
		}
		if got := uploadOverPolling(t, n, 2, 500); got != `431["2 parts, 1000 bytes"]` {
			t.Fatalf("at the byte bound: %q", got)
		}
		if got := uploadOverPolling(t, n, 2, 501); got != "" {
			t.Fatalf("over the byte bound: %q", got)
		}
		waitUntil(t, "the protocol errors counted", func() bool {
			return n.metric(t, `herald_protocol_errors_total{transport="socketio_polling"}`) == 2
		})
	})
}

// uploadOverPolling sends upload with count attachments of size bytes over
// long-polling, one POST per attachment (each within max_payload, as a
// client splits its writes), and returns the server's answer: the
// acknowledgement packet, or "" when it closed the session.
func uploadOverPolling(t *testing.T, n *node, count, size int) string {
	t.Helper()
	p := pollingSession(t, n)
	p.post("40")
	if got := p.get(); !strings.HasPrefix(got, "40{") {
		t.Fatalf("CONNECT answer %q", got)
	}
	refs := make([]string, count)
	for i := range refs {
		refs[i] = fmt.Sprintf(`{"_placeholder":true,"num":%d}`, i)
	}
	bodies := []string{fmt.Sprintf(`45%d-1["upload",%s]`, count, strings.Join(refs, ","))}
	for range count {
		bodies = append(bodies, "b"+base64.StdEncoding.EncodeToString(make([]byte, size)))
	}
	for _, b := range bodies {
		if !postPolling(t, p, b) {
			return ""
		}
	}
	resp, err := http.Get(p.url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) == "1" {
		return ""
	}
	return string(body)
}

// postPolling POSTs body and reports whether the session took it.
func postPolling(t *testing.T, p *pollingClient, body string) bool {
	t.Helper()
	resp, err := http.Post(p.url, "text/plain;charset=UTF-8", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
