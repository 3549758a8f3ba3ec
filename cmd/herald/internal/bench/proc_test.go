package bench

import (
	"os"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	// A command name with spaces and a parenthesis, as the kernel shows it.
	line := "1234 (my (odd) name) S 1 1234 1234 0 -1 4194560 500 0 0 0 250 75 0 0 20 0 10 0 100 1000000 300 18446744073709551615\n"
	c, err := parseStat([]byte(line), time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if c.User != 2500*time.Millisecond || c.System != 750*time.Millisecond {
		t.Fatalf("user %v system %v, want 2.5s and 750ms", c.User, c.System)
	}
	if _, err := parseStat([]byte("garbage"), time.Now()); err == nil {
		t.Fatal("garbage parsed")
	}
}

func TestCPUPercent(t *testing.T) {
	a := CPUTime{User: time.Second, At: time.Unix(10, 0)}
	b := CPUTime{User: 2 * time.Second, System: time.Second, At: time.Unix(12, 0)}
	if got := CPUPercent(a, b); got != 100 {
		t.Fatalf("CPUPercent = %v, want 100", got)
	}
	if got := CPUPercent(b, b); got != 0 {
		t.Fatalf("no wall time: %v, want 0", got)
	}
}

func TestReadOwnProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc here")
	}
	m, err := ReadMem(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if m.RSSKB <= 0 || m.Threads <= 0 || m.FDs <= 0 {
		t.Fatalf("implausible: %+v", m)
	}
	if _, err := ReadCPU(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadSockStat(); err != nil {
		t.Fatal(err)
	}
}

func TestSpreadConns(t *testing.T) {
	got := spreadConns(10, 3)
	if len(got) != 3 || got[0]+got[1]+got[2] != 10 || got[0] != 4 || got[2] != 3 {
		t.Fatalf("spreadConns(10, 3) = %v", got)
	}
	if localIP(0) != "127.0.0.2" || localIP(2) != "127.0.0.4" {
		t.Fatalf("source addresses %s, %s", localIP(0), localIP(2))
	}
}

func TestRequireLoopback(t *testing.T) {
	for _, h := range []string{"127.0.0.1", "127.1.2.3", "::1", "localhost"} {
		if err := requireLoopback(h); err != nil {
			t.Errorf("%s refused: %v", h, err)
		}
	}
	for _, h := range []string{"10.0.0.1", "example.com", "0.0.0.0", ""} {
		if err := requireLoopback(h); err == nil {
			t.Errorf("%s accepted", h)
		}
	}
}
