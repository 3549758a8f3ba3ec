// Package brokertest is the behaviour every broker must show, as tests a
// broker's own test file runs against a real backend:
//
//	brokertest.Run(t, brokertest.Setup{NewNode: ..., MultiNode: true})
package brokertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/broker"
)

// Setup says how to make the nodes of one cluster.
type Setup struct {
	// NewNode returns a new node's backend, not yet Run, sharing what
	// every other node made by this Setup shares. Its Broker is closed
	// by the suite.
	NewNode func(t *testing.T) broker.Backend
	// MultiNode says the backend crosses processes: NewNode may be called
	// several times and a node gets only what it subscribed to.
	MultiNode bool
	// PresenceTTL and RegistryTTL are how long the backend keeps an entry
	// that is not refreshed; 0 when entries never expire.
	PresenceTTL, RegistryTTL time.Duration
}

// node is one node of the suite's cluster.
type node struct {
	id  string
	b   broker.Backend
	rec *recorder
}

func (s Setup) start(t *testing.T) *node {
	t.Helper()
	n := &node{id: "n" + unique(), b: s.NewNode(t), rec: newRecorder()}
	if err := n.b.Broker.Run(n.id, n.rec); err != nil {
		t.Fatalf("Run: %v", err)
	}
	t.Cleanup(func() { _ = n.b.Broker.Close() })
	return n
}

// pair is two nodes of one cluster; a single-node backend gives the same
// node twice.
func (s Setup) pair(t *testing.T) (*node, *node) {
	a := s.start(t)
	if !s.MultiNode {
		return a, a
	}
	return a, s.start(t)
}

func unique() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// channel is a name no other test, run or process uses.
func channel(name string) string { return "bt-" + unique() + ":" + name }

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// Run runs the suite.
func Run(t *testing.T, s Setup) {
	t.Run("Offsets", func(t *testing.T) { testOffsets(t, s) })
	t.Run("UnknownChannel", func(t *testing.T) { testUnknownChannel(t, s) })
	t.Run("SizeTrim", func(t *testing.T) { testSizeTrim(t, s) })
	t.Run("TTLTrim", func(t *testing.T) { testTTLTrim(t, s) })
	t.Run("NoHistoryStillCounts", func(t *testing.T) { testNoHistory(t, s) })
	t.Run("RemoveHistory", func(t *testing.T) { testRemoveHistory(t, s) })
	t.Run("RemoveUnknownHistory", func(t *testing.T) { testRemoveUnknown(t, s) })
	t.Run("OptionsChange", func(t *testing.T) { testOptionsChange(t, s) })
	t.Run("DeliveryWithoutHistory", func(t *testing.T) { testDeliveryWithoutHistory(t, s) })
	t.Run("RecordCrossesUnchanged", func(t *testing.T) { testRecordCrosses(t, s) })
	t.Run("SubscribeIsActiveOnReturn", func(t *testing.T) { testSubscribeActive(t, s) })
	t.Run("OrderUnderConcurrentPublishers", func(t *testing.T) { testConcurrentOrder(t, s) })
	t.Run("JoinLeave", func(t *testing.T) { testJoinLeave(t, s) })
	t.Run("Users", func(t *testing.T) { testUsers(t, s) })
	t.Run("Control", func(t *testing.T) { testControl(t, s) })
	t.Run("Presence", func(t *testing.T) { testPresence(t, s) })
	t.Run("Registry", func(t *testing.T) { testRegistry(t, s) })
	t.Run("Sessions", func(t *testing.T) { testSessions(t, s) })
	if s.MultiNode {
		t.Run("OnlySubscribedNodesReceive", func(t *testing.T) { testOnlySubscribed(t, s) })
	}
}
