package broker_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The NATS tests run against the local server, with JetStream, at
// HERALD_NATS_URL (default nats://127.0.0.1:4222). One that does not
// answer is started the way the machine's service is; one that still
// does not answer fails the tests: CI runs them.
const natsLocalAddr = "127.0.0.1:4222"

var natsServerOnce struct {
	sync.Once
	err error
}

func natsURL(t testing.TB) string {
	t.Helper()
	url := os.Getenv("HERALD_NATS_URL")
	if url == "" {
		url = "nats://" + natsLocalAddr
	}
	natsServerOnce.Do(func() { natsServerOnce.err = ensureNATS(url) })
	if natsServerOnce.err != nil {
		t.Fatalf("NATS at %s: %v", url, natsServerOnce.err)
	}
	return url
}

func ensureNATS(url string) error {
	addr := strings.TrimPrefix(strings.Split(url, ",")[0], "nats://")
	if answers(addr) {
		return nil
	}
	if addr == natsLocalAddr {
		cmd := exec.Command("start-stop-daemon", "--start", "--oknodo", "--background", "--exec", "/usr/sbin/nats-server",
			"--", "-a", "127.0.0.1", "-p", "4222", "-js", "-sd", "/var/lib/nats-server", "-l", "/var/log/nats-server.log")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("starting nats-server: %v: %s", err, out)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if answers(addr) {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("no server answers at %s", addr)
}

func answers(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

// natsPrefix is a prefix of the test's own, whose stream and buckets are
// deleted when the test ends.
func natsPrefix(t testing.TB, url string) string {
	prefix := "test_" + uniqueName()
	t.Cleanup(func() { dropNATSPrefix(url, prefix) })
	return prefix
}

func dropNATSPrefix(url, prefix string) {
	nc, err := nats.Connect(url)
	if err != nil {
		return
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = js.DeleteStream(ctx, prefix+"_history")
	_ = js.DeleteKeyValue(ctx, prefix+"_presence")
	_ = js.DeleteKeyValue(ctx, prefix+"_nodes")
}

func newNATSBackend(t testing.TB, opts broker.NATSOptions) broker.Backend {
	t.Helper()
	b, err := broker.NewNATSBackend(opts)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
