package socketio_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	sio "github.com/heraldhq/herald/socketio"
)

// pollingClient drives the long-polling transport by hand.
type pollingClient struct {
	t   *testing.T
	url string
}

func (p *pollingClient) get() string {
	p.t.Helper()
	resp, err := http.Get(p.url)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func (p *pollingClient) post(body string) {
	p.t.Helper()
	resp, err := http.Post(p.url, "text/plain;charset=UTF-8", strings.NewReader(body))
	if err != nil {
		p.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		p.t.Fatalf("POST %q: %d", body, resp.StatusCode)
	}
}

func TestVolatileEmitsAreDroppedWhenTheTransportIsNotWritable(t *testing.T) {
	n := startNode(t, nil)
	joined := make(chan *sio.Socket, 1)
	n.SocketIO().OnConnect("/", func(s *sio.Socket) error {
		err := s.Join("room") // before the test emits to it
		joined <- s
		return err
	})
	base := n.srv.URL + "/socket.io/?EIO=4&transport=polling"
	open := (&pollingClient{t: t, url: base}).get()
	sid := open[strings.Index(open, `"sid":"`)+7:]
	sid = sid[:strings.IndexByte(sid, '"')]
	p := &pollingClient{t: t, url: base + "&sid=" + sid}
	p.post("40")
	if got := p.get(); !strings.HasPrefix(got, "40{") {
		t.Fatalf("CONNECT answer %q", got)
	}
	<-joined
	// No GET is waiting now: the transport is not writable.
	io := n.SocketIO()
	before := n.Info().Delivered
	io.To("/", "room").Volatile().Emit("volatile", 1)
	io.To("/", "room").Emit("kept", 2)
	// Both have been through fan-out before the next GET makes the
	// transport writable again.
	waitUntil(t, "fan-out", func() bool { return n.Info().Delivered >= before+2 })
	got := p.get()
	if !strings.Contains(got, `"kept"`) || strings.Contains(got, `"volatile"`) {
		t.Fatalf("poll got %q: want the kept event and not the volatile one", got)
	}
}
