package socketio_test

import (
	"slices"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/testservices"

	"github.com/heraldhq/herald/internal/protocol/sioproto"
)

// clusterOps checks the Socket.IO server API that spans the nodes: it
// connects three sockets over nodes (one node, or several on one
// broker) and drives them all from the first node.
func clusterOps(t *testing.T, nodes []*node) {
	clients := make([]*sioClient, 3)
	ids := make([]string, 3)
	for i := range clients {
		clients[i] = dialSIO(t, nodes[i%len(nodes)], "")
		ids[i] = clients[i].mustConnect("/", nil)
	}
	for i, room := range []string{"room-a", "room-a", "room-b"} {
		if ack := clients[i].emit("/", true, "herald:join", room); len(ack) == 0 {
			t.Fatalf("join %s: no ack", room)
		}
	}
	srv := nodes[0].SocketIO()
	ctx := t.Context()
	fetchIDs := func(rooms ...string) []string {
		t.Helper()
		found, err := srv.To("/", rooms...).FetchSockets(ctx)
		if err != nil {
			t.Fatalf("FetchSockets(%v): %v", rooms, err)
		}
		var out []string
		for _, s := range found {
			if s.Namespace != "/" || s.Node == "" || !slices.Contains(s.Rooms, s.ID) {
				t.Fatalf("a fetched socket reads %+v", s)
			}
			out = append(out, s.ID)
		}
		return out
	}
	sorted := func(v ...string) []string { v = slices.Clone(v); slices.Sort(v); return v }
	if got, want := fetchIDs("room-a"), sorted(ids[0], ids[1]); !slices.Equal(got, want) {
		t.Fatalf("room-a holds %v, want %v", got, want)
	}
	if got, want := fetchIDs(), sorted(ids...); !slices.Equal(got, want) {
		t.Fatalf("the namespace holds %v, want %v", got, want)
	}
	if n, err := srv.To("/", "room-b").SocketsJoin(ctx, "room-c"); n != 1 || err != nil {
		t.Fatalf("SocketsJoin: %d, %v", n, err)
	}
	if got := fetchIDs("room-c"); !slices.Equal(got, []string{ids[2]}) {
		t.Fatalf("room-c holds %v, want [%s]", got, ids[2])
	}
	if err := srv.To("/", ids[1]).Emit("only-you", "1"); err != nil {
		t.Fatal(err)
	}
	if a := clients[1].event("/", "only-you"); str(t, a[0]) != "1" {
		t.Fatalf("the emit to a socket's id arrived as %v", a)
	}
	if err := srv.To("/").Emit("everyone", "2"); err != nil {
		t.Fatal(err)
	}
	for _, c := range clients {
		if a := c.event("/", "everyone"); str(t, a[0]) != "2" {
			t.Fatalf("the emit to the namespace arrived as %v", a)
		}
	}
	clients[0].noEvent("/", "only-you", 0)
	if n, err := srv.To("/", "room-a").SocketsLeave(ctx, "room-a"); n != 2 || err != nil {
		t.Fatalf("SocketsLeave: %d, %v", n, err)
	}
	if got := fetchIDs("room-a"); len(got) != 0 {
		t.Fatalf("room-a still holds %v", got)
	}
	if n, err := srv.To("/", ids[2]).DisconnectSockets(ctx, false); n != 1 || err != nil {
		t.Fatalf("DisconnectSockets: %d, %v", n, err)
	}
	for {
		if p := clients[2].next(); p.Type == sioproto.Disconnect {
			break
		}
	}
}

func TestClusterOperationsOnOneNode(t *testing.T) {
	clusterOps(t, []*node{startNode(t, nil)})
}

// startSIOCluster starts n nodes on broker, sharing a cluster prefix no
// other test uses.
func startSIOCluster(t *testing.T, n int, broker string, mutate ...func(*herald.Config)) []*node {
	prefix := testservices.Prefix(t, broker, "sio")
	var nodes []*node
	for range n {
		nodes = append(nodes, startNode(t, func(c *herald.Config) {
			c.Broker = broker
			c.Cluster.Prefix = prefix
			c.Cluster.NodeTTL = 3 * time.Second
			for _, m := range mutate {
				m(c)
			}
		}))
	}
	for _, nd := range nodes {
		waitUntil(t, "every node in the registry", func() bool {
			list, err := nd.Nodes(t.Context())
			return err == nil && len(list) == n
		})
	}
	return nodes
}

func TestClusterOperationsOnRedis(t *testing.T) {
	clusterOps(t, startSIOCluster(t, 3, testservices.Redis(t)))
}

func TestClusterOperationsOnNATS(t *testing.T) {
	clusterOps(t, startSIOCluster(t, 3, testservices.NATS(t)))
}
