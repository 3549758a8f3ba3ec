package main

import (
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/testservices"
)

// brokerOutage is how long the broker stays down under the cluster.
const brokerOutage = 3 * time.Second

// brokerRestartsMidStream runs three nodes on srv with clients on each,
// publishes through every node at a steady rate, kills the broker for a
// few seconds and starts it again. Every publish is answered 200 or 503
// naming the broker; every client delivers every acknowledged
// publication once, in order; after the restart every node takes
// publishes again. keeps says whether the broker keeps what it
// acknowledged across a kill: when it does not, the channel starts a
// new epoch and every client is told so, and a publish the broker
// answered as it was killed may be lost with it.
func brokerRestartsMidStream(t *testing.T, srv *testservices.Server, brokerName string, keeps bool) {
	c := startCluster(t, 3, srv.URL(), feedNamespace)
	ch := "feed:through"
	feeds := dialFeeds(t, faultClients(), ch, func(i int) []string { return c.wsURLs(i % len(c.addrs)) })
	pub := startPublisher(ch, brokerName, 10*time.Millisecond, c.addrs...)
	pub.waitAcked(t, 50, 20*time.Second)
	killedAt := pub.unanswered() // publishes from here on race the kill
	srv.Stop()
	time.Sleep(brokerOutage / 2)
	readsRefused(t, c.addrs[0], ch, brokerName)
	time.Sleep(brokerOutage / 2)
	srv.Start()
	pub.waitAcked(t, 150, 30*time.Second)
	acked, refused := pub.finish(t)
	if len(refused) == 0 {
		t.Fatal("no publish was refused while the broker was down")
	}
	checkEveryNodeTookPublishesAfter(t, c, acked, refused)
	for i := range acked[len(acked)-1].i {
		if e, ok := refused[i]; ok {
			t.Logf("the first refusal: 503 %s", e)
			break
		}
	}
	waitDelivered(t, feeds, acked)
	lostFrom := -1
	if !keeps {
		lostFrom = killedAt
	}
	taken := checkExactlyOnce(t, feeds, acked, refused, lostFrom)
	epochs := checkEpochs(t, acked, keeps)
	for n, f := range feeds {
		_, resumes, nodes := f.received()
		if len(nodes) != 1 {
			t.Fatalf("client %d connected %d times (%v): the herald nodes stayed up", n, len(nodes), nodes)
		}
		if err := toldOfNewEpoch(resumes, keeps); err != "" {
			t.Fatalf("client %d: %s (resumes %+v)", n, err, resumes)
		}
	}
	t.Logf("%d clients delivered all %d acknowledged publications once, in order, in %d epoch(s); %d publishes refused with 503 during the outage, %d of them published all the same",
		len(feeds), len(acked), epochs, len(refused), taken)
}

// readsRefused checks that a read the broker serves is refused with a
// 503 naming it while it is down, as a publish is.
func readsRefused(t *testing.T, addr, ch, brokerName string) {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	status := apiGet(t, addr, "/api/history?channel="+ch, &e)
	if status != 503 || !strings.Contains(e.Error, "broker unavailable") || !strings.Contains(e.Error, brokerName) {
		t.Fatalf("history while %s is down: %d %q, want 503 naming it", brokerName, status, e.Error)
	}
}

// checkEveryNodeTookPublishesAfter fails unless each node acknowledged
// publishes after the last one refused.
func checkEveryNodeTookPublishesAfter(t *testing.T, c *cluster, acked []ack, refused map[int]string) {
	t.Helper()
	last := 0
	for i := range refused {
		last = max(last, i)
	}
	took := map[string]int{}
	for _, a := range acked {
		if a.i > last {
			took[a.addr]++
		}
	}
	for _, addr := range c.addrs {
		if took[addr] == 0 {
			t.Fatalf("node %s acknowledged no publish after the broker came back (%v)", addr, took)
		}
	}
}

// checkEpochs checks the acknowledged publications ran in one epoch, or,
// when the broker lost its data, in two, the second from its start.
// Offsets follow each other, but for publishes refused between two (the
// broker may have taken one it could not answer).
func checkEpochs(t *testing.T, acked []ack, keeps bool) int {
	t.Helper()
	epochs := 1
	for k := 1; k < len(acked); k++ {
		prev, a := acked[k-1], acked[k]
		switch {
		case a.Epoch == prev.Epoch && a.Offset > prev.Offset && a.Offset-prev.Offset <= uint64(a.i-prev.i):
		case a.Epoch != prev.Epoch && !keeps && epochs == 1 && a.Offset <= uint64(a.i-prev.i):
			epochs++
		default:
			t.Fatalf("acknowledged %+v after %+v", a, prev)
		}
	}
	if !keeps && epochs != 2 {
		t.Fatal("the broker lost its data, yet the channel went on in the same epoch")
	}
	return epochs
}

// toldOfNewEpoch says what is wrong with the resumes a client reported:
// none when the stream went on, one gap naming the new epoch when the
// broker lost it.
func toldOfNewEpoch(resumes []client.Resume, keeps bool) string {
	switch {
	case keeps && len(resumes) > 0:
		return "a break reported in a stream that went on"
	case !keeps && (len(resumes) != 1 || !resumes[0].Gap || resumes[0].Reason != "epoch changed"):
		return "the stream started again and the client was not told once"
	}
	return ""
}

// Redis with an append-only file written before each answer keeps every
// publish it acknowledged across a kill.
func TestClusterBrokerRestartsOnRedis(t *testing.T) {
	srv := testservices.OwnRedis(t, "--appendonly", "yes", "--appendfsync", "always")
	brokerRestartsMidStream(t, srv, "Redis", true)
}

// Redis without persistence comes back empty: the channel starts again
// and every client learns it.
func TestClusterBrokerRestartsOnRedisWithoutPersistence(t *testing.T) {
	brokerRestartsMidStream(t, testservices.OwnRedis(t), "Redis", false)
}

func TestClusterBrokerRestartsOnNATS(t *testing.T) {
	brokerRestartsMidStream(t, testservices.OwnNATS(t), "NATS", true)
}
