package testservices

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Server is a Redis or NATS server of the test's own, on a loopback port
// of its own, which the test may stop and start again (the machine's
// servers are shared and never stopped). It is killed by its PID when
// the test ends.
type Server struct {
	t testing.TB
	// Addr is where it listens, host:port.
	Addr string
	// Dir is its working directory: its data and its log.
	Dir    string
	scheme string
	bin    string
	args   []string
	// ready reports whether the server answers, by a request of its own
	// protocol where a bare dial would not tell (Redis loading its AOF).
	ready func(addr string) bool
	cmd   *exec.Cmd
}

// OwnRedis starts a redis-server on a free port that keeps nothing on
// disk, unless extra (given after the usual arguments, so they win) says
// otherwise: "--appendonly", "yes", "--appendfsync", "always" keeps every
// write it acknowledged across a kill.
func OwnRedis(t testing.TB, extra ...string) *Server {
	t.Helper()
	return OwnRedisConf(t, "", extra...)
}

// OwnRedisConf starts a redis-server that reads conf (a file the server
// may rewrite, as Sentinel does) before its arguments; "" reads none.
func OwnRedisConf(t testing.TB, conf string, extra ...string) *Server {
	t.Helper()
	s := newServer(t, "redis", "redis-server", redisAnswers)
	_, port, _ := net.SplitHostPort(s.Addr)
	if conf != "" {
		s.args = append(s.args, conf)
	}
	s.args = append(s.args, "--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no",
		"--dir", s.Dir, "--logfile", s.Dir+"/redis.log")
	s.args = append(s.args, extra...)
	s.Start()
	return s
}

// OwnNATS starts a nats-server with JetStream on a free port, its store
// in a directory of the test's own: streams and buckets outlive a kill.
func OwnNATS(t testing.TB) *Server {
	t.Helper()
	s := newServer(t, "nats", "nats-server", answers)
	_, port, _ := net.SplitHostPort(s.Addr)
	s.args = []string{"-a", "127.0.0.1", "-p", port, "-js", "-sd", s.Dir, "-l", s.Dir + "/nats.log"}
	s.Start()
	return s
}

func newServer(t testing.TB, scheme, name string, ready func(string) bool) *Server {
	bin, err := exec.LookPath(name)
	if err != nil {
		if _, err2 := os.Stat("/usr/sbin/" + name); err2 != nil {
			t.Fatalf("%s is needed: %v", name, err)
		}
		bin = "/usr/sbin/" + name
	}
	s := &Server{t: t, Addr: FreeAddr(t), Dir: t.TempDir(), scheme: scheme, bin: bin, ready: ready}
	t.Cleanup(s.Stop)
	return s
}

// URL is the server's URL, redis://ADDR or nats://ADDR.
func (s *Server) URL() string { return s.scheme + "://" + s.Addr }

// Start runs the server, on the same port and directory as before, and
// waits until it answers.
func (s *Server) Start() {
	s.t.Helper()
	s.cmd = exec.Command(s.bin, s.args...)
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("starting %s: %v", s.bin, err)
	}
	for deadline := time.Now().Add(15 * time.Second); !s.ready(s.Addr); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			s.t.Fatalf("the test's %s on %s does not answer; its log:\n%s", s.bin, s.Addr, s.log())
		}
	}
}

// Stop kills the server (SIGKILL: a crash, nothing flushed on the way
// out) and waits until it is gone. Stopping a stopped server does
// nothing.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	_ = s.cmd.Wait()
	s.cmd = nil
}

func (s *Server) log() string {
	for _, name := range []string{"redis.log", "nats.log"} {
		if b, err := os.ReadFile(s.Dir + "/" + name); err == nil {
			return string(b)
		}
	}
	return ""
}

// FreeAddr is a loopback address nothing listens on now.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// redisAnswers reports whether a Redis at addr answers PING: one still
// loading its data answers -LOADING instead.
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
