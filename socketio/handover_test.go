package socketio_test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/protocol/sioproto"
	"github.com/heraldhq/herald/internal/testservices"
	sio "github.com/heraldhq/herald/socketio"
)

// roaming is a Socket.IO client whose connection moves between the
// nodes of a cluster: every node puts a new socket in streamRoom, and
// reports what it saw.
type roaming struct {
	nodes       []*node
	sid, pid    string
	offset      string
	recovered   chan bool
	disconnects chan string
	// seen is the newest offset the client got: a socket's offsets only
	// go up, whichever node numbers them.
	seen uint64
}

func startRoaming(t *testing.T, nodes []*node) *roaming {
	r := &roaming{nodes: nodes, recovered: make(chan bool, 16), disconnects: make(chan string, 16)}
	for _, n := range nodes {
		io := n.SocketIO()
		io.OnConnect("/", func(s *sio.Socket) error {
			var err error
			if !s.Recovered() {
				err = s.Join(streamRoom) // the broker delivers the room here once it returns
			}
			r.recovered <- s.Recovered()
			return err
		})
		io.OnDisconnect("/", func(_ *sio.Socket, reason string) { r.disconnects <- reason })
	}
	return r
}

// connect connects to node i, recovering if the client has a pid, and
// returns the client and whether the node said it recovered.
func (r *roaming) connect(t *testing.T, i int) (*sioClient, bool) {
	t.Helper()
	c := dialSIO(t, r.nodes[i], "")
	var auth any
	if r.pid != "" {
		auth = map[string]string{"pid": r.pid, "offset": r.offset}
	}
	p := c.connect("/", auth)
	if p.Type != sioproto.Connect {
		t.Fatalf("CONNECT to node %d answered with %s %s", i, p.Type, p.Data)
	}
	var hello struct{ SID, PID string }
	json.Unmarshal(p.Data, &hello)
	recovered := <-r.recovered
	if recovered != (hello.SID == r.sid && hello.PID == r.pid) {
		t.Fatalf("node %d: Recovered() %v, but sid %q pid %q (had %q %q)", i, recovered, hello.SID, hello.PID, r.sid, r.pid)
	}
	r.sid, r.pid = hello.SID, hello.PID
	return c, recovered
}

// drop closes c's transport and waits until its node keeps the socket.
func (r *roaming) drop(t *testing.T, c *sioClient) {
	t.Helper()
	c.ws.Close()
	if reason := <-r.disconnects; reason != "transport close" {
		t.Fatalf("disconnected for %q", reason)
	}
}

// receive reads the room broadcasts from..to and the direct emits named,
// in any interleaving but each in order, and keeps the last offset.
func (r *roaming) receive(t *testing.T, c *sioClient, from, to int, direct ...string) {
	t.Helper()
	next, d := from, 0
	for next <= to || d < len(direct) {
		p := c.next()
		if p.Type != sioproto.Event {
			continue
		}
		args, _ := p.Args()
		switch name, _ := p.EventName(); name {
		case "message":
			if string(args[0].JSON) != fmt.Sprint(next) {
				t.Fatalf("room broadcast %s, want %d", args[0].JSON, next)
			}
			next++
		case "direct":
			if d == len(direct) || str(t, args[0]) != direct[d] {
				t.Fatalf("direct emit %s, want %v[%d]", args[0].JSON, direct, d)
			}
			d++
		default:
			continue
		}
		r.offset = lastOffset(t, args)
		off, err := strconv.ParseUint(r.offset, 36, 64)
		if err != nil || off <= r.seen {
			t.Fatalf("offset %q after %d", r.offset, r.seen)
		}
		r.seen = off
	}
}

func publishRound(t *testing.T, nodes []*node, from, to int) {
	for i := from; i <= to; i++ {
		nodes[i%len(nodes)].publish(t, fmt.Sprintf(`{"channel":%q,"data":%d}`, streamRoom, i))
	}
}

// startDropped starts n nodes on broker, the "feed" namespace keeping
// streams, and a client that got room broadcast 0 on node 0, then lost
// its transport.
func startDropped(t *testing.T, n int, broker string, mutate ...func(*herald.Config)) ([]*node, *roaming) {
	nodes := startSIOCluster(t, n, broker, append([]func(*herald.Config){withStreams(100, 3)}, mutate...)...)
	r := startRoaming(t, nodes)
	c, _ := r.connect(t, 0)
	publishRound(t, nodes, 0, 0)
	r.receive(t, c, 0, 0)
	r.drop(t, c)
	return nodes, r
}

// A client whose connection moves to another node gets its socket back
// there: same id and pid, its rooms, the room broadcasts it missed from
// the streams and the emits to it alone from the old node's log, once
// and in order. It can move on again (the node keeping it notes so in the
// broker), and a socket connected elsewhere is not handed over.
func crossNodeRecovery(t *testing.T, broker string) {
	nodes, r := startDropped(t, 3, broker)

	publishRound(t, nodes, 1, 10) // more than the log keeps
	if err := nodes[2].SocketIO().BroadcastToRoom("/", r.sid, "direct", "a"); err != nil {
		t.Fatal(err)
	}
	// The emit crosses the broker to the node that keeps the socket.
	time.Sleep(500 * time.Millisecond)
	sid := r.sid
	c, recovered := r.connect(t, 1)
	if !recovered || r.sid != sid {
		t.Fatalf("not recovered on another node: sid %q, want %q", r.sid, sid)
	}
	r.receive(t, c, 1, 10, "a")
	if nodes[0].SocketIO().Socket("/", sid) != nil || nodes[0].SocketIO().RoomLen("/", streamRoom) != 0 {
		t.Fatal("the old node still holds the socket")
	}
	if n := nodes[1].SocketIO().RoomLen("/", streamRoom); n != 1 {
		t.Fatalf("%d sockets in the room on the new node, want 1", n)
	}
	publishRound(t, nodes, 11, 11)
	r.receive(t, c, 11, 11)
	c.noEvent("/", "message", 100*time.Millisecond)

	// Again, from the second node to the third.
	r.drop(t, c)
	publishRound(t, nodes, 12, 15)
	c, recovered = r.connect(t, 2)
	if !recovered || r.sid != sid {
		t.Fatalf("not recovered on a third node: sid %q, want %q", r.sid, sid)
	}
	r.receive(t, c, 12, 15)

	// A socket connected elsewhere is not handed over. Dropped on node 2
	// and back there, the broker notes node 2 keeps it; through node 0
	// (its pid's) the note leads to node 2, where it is connected again.
	r.drop(t, c)
	if c, recovered = r.connect(t, 2); !recovered {
		t.Fatal("not recovered on the node that kept it")
	}
	time.Sleep(300 * time.Millisecond) // node 2 writes the note in the background
	pid := r.pid
	if _, recovered := r.connect(t, 0); recovered || r.pid == pid {
		t.Fatal("a socket still connected on another node was handed over")
	}
	publishRound(t, nodes, 16, 16)
	r.receive(t, c, 16, 16) // still connected on node 2
	if got := nodes[1].metric(t, `herald_socketio_handovers_total{result="node"}`); got != 1 {
		t.Fatalf("node 1 counted %v handovers from a node, want 1", got)
	}
}

func TestCrossNodeRecoveryOnRedis(t *testing.T) {
	crossNodeRecovery(t, testservices.Redis(t))
}

func TestCrossNodeRecoveryOnNATS(t *testing.T) {
	crossNodeRecovery(t, testservices.NATS(t))
}

// A socket in a room whose channel keeps no stream is not handed over:
// only its node saw that room's broadcasts. The client gets a new socket
// elsewhere, and the old node lets the kept one go.
func TestCrossNodeRecoveryNeedsStreams(t *testing.T) {
	nodes := startSIOCluster(t, 2, testservices.Redis(t), func(c *herald.Config) { c.SocketIO.RecoveryEvents = 10 })
	r := startRoaming(t, nodes)
	c, _ := r.connect(t, 0)
	if ack := c.emit("/", true, "herald:join", "plain-room"); len(ack) == 0 {
		t.Fatal("join: no ack")
	}
	nodes[1].publish(t, `{"channel":"feed:live","data":0}`)
	r.receive(t, c, 0, 0)
	sid := r.sid
	r.drop(t, c)
	if _, recovered := r.connect(t, 1); recovered || r.sid == sid {
		t.Fatal("recovered on another node although a room keeps no stream")
	}
	waitUntil(t, "the old node let the kept socket go", func() bool {
		return nodes[0].SocketIO().Socket("/", sid) == nil
	})
}

// A node that shuts down stores its sockets in the shared broker, those
// kept for recovery with the emits to them alone; a client that comes
// back through another node gets its socket there, once.
func crossNodeRecoveryAfterShutdown(t *testing.T, broker string) {
	nodes, r := startDropped(t, 2, broker)
	// An emit to the socket alone while it is kept goes with it.
	if err := nodes[1].SocketIO().BroadcastToRoom("/", r.sid, "direct", "a"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // it crosses the broker
	if err := nodes[0].Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	nodes[0].srv.Close()
	for i := 1; i <= 5; i++ {
		nodes[1].publish(t, fmt.Sprintf(`{"channel":%q,"data":%d}`, streamRoom, i))
	}
	sid, pid, offset := r.sid, r.pid, r.offset
	c, recovered := r.connect(t, 1)
	if !recovered || r.sid != sid {
		t.Fatalf("not recovered after its node shut down: sid %q, want %q", r.sid, sid)
	}
	r.receive(t, c, 1, 5, "a")
	nodes[1].publish(t, fmt.Sprintf(`{"channel":%q,"data":6}`, streamRoom))
	r.receive(t, c, 6, 6)
	c.noEvent("/", "message", 100*time.Millisecond)

	// Given back once.
	r.sid, r.pid, r.offset = sid, pid, offset
	if _, recovered := r.connect(t, 1); recovered {
		t.Fatal("a stored socket was given back twice")
	}
}

func TestCrossNodeRecoveryAfterShutdownOnRedis(t *testing.T) {
	crossNodeRecoveryAfterShutdown(t, testservices.Redis(t))
}

func TestCrossNodeRecoveryAfterShutdownOnNATS(t *testing.T) {
	crossNodeRecoveryAfterShutdown(t, testservices.NATS(t))
}

// A pid made up in another node's shape costs that node one question and
// gets a new socket; so does one naming a node that is not there.
func TestCrossNodeRecoveryOfAMadeUpPID(t *testing.T) {
	nodes := startSIOCluster(t, 2, testservices.Redis(t))
	r := startRoaming(t, nodes)
	for _, pid := range []string{nodes[0].ID() + "AAAAAAAAAAAAAAAAAAAA", "0badc0deAAAAAAAAAAAAAAAAAAAA"} {
		r.sid, r.pid, r.offset = "made-up", pid, "1"
		if _, recovered := r.connect(t, 1); recovered {
			t.Fatalf("a made-up pid %q recovered a socket", pid)
		}
	}
	if got := nodes[1].metric(t, `herald_socketio_handovers_total{result="none"}`); got != 2 {
		t.Fatalf("node 1 counted %v CONNECTs that found nothing, want 2", got)
	}
}

// The trail survives the node that made the pid: a socket that moved
// and stayed connected past the recovery window, then dropped after that
// node shut down, is found through the broker, where the node keeping it
// noted it at the drop.
func TestCrossNodeRecoveryOutlivesThePIDsNode(t *testing.T) {
	const window = 2 * time.Second
	nodes, r := startDropped(t, 3, testservices.Redis(t), func(c *herald.Config) { c.SocketIO.RecoveryWindow = window })
	sid := r.sid
	c, _ := r.connect(t, 1)
	if r.sid != sid {
		t.Fatal("not recovered on node 1")
	}
	time.Sleep(window + window/2) // longer than the window, connected
	if err := nodes[0].Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	nodes[0].srv.Close()
	publishRound(t, nodes[1:], 1, 1)
	r.receive(t, c, 1, 1)
	r.drop(t, c)
	publishRound(t, nodes[1:], 2, 4)
	c, recovered := r.connect(t, 2)
	if !recovered || r.sid != sid {
		t.Fatal("not recovered once the pid's node had gone")
	}
	r.receive(t, c, 2, 4)
}

// Two clients coming back with the same pid at once: one gets the socket.
func TestCrossNodeRecoveryGivesASocketOnce(t *testing.T) {
	nodes, r := startDropped(t, 3, testservices.Redis(t))
	var mu sync.Mutex
	var sids []string
	var wg sync.WaitGroup
	for i := 1; i <= 2; i++ {
		dialed := dialSIO(t, nodes[i], "")
		wg.Go(func() {
			var hello struct{ SID string }
			json.Unmarshal(dialed.connect("/", map[string]string{"pid": r.pid, "offset": r.offset}).Data, &hello)
			mu.Lock()
			sids = append(sids, hello.SID)
			mu.Unlock()
		})
	}
	wg.Wait()
	<-r.recovered
	<-r.recovered
	if (sids[0] == r.sid) == (sids[1] == r.sid) {
		t.Fatalf("sockets %v for one kept as %s: want it given exactly once", sids, r.sid)
	}
}

// While a CONNECT waits on the cluster, a second CONNECT to its namespace
// is out of place: the connection closes, as for any second CONNECT. (The
// pid names a node the registry lists but that never answers, so the
// CONNECT waits for the ask's timeout.)
func TestCrossNodeRecoveryRefusesASecondConnectWhileWaiting(t *testing.T) {
	url := testservices.NATS(t)
	nodes := startSIOCluster(t, 1, url)
	b, err := broker.NewNATSBackend(broker.NATSOptions{URL: url, Prefix: nodes[0].Config().Cluster.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Broker.Close() })
	const silent = "0badc0de"
	if err := b.Registry.Announce(t.Context(), broker.NodeInfo{ID: silent, Started: time.Now(), Updated: time.Now()}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the silent node listed", func() bool {
		list, err := nodes[0].Nodes(t.Context())
		return err == nil && len(list) == 2
	})
	c := dialSIO(t, nodes[0], "")
	auth, _ := json.Marshal(map[string]string{"pid": silent + "AAAAAAAAAAAAAAAAAAAA", "offset": "1"})
	c.send(sioproto.Packet{Type: sioproto.Connect, Namespace: "/", Data: auth})
	c.send(sioproto.Packet{Type: sioproto.Connect, Namespace: "/", Data: json.RawMessage(`{}`)})
	deadline := time.After(5 * time.Second)
	for {
		select {
		case p, ok := <-c.packets:
			if !ok {
				return // closed
			}
			t.Fatalf("got %s %s, want the connection closed", p.Type, p.Data)
		case <-deadline:
			t.Fatal("the connection stayed open")
		}
	}
}
