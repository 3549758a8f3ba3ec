package herald

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"
)

// New never panics: a registry that already holds a node's metrics is an
// error, and the failed New leaves nothing running.
func TestNewFailsCleanlyOnARegistryThatHoldsAnotherNode(t *testing.T) {
	reg := prometheus.NewRegistry()
	first, err := New(testConfig(), WithRegistry(reg))
	if err != nil {
		t.Fatal(err)
	}
	running := goleak.IgnoreCurrent()
	second, err := New(testConfig(), WithRegistry(reg))
	if err == nil || second != nil {
		t.Fatal("a second node registered its metrics where the first's are")
	}
	if !strings.Contains(err.Error(), "registering metrics") {
		t.Fatalf("the error does not say what failed: %v", err)
	}
	goleak.VerifyNone(t, append(leakOptions(), running)...)
	// The first node is untouched, and once it is gone its metrics are too.
	if got := first.Info().Node; got == "" {
		t.Fatal("the first node lost its state")
	}
	if err := first.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	third, err := New(testConfig(), WithRegistry(reg))
	if err != nil {
		t.Fatalf("a node on the registry of one that shut down: %v", err)
	}
	_ = third.Shutdown(context.Background())
}

func TestNewFailsCleanlyOnBadSettings(t *testing.T) {
	for name, cfg := range map[string]Config{
		"missing key file": {TokenRSAPublicKey: "/nonexistent/key.pem"},
		"no way in":        {},
		"bad namespace":    {AllowAnonymous: true, SocketIO: testConfig().SocketIO, Namespaces: map[string]ChannelPolicy{"bad name": {}}},
	} {
		t.Run(name, func(t *testing.T) {
			running := goleak.IgnoreCurrent()
			if n, err := New(cfg); err == nil || n != nil {
				t.Fatal("New accepted it")
			}
			goleak.VerifyNone(t, append(leakOptions(), running)...)
		})
	}
}
