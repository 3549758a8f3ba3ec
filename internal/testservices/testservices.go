// Package testservices makes sure the Redis and NATS servers the tests
// run against answer: the machine runs them, and a test that finds one
// down starts it with the machine's own command rather than skipping
// (CI must run these tests for real).
package testservices

import (
	"net"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// RedisAddr and NATSAddr are where the machine's servers listen.
const (
	RedisAddr = "127.0.0.1:6379"
	NATSAddr  = "127.0.0.1:4222"
)

var (
	redisOnce, natsOnce sync.Once
	redisErr, natsErr   error
)

// Redis makes sure Redis answers at RedisAddr and returns its URL.
func Redis(t testing.TB) string {
	t.Helper()
	redisOnce.Do(func() {
		redisErr = ensure(RedisAddr, "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1",
			"--port", "6379", "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis",
			"--logfile", "/var/log/redis/ci.log")
	})
	if redisErr != nil {
		t.Fatalf("Redis at %s: %v", RedisAddr, redisErr)
	}
	return "redis://" + RedisAddr
}

// NATS makes sure NATS with JetStream answers at NATSAddr and returns its
// URL.
func NATS(t testing.TB) string {
	t.Helper()
	natsOnce.Do(func() {
		natsErr = ensure(NATSAddr, "start-stop-daemon", "--start", "--oknodo", "--background",
			"--exec", "/usr/sbin/nats-server", "--", "-a", "127.0.0.1", "-p", "4222", "-js",
			"-sd", "/var/lib/nats-server", "-l", "/var/log/nats-server.log")
	})
	if natsErr != nil {
		t.Fatalf("NATS at %s: %v", NATSAddr, natsErr)
	}
	return "nats://" + NATSAddr
}

// ensure dials addr and, if nothing answers, runs the start command and
// waits for it to.
func ensure(addr, name string, args ...string) error {
	if answers(addr) {
		return nil
	}
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		return &startError{cmd: name, err: err, out: string(out)}
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if answers(addr) {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return &startError{cmd: name, out: "started, but nothing answers at " + addr + " after 15s"}
}

func answers(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

type startError struct {
	cmd string
	err error
	out string
}

func (e *startError) Error() string {
	if e.err != nil {
		return "not answering, and " + e.cmd + " failed: " + e.err.Error() + ": " + e.out
	}
	return e.out
}
