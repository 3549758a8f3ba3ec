package socketio_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/protocol/sioproto"
	sio "github.com/heraldhq/herald/socketio"
)

// node is a herald node served over real HTTP for Socket.IO tests.
type node struct {
	*herald.Node
	srv *httptest.Server
}

const apiKey = "k"

func startNode(t *testing.T, mutate func(*herald.Config), opts ...herald.Option) *node {
	t.Helper()
	cfg := herald.Config{
		APIKey: apiKey, TokenSecret: "s", AllowAnonymous: true,
		DefaultChannel: herald.ChannelPolicy{Subscribe: herald.AccessAnyone, Publish: herald.AccessAnyone},
		Namespaces: map[string]herald.ChannelPolicy{
			"chat": {Subscribe: herald.AccessAnyone, Publish: herald.AccessSubscribers, Presence: true, HistorySize: 10},
		},
		SocketIO: sio.Config{Namespaces: []string{"/chat"}},
	}
	if mutate != nil {
		mutate(&cfg)
	}
	n, err := herald.New(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(n.Handler())
	t.Cleanup(func() {
		srv.Close()
		_ = n.Shutdown(t.Context())
	})
	return &node{Node: n, srv: srv}
}

func (n *node) publish(t *testing.T, body string) {
	t.Helper()
	req, _ := http.NewRequest("POST", n.srv.URL+"/api/publish", strings.NewReader(body))
	req.Header.Set("Authorization", "apikey "+apiKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("publish %s: %d", body, resp.StatusCode)
	}
}

// sioClient is a minimal Socket.IO v4 client over the WebSocket
// transport, enough to drive the server from Go tests. The official
// clients are tested from e2e/.
type sioClient struct {
	t       *testing.T
	ws      *websocket.Conn
	wmu     sync.Mutex
	packets chan sioproto.Packet
	closed  chan error
	nextAck uint64
	// held are packets read while waiting for something else, handed out
	// first by next.
	held []sioproto.Packet
}

func dialSIO(t *testing.T, n *node, query string) *sioClient {
	t.Helper()
	url := "ws" + strings.TrimPrefix(n.srv.URL, "http") + "/socket.io/?EIO=4&transport=websocket" + query
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, open, err := ws.ReadMessage()
	if err != nil || open[0] != '0' {
		t.Fatalf("open packet: %q %v", open, err)
	}
	c := &sioClient{t: t, ws: ws, packets: make(chan sioproto.Packet, 256), closed: make(chan error, 1)}
	go c.read()
	t.Cleanup(func() { ws.Close() })
	return c
}

func (c *sioClient) read() {
	dec := sioproto.NewDecoder(sioproto.Limits{})
	for {
		typ, msg, err := c.ws.ReadMessage()
		if err != nil {
			c.closed <- err
			close(c.packets)
			return
		}
		if typ == websocket.TextMessage {
			switch msg[0] {
			case '2':
				c.write(websocket.TextMessage, []byte("3"))
				continue
			case '4':
				msg = msg[1:]
			default:
				continue
			}
		}
		p, done, err := dec.Add(append([]byte(nil), msg...), typ == websocket.BinaryMessage)
		if err != nil {
			c.closed <- fmt.Errorf("client decoder: %w", err)
			close(c.packets)
			return
		}
		if done {
			c.packets <- p
		}
	}
}

func (c *sioClient) write(typ int, b []byte) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.ws.WriteMessage(typ, b); err != nil {
		c.t.Logf("write: %v", err)
	}
}

// send writes a Socket.IO packet as an Engine.IO message.
func (c *sioClient) send(p sioproto.Packet) {
	text, bins, err := sioproto.Encode(p)
	if err != nil {
		c.t.Fatal(err)
	}
	c.write(websocket.TextMessage, append([]byte("4"), text...))
	for _, b := range bins {
		c.write(websocket.BinaryMessage, b)
	}
}

// connect joins nsp with the auth payload and returns the CONNECT answer
// (or the CONNECT_ERROR) packet.
func (c *sioClient) connect(nsp string, auth any) sioproto.Packet {
	c.t.Helper()
	p := sioproto.Packet{Type: sioproto.Connect, Namespace: nsp}
	if auth != nil {
		p.Data, _ = json.Marshal(auth)
	}
	c.send(p)
	for {
		got := c.next()
		if got.Namespace == nsp && (got.Type == sioproto.Connect || got.Type == sioproto.ConnectError) {
			return got
		}
	}
}

// mustConnect connects and returns the socket id.
func (c *sioClient) mustConnect(nsp string, auth any) string {
	c.t.Helper()
	p := c.connect(nsp, auth)
	if p.Type != sioproto.Connect {
		c.t.Fatalf("connect %s: %s %s", nsp, p.Type, p.Data)
	}
	var v struct{ SID string }
	json.Unmarshal(p.Data, &v)
	return v.SID
}

// emit sends an event; with ack, it waits for and returns the ack's args.
func (c *sioClient) emit(nsp string, ack bool, event string, args ...any) []sioproto.Arg {
	c.t.Helper()
	var a sioproto.Args
	a.String(event)
	for _, v := range args {
		if err := a.Value(v); err != nil {
			c.t.Fatal(err)
		}
	}
	p := a.Packet(sioproto.Event, nsp)
	if !ack {
		c.send(p)
		return nil
	}
	c.nextAck++
	p.ID, p.HasID = c.nextAck, true
	c.send(p)
	for {
		got := c.read1()
		if got.Type == sioproto.Ack && got.ID == p.ID {
			out, err := got.Args()
			if err != nil {
				c.t.Fatal(err)
			}
			return out
		}
		c.held = append(c.held, got) // for event() and next()
	}
}

// next returns the next packet, held ones first.
func (c *sioClient) next() sioproto.Packet {
	c.t.Helper()
	if len(c.held) > 0 {
		p := c.held[0]
		c.held = c.held[1:]
		return p
	}
	return c.read1()
}

func (c *sioClient) read1() sioproto.Packet {
	c.t.Helper()
	select {
	case p, ok := <-c.packets:
		if !ok {
			c.t.Fatalf("connection closed: %v", <-c.closed)
		}
		return p
	case <-time.After(5 * time.Second):
		c.t.Fatal("no packet within 5s")
	}
	return sioproto.Packet{}
}

// event waits for event name on nsp, skipping other packets, and returns
// its arguments.
func (c *sioClient) event(nsp, name string) []sioproto.Arg {
	c.t.Helper()
	for {
		p := c.next()
		if p.Type != sioproto.Event || p.Namespace != nsp {
			continue
		}
		if n, _ := p.EventName(); n == name {
			args, err := p.Args()
			if err != nil {
				c.t.Fatal(err)
			}
			return args
		}
	}
}

// noEvent asserts no event name arrives on nsp within d.
func (c *sioClient) noEvent(nsp, name string, d time.Duration) {
	c.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case p, ok := <-c.packets:
			if !ok {
				return
			}
			if n, _ := p.EventName(); p.Type == sioproto.Event && p.Namespace == nsp && n == name {
				c.t.Fatalf("unexpected %s on %s", name, nsp)
			}
		case <-deadline:
			return
		}
	}
}

func str(t *testing.T, a sioproto.Arg) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(a.JSON, &s); err != nil {
		t.Fatalf("%s is not a string", a.JSON)
	}
	return s
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 5s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitJoined waits until a socket of namespace / is in room: the
// reference server answers CONNECT before OnConnect runs, so a join made
// there may still be under way when the client hears it is connected.
func waitJoined(t *testing.T, n *node, room string) {
	t.Helper()
	waitUntil(t, "joined "+room, func() bool { return n.SocketIO().RoomLen("/", room) > 0 })
}

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

// dialPolling opens a polling session and connects it to namespace /.
func dialPolling(t *testing.T, n *node) *pollingClient {
	t.Helper()
	base := n.srv.URL + "/socket.io/?EIO=4&transport=polling"
	open := (&pollingClient{t: t, url: base}).get()
	var v struct{ SID string }
	if !strings.HasPrefix(open, "0") || json.Unmarshal([]byte(open[1:]), &v) != nil {
		t.Fatalf("open packet: %q", open)
	}
	p := &pollingClient{t: t, url: base + "&sid=" + v.SID}
	p.post("40")
	if got := p.get(); !strings.HasPrefix(got, "40{") {
		t.Fatalf("CONNECT answer %q", got)
	}
	return p
}
