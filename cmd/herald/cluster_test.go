package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/heraldhq/herald/internal/testservices"
)

// cluster is several herald processes on one broker.
type cluster struct {
	addrs []string
	procs []*process
}

// clusterTTL is the cluster tests' cluster.node_ttl and
// cluster.presence_ttl: short, so a dead node's traces go within seconds.
const clusterTTL = 3 * time.Second

// startCluster runs n herald processes on broker, sharing a cluster
// prefix no other test uses, and waits until each lists all n nodes.
func startCluster(t *testing.T, n int, broker, extra string) *cluster {
	t.Helper()
	prefix := testservices.Prefix(t, broker, "t")
	c := &cluster{}
	for i := 0; i < n; i++ {
		addr := freeAddr(t)
		file := serveConfig(t, addr, fmt.Sprintf("broker: %q\ncluster:\n  prefix: %s\n  node_name: node%d\n  node_ttl: %s\n  presence_ttl: %s\n%s", broker, prefix, i, clusterTTL, clusterTTL, extra))
		p := startHerald(t, nil, "serve", "--config", file)
		c.addrs, c.procs = append(c.addrs, addr), append(c.procs, p)
	}
	for _, addr := range c.addrs {
		waitHealthy(t, addr)
	}
	for _, addr := range c.addrs {
		c.waitNodes(t, addr, n)
	}
	return c
}

// waitNodes waits until the node at addr lists n live nodes.
func (c *cluster) waitNodes(t *testing.T, addr string, n int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var info struct {
			Nodes []struct {
				ID   string `json:"id"`
				Name string `json:"name"`
			} `json:"nodes"`
		}
		status := apiGet(t, addr, "/api/info", &info)
		if status == 200 && len(info.Nodes) == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %s lists %d nodes (%+v), want %d", addr, len(info.Nodes), info.Nodes, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func apiGet(t *testing.T, addr, path string, v any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
	req.Header.Set("Authorization", "apikey k")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_ = json.NewDecoder(resp.Body).Decode(v)
	return resp.StatusCode
}

func apiPost(addr, path, body string) (int, []byte, error) {
	return apiPostWith(http.DefaultClient, addr, path, body)
}

// apiPostWith posts body to the API with hc and returns the answer.
func apiPostWith(hc *http.Client, addr, path, body string) (int, []byte, error) {
	req, _ := http.NewRequest("POST", "http://"+addr+path, strings.NewReader(body))
	req.Header.Set("Authorization", "apikey k")
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.Bytes(), err
}

func randomIndex(n int) int {
	i, _ := rand.Int(rand.Reader, big.NewInt(int64(n)))
	return int(i.Int64())
}

// listener is one client of the cluster test: it records the "i" of
// every message of the channel it receives, in order.
type listener struct {
	mu   sync.Mutex
	got  []int
	err  error
	kind string
	addr string
}

func (l *listener) add(i int) {
	l.mu.Lock()
	l.got = append(l.got, i)
	l.mu.Unlock()
}

func (l *listener) fail(err error) {
	l.mu.Lock()
	if l.err == nil {
		l.err = err
	}
	l.mu.Unlock()
}

func (l *listener) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.got)
}

// dialHerald subscribes a herald-protocol client to ch and reads its
// publications into l until the connection closes.
func dialHerald(l *listener, ch string, ready chan<- error) *websocket.Conn {
	c, _, err := websocket.DefaultDialer.Dial("ws://"+l.addr+"/ws", nil)
	if err != nil {
		ready <- err
		return nil
	}
	_ = c.WriteMessage(websocket.TextMessage, []byte(`{"id":1,"op":"subscribe","channel":"`+ch+`"}`))
	go func() {
		subscribed := false
		for {
			_, frame, err := c.ReadMessage()
			if err != nil {
				if !subscribed {
					ready <- err
				}
				return
			}
			for _, line := range bytes.Split(frame, []byte("\n")) {
				var m struct {
					ID     int              `json:"id"`
					Type   string           `json:"type"`
					Result json.RawMessage  `json:"result"`
					Error  json.RawMessage  `json:"error"`
					Data   struct{ I *int } `json:"data"`
				}
				if json.Unmarshal(line, &m) != nil {
					continue
				}
				switch {
				case m.ID == 1 && !subscribed:
					subscribed = true
					if m.Error != nil {
						ready <- fmt.Errorf("subscribe: %s", m.Error)
					} else {
						ready <- nil
					}
				case m.Type == "publication" && m.Data.I != nil:
					l.add(*m.Data.I)
				}
			}
		}
	}()
	return c
}

// dialSocketIO connects a Socket.IO client (over WebSocket) to "/",
// joins room ch with herald:join and reads the room's "message" events
// into l.
func dialSocketIO(l *listener, ch string, ready chan<- error) *websocket.Conn {
	c, _, err := websocket.DefaultDialer.Dial("ws://"+l.addr+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		ready <- err
		return nil
	}
	go func() {
		joined := false
		for {
			_, msg, err := c.ReadMessage()
			if err != nil {
				if !joined {
					ready <- err
				}
				return
			}
			s := string(msg)
			switch {
			case s == "2": // engine.io ping
				_ = c.WriteMessage(websocket.TextMessage, []byte("3"))
			case strings.HasPrefix(s, "0{"): // engine.io open
				_ = c.WriteMessage(websocket.TextMessage, []byte("40"))
			case strings.HasPrefix(s, "40{"): // connected to "/"
				_ = c.WriteMessage(websocket.TextMessage, []byte(`421["herald:join","`+ch+`"]`))
			case strings.HasPrefix(s, "431["): // the join's ack
				joined = true
				if strings.Contains(s, `"ok":true`) {
					ready <- nil
				} else {
					ready <- fmt.Errorf("join: %s", s)
				}
			case strings.HasPrefix(s, `42["message",`):
				var ev []json.RawMessage
				var d struct{ I *int }
				if json.Unmarshal([]byte(s[2:]), &ev) == nil && len(ev) >= 2 && json.Unmarshal(ev[1], &d) == nil && d.I != nil {
					l.add(*d.I)
				}
			}
		}
	}()
	return c
}

// fanOutAcrossNodes connects clients spread over the cluster's nodes, a
// third of them Socket.IO, publishes count messages on random nodes, and
// checks every client got every one, in order, once.
func fanOutAcrossNodes(t *testing.T, c *cluster, clients, count int) {
	ch := "news"
	ready := make(chan error, clients)
	listeners := make([]*listener, clients)
	for i := range listeners {
		l := &listener{addr: c.addrs[i%len(c.addrs)], kind: "herald"}
		if i%3 == 2 {
			l.kind = "socket.io"
		}
		listeners[i] = l
		var conn *websocket.Conn
		if l.kind == "herald" {
			conn = dialHerald(l, ch, ready)
		} else {
			conn = dialSocketIO(l, ch, ready)
		}
		if conn != nil {
			t.Cleanup(func() { conn.Close() })
		}
	}
	for range listeners {
		select {
		case err := <-ready:
			if err != nil {
				t.Fatalf("a client did not subscribe: %v", err)
			}
		case <-time.After(60 * time.Second):
			t.Fatal("clients still subscribing after 60s")
		}
	}
	for i := 0; i < count; i++ {
		addr := c.addrs[randomIndex(len(c.addrs))]
		status, body, err := apiPost(addr, "/api/publish", fmt.Sprintf(`{"channel":%q,"data":{"i":%d}}`, ch, i))
		if err != nil || status != 200 {
			t.Fatalf("publish %d on %s: %d %s %v", i, addr, status, body, err)
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for _, l := range listeners {
		for l.count() < count && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
	}
	time.Sleep(200 * time.Millisecond) // anything more would be a duplicate
	for n, l := range listeners {
		l.mu.Lock()
		got := append([]int(nil), l.got...)
		l.mu.Unlock()
		if len(got) != count {
			t.Fatalf("client %d (%s on %s) got %d of %d messages", n, l.kind, l.addr, len(got), count)
		}
		for i, v := range got {
			if v != i {
				t.Fatalf("client %d (%s on %s) got message %d at position %d: %v", n, l.kind, l.addr, v, i, got)
			}
		}
	}
}

// clusterClients is how many clients the cluster tests connect.
func clusterClients() int {
	if raceDetector {
		return 600
	}
	return 3000
}

func TestClusterFanOutOnRedis(t *testing.T) {
	c := startCluster(t, 3, testservices.Redis(t), "")
	fanOutAcrossNodes(t, c, clusterClients(), 100)
}

func TestClusterFanOutOnNATS(t *testing.T) {
	c := startCluster(t, 3, testservices.NATS(t), "")
	fanOutAcrossNodes(t, c, clusterClients(), 100)
}

// A push and the server API's orders reach a user's connection on
// whichever node it is.
func userOrdersAcrossNodes(t *testing.T, c *cluster) {
	conn, _, err := websocket.DefaultDialer.Dial("ws://"+c.addrs[1]+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.WriteMessage(websocket.TextMessage, []byte(`{"id":1,"op":"connect","token":"`+userToken(t, "alice")+`"}`))
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, reply, err := conn.ReadMessage(); err != nil || !bytes.Contains(reply, []byte(`"result"`)) {
		t.Fatalf("connect: %s %v", reply, err)
	}
	if status, body, err := apiPost(c.addrs[0], "/api/push", `{"user":"alice","event":"note","data":{"n":1}}`); status != 200 || err != nil {
		t.Fatalf("push: %d %s %v", status, body, err)
	}
	if _, msg, err := conn.ReadMessage(); err != nil || !bytes.Contains(msg, []byte(`"note"`)) {
		t.Fatalf("the push arrived as %s (%v)", msg, err)
	}
	status, body, err := apiPost(c.addrs[2], "/api/disconnect", `{"user":"alice"}`)
	if status != 200 || err != nil || string(bytes.TrimSpace(body)) != `{"disconnected":1}` {
		t.Fatalf("disconnect from another node: %d %s %v", status, body, err)
	}
	for {
		if _, _, err := conn.ReadMessage(); err != nil {
			if ce, ok := err.(*websocket.CloseError); !ok || ce.Code != 4003 {
				t.Fatalf("the connection ended with %v, want close 4003", err)
			}
			return
		}
	}
}

func TestClusterUserOrdersOnRedis(t *testing.T) {
	userOrdersAcrossNodes(t, startCluster(t, 3, testservices.Redis(t), ""))
}

func TestClusterUserOrdersOnNATS(t *testing.T) {
	userOrdersAcrossNodes(t, startCluster(t, 3, testservices.NATS(t), ""))
}

// A client that comes back on another node resumes there from the
// shared stream: the same offsets, the same epoch.
func resumeOnAnotherNode(t *testing.T, c *cluster) {
	var at []position
	for i := 1; i <= 5; i++ {
		p, err := publishAt(http.DefaultClient, c.addrs[i%len(c.addrs)], "feed:moving", i)
		if err != nil {
			t.Fatal(err)
		}
		at = append(at, p)
	}
	reply, offsets := resumeFrom(t, c.addrs[2], "feed:moving", at[1])
	if reply["recovered"] != true || fmt.Sprint(offsets) != "[3 4 5]" {
		t.Fatalf("resume on another node: %v, replayed offsets %v; want recovered with [3 4 5]", reply, offsets)
	}
}

const feedNamespace = "namespaces:\n  feed:\n    subscribe: anyone\n    history_size: 100\n"

func TestClusterResumeOnAnotherNodeOnRedis(t *testing.T) {
	resumeOnAnotherNode(t, startCluster(t, 3, testservices.Redis(t), feedNamespace))
}

func TestClusterResumeOnAnotherNodeOnNATS(t *testing.T) {
	resumeOnAnotherNode(t, startCluster(t, 3, testservices.NATS(t), feedNamespace))
}
