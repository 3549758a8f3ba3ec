package brokertest

import (
	"sort"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/protocol/record"
)

func presenceIDs(t *testing.T, n *node, ch string) []string {
	t.Helper()
	m, err := n.b.Presence.Presence(ctx(t), ch)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, 0, len(m))
	for id, info := range m {
		if info.Client != id {
			t.Fatalf("presence entry %q holds client %q", id, info.Client)
		}
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func testPresence(t *testing.T, s Setup) {
	a, b := s.pair(t)
	ch := channel("presence")
	for _, id := range []string{"x", "y"} {
		if err := a.b.Presence.AddPresence(ctx(t), ch, &record.ClientInfo{Client: id, User: "u-" + id, Info: []byte(`{"a":1}`)}); err != nil {
			t.Fatal(err)
		}
	}
	if got := presenceIDs(t, b, ch); !equal(got, []string{"x", "y"}) {
		t.Fatalf("presence %v, want [x y]", got)
	}
	m, _ := b.b.Presence.Presence(ctx(t), ch)
	if m["x"].User != "u-x" || string(m["x"].Info) != `{"a":1}` {
		t.Fatalf("presence entry arrived as %+v", m["x"])
	}
	if err := a.b.Presence.RemovePresence(ctx(t), ch, "x"); err != nil {
		t.Fatal(err)
	}
	if got := presenceIDs(t, b, ch); !equal(got, []string{"y"}) {
		t.Fatalf("presence after removing x: %v, want [y]", got)
	}
	if s.PresenceTTL == 0 {
		return
	}
	// y is refreshed, z is not: z goes after the TTL, y stays.
	_ = a.b.Presence.AddPresence(ctx(t), ch, &record.ClientInfo{Client: "z"})
	deadline := time.Now().Add(s.PresenceTTL * 3)
	for time.Now().Before(deadline) {
		_ = a.b.Presence.AddPresence(ctx(t), ch, &record.ClientInfo{Client: "y"})
		time.Sleep(s.PresenceTTL / 4)
	}
	if got := presenceIDs(t, b, ch); !equal(got, []string{"y"}) {
		t.Fatalf("presence %v after the TTL, want [y]: an entry not refreshed expires", got)
	}
}

func nodeIDs(t *testing.T, n *node) []string {
	t.Helper()
	nodes, err := n.b.Registry.Nodes(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, info := range nodes {
		out = append(out, info.ID)
	}
	return out
}

func announce(t *testing.T, n *node) {
	t.Helper()
	info := broker.NodeInfo{ID: n.id, Name: "node " + n.id, Started: time.Now(), Updated: time.Now(), Connections: 7}
	if err := n.b.Registry.Announce(ctx(t), info); err != nil {
		t.Fatal(err)
	}
}

// mine keeps the ids of the suite's own nodes: other tests (and other
// processes) may share the registry.
func mine(ids []string, nodes ...*node) []string {
	var out []string
	for _, id := range ids {
		for _, n := range nodes {
			if n.id == id {
				out = append(out, id)
				break
			}
		}
	}
	return out
}

func testRegistry(t *testing.T, s Setup) {
	a, b := s.pair(t)
	announce(t, a)
	announce(t, b)
	want := []string{a.id}
	if s.MultiNode {
		want = []string{a.id, b.id}
		sort.Strings(want)
	}
	if got := mine(nodeIDs(t, b), a, b); !equal(got, want) {
		t.Fatalf("nodes %v, want %v", got, want)
	}
	nodes, _ := a.b.Registry.Nodes(ctx(t))
	for _, info := range nodes {
		if info.ID == a.id && (info.Connections != 7 || info.Name != "node "+a.id) {
			t.Fatalf("a node's entry reads %+v", info)
		}
	}
	if err := b.b.Registry.Leave(ctx(t), b.id); err != nil {
		t.Fatal(err)
	}
	if s.MultiNode {
		if got := mine(nodeIDs(t, a), a, b); !equal(got, []string{a.id}) {
			t.Fatalf("after a node left: %v, want [%s]", got, a.id)
		}
	}
	if s.RegistryTTL == 0 {
		return
	}
	time.Sleep(s.RegistryTTL * 2)
	if got := mine(nodeIDs(t, b), a, b); len(got) != 0 {
		t.Fatalf("nodes %v outlived the registry TTL without announcing", got)
	}
}
