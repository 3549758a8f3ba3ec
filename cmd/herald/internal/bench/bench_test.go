package bench

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestScenarioUsage checks that every scenario refuses bad arguments with
// a usage error. It spawns nothing, so it is not behind the loadtest tag
// that the end-to-end tests (e2e_test.go, sio_e2e_test.go) are.
func TestScenarioUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	env := Env{Stdout: &out, Stderr: &errOut, Executable: "/nonexistent"}
	for _, args := range [][]string{{"socketio"}, {"nosuch"}, {}, {"idle", "--procs", "0"}, {"fanout", "--rate", "-1"},
		{"idle", "--server-pid", "1"}, {"idle", "--url", "ws://10.1.2.3:80/ws"}, {"idle", "extra"},
		{"socketio", "nosuch"}, {"socketio", "idle", "--target", "deno"}, {"socketio", "fanout", "--rates", "10,x"},
		{"socketio", "fanout", "--rates", "10,-1"}, {"socketio", "fanout", "--max-p99", "0s"}, {"socketio", "idle", "extra"},
		{"socketio", "idle", "--target", "both", "--url", "ws://127.0.0.1:1/"}, {"socketio", "fanout", "--event", ""},
		{"socketio", "idle", "--node-dir", "/nonexistent", "--target", "node"},
		{"soak", "--conns", "0"}, {"soak", "--duration", "10s", "--interval", "5s"}, {"soak", "--url", "ws://127.0.0.1:1/ws"},
		{"soak", "--token-secret", "s"}, {"soak", "--sio", "101"}, {"soak", "--rate", "0", "--push-rate", "0"},
		{"soak", "--churn", "-1"}, {"soak", "--channels", "0"}, {"soak", "extra"},
		{"fanout", "--nodes", "3"}, {"idle", "--nodes", "0", "--broker", "redis"}, {"fanout", "--nodes", "17", "--broker", "nats"},
		{"idle", "--nodes", "2", "--broker", "redis", "--url", "ws://127.0.0.1:1/ws"}, {"fanout", "--broker", "redis://10.0.0.1:6379"},
		{"idle", "--broker", "kafka://127.0.0.1:9092"}, {"fanout", "--nodes", "2", "--broker", "nats://127.0.0.1:4222,nats://192.168.1.1:4222"}} {
		err := Main(args, env)
		var ue *UsageError
		if !errors.As(err, &ue) {
			t.Errorf("bench %q: %v, want a usage error", args, err)
		}
	}
	if err := Main([]string{"socketio"}, env); err == nil || !strings.Contains(err.Error(), "idle or fanout") {
		t.Errorf("bench socketio: %v", err)
	}
}
