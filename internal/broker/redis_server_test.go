package broker_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/redis/rueidis"
)

// sharedRedisAddr is the Redis CI runs; the tests start it if it is not
// up, and never stop it.
const sharedRedisAddr = "127.0.0.1:6379"

// redisAnswers reports whether a Redis at addr answers PING.
func redisAnswers(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}

func waitForRedis(addr string, within time.Duration) bool {
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if redisAnswers(addr) {
			return true
		}
	}
	return false
}

// sharedRedis returns the URL of the shared Redis, starting it as CI
// does if it does not answer; a test that needs it fails without it.
func sharedRedis(t testing.TB) string {
	t.Helper()
	if !redisAnswers(sharedRedisAddr) {
		out, err := exec.Command("redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379",
			"--save", "", "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log").CombinedOutput()
		if err != nil || !waitForRedis(sharedRedisAddr, 5*time.Second) {
			t.Fatalf("Redis at %s does not answer and could not be started: %v %s", sharedRedisAddr, err, out)
		}
	}
	return "redis://" + sharedRedisAddr + "/0"
}

func uniqueName() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// testPrefix is a prefix no other run uses; the keys under it are
// deleted when the test ends.
func testPrefix(t testing.TB, url string) string {
	prefix := "herald-test-" + uniqueName()
	t.Cleanup(func() { deleteKeys(t, url, prefix) })
	return prefix
}

func deleteKeys(t testing.TB, url, prefix string) {
	c, err := rueidis.NewClient(rueidis.MustParseURL(url))
	if err != nil {
		t.Logf("cleaning up %s: %v", prefix, err)
		return
	}
	defer c.Close()
	ctx := context.Background()
	var cursor uint64
	for {
		e, err := c.Do(ctx, c.B().Scan().Cursor(cursor).Match(prefix+":*").Count(1000).Build()).AsScanEntry()
		if err != nil {
			t.Logf("cleaning up %s: %v", prefix, err)
			return
		}
		for _, k := range e.Elements {
			c.Do(ctx, c.B().Del().Key(k).Build())
		}
		if cursor = e.Cursor; cursor == 0 {
			return
		}
	}
}

// newRedisBackend is a node's backend on url, closed when the test ends.
func newRedisBackend(t testing.TB, opts broker.RedisOptions) broker.Backend {
	t.Helper()
	b, err := broker.NewRedisBackend(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Broker.Close() })
	return b
}

// ownRedis is a Redis server the test started, on a port of its own, and
// may stop and start again; it keeps nothing on disk.
type ownRedis struct {
	t     *testing.T
	addr  string
	dir   string
	extra []string
	// conf, when set, is a config file the server reads first.
	conf string
	cmd  *exec.Cmd
}

// startOwnRedis starts a server with extra arguments after the usual.
func startOwnRedis(t *testing.T, extra ...string) *ownRedis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server is needed: %v", err)
	}
	return startOwnRedisConf(t, "", extra...)
}

// startOwnRedisConf starts a server that reads conf (a file the server
// may rewrite, as Sentinel does) before its arguments.
func startOwnRedisConf(t *testing.T, conf string, extra ...string) *ownRedis {
	t.Helper()
	r := &ownRedis{t: t, addr: freeAddr(t), dir: t.TempDir(), extra: extra, conf: conf}
	r.start()
	t.Cleanup(r.stop)
	return r
}

// freeAddr is a loopback port nothing listens on now.
func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func (r *ownRedis) url() string { return "redis://" + r.addr }

func (r *ownRedis) start() {
	r.t.Helper()
	_, port, _ := net.SplitHostPort(r.addr)
	var args []string
	if r.conf != "" {
		args = append(args, r.conf)
	}
	args = append(args, "--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no",
		"--dir", r.dir, "--logfile", r.dir+"/redis.log")
	r.cmd = exec.Command("redis-server", append(args, r.extra...)...)
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	if !waitForRedis(r.addr, 10*time.Second) {
		log, _ := os.ReadFile(r.dir + "/redis.log")
		r.t.Fatalf("the test's Redis on %s did not come up: %s", r.addr, log)
	}
}

// stop kills the server this test started, by its pid.
func (r *ownRedis) stop() {
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Signal(syscall.SIGKILL)
	_ = r.cmd.Wait()
	r.cmd = nil
}

func (r *ownRedis) String() string { return fmt.Sprintf("redis on %s", r.addr) }
