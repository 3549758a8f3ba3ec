package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// diskConfig is a `herald serve` config keeping streams in dir.
func diskConfig(t *testing.T, addr, dir, fsync string) string {
	return serveConfig(t, addr, fmt.Sprintf(`shutdown_delay: 0s
data_dir: %q
history:
  store: disk
  fsync: %s
  recovery_max: 100000
namespaces:
  feed:
    subscribe: anyone
    history_size: 100000
`, dir, fsync))
}

type position struct {
	Offset uint64 `json:"offset"`
	Epoch  string `json:"epoch"`
}

// publishAt posts data to channel and returns where it landed.
func publishAt(client *http.Client, addr, channel string, data int) (position, error) {
	body := fmt.Sprintf(`{"channel":%q,"data":%d}`, channel, data)
	req, _ := http.NewRequest("POST", "http://"+addr+"/api/publish", strings.NewReader(body))
	req.Header.Set("Authorization", "apikey k")
	resp, err := client.Do(req)
	if err != nil {
		return position{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return position{}, fmt.Errorf("publish: HTTP %d", resp.StatusCode)
	}
	var p position
	return p, json.NewDecoder(resp.Body).Decode(&p)
}

// resumeFrom subscribes to channel since at and returns the reply and
// the offsets of the publications replayed.
func resumeFrom(t *testing.T, addr, channel string, at position) (map[string]any, []uint64) {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cmd, _ := json.Marshal(map[string]any{"id": 1, "op": "subscribe", "channel": channel, "since": at})
	if err := c.WriteMessage(websocket.TextMessage, cmd); err != nil {
		t.Fatal(err)
	}
	var lines [][]byte
	next := func() []byte {
		for len(lines) == 0 {
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, frame, err := c.ReadMessage()
			if err != nil {
				t.Fatalf("reading the resume of %s: %v", channel, err)
			}
			lines = bytes.Split(frame, []byte("\n"))
		}
		l := lines[0]
		lines = lines[1:]
		return l
	}
	var reply struct {
		Result map[string]any `json:"result"`
	}
	if err := json.Unmarshal(next(), &reply); err != nil || reply.Result == nil {
		t.Fatalf("resume reply: %v", err)
	}
	n, _ := reply.Result["replayed"].(float64)
	offsets := make([]uint64, int(n))
	for i := range offsets {
		var pub position
		if err := json.Unmarshal(next(), &pub); err != nil {
			t.Fatal(err)
		}
		offsets[i] = pub.Offset
	}
	return reply.Result, offsets
}

func TestServeDiskHistorySurvivesARestart(t *testing.T) {
	addr, dir := freeAddr(t), t.TempDir()
	cfg := diskConfig(t, addr, dir, "200ms")
	p := startHerald(t, nil, "serve", "--config", cfg)
	waitHealthy(t, addr)
	var last position
	for i := range 5 {
		var err error
		if last, err = publishAt(http.DefaultClient, addr, "feed:a", i); err != nil {
			t.Fatal(err)
		}
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	p.exitWithin(t, 15*time.Second)

	startHerald(t, nil, "serve", "--config", cfg)
	waitHealthy(t, addr)
	r, offsets := resumeFrom(t, addr, "feed:a", position{2, last.Epoch})
	if r["recovered"] != true || fmt.Sprint(offsets) != "[3 4 5]" || r["epoch"] != last.Epoch {
		t.Fatalf("after a restart: reply %v, replayed %v (epoch before %s)", r, offsets, last.Epoch)
	}
	next, err := publishAt(http.DefaultClient, addr, "feed:a", 5)
	if err != nil || next.Offset != 6 || next.Epoch != last.Epoch {
		t.Fatalf("publish after restart: %+v %v, want offset 6 in epoch %s", next, err, last.Epoch)
	}
}

func TestServeMemoryHistoryStartsNewEpochsOnRestart(t *testing.T) {
	addr := freeAddr(t)
	cfg := serveConfig(t, addr, "shutdown_delay: 0s\nnamespaces:\n  feed:\n    subscribe: anyone\n    history_size: 10\n")
	p := startHerald(t, nil, "serve", "--config", cfg)
	waitHealthy(t, addr)
	last, err := publishAt(http.DefaultClient, addr, "feed:m", 1)
	if err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	p.exitWithin(t, 15*time.Second)
	startHerald(t, nil, "serve", "--config", cfg)
	waitHealthy(t, addr)
	publishAt(http.DefaultClient, addr, "feed:m", 2)
	r, _ := resumeFrom(t, addr, "feed:m", last)
	if r["recovered"] != false || r["epoch"] == last.Epoch {
		t.Fatalf("memory store after a restart: %v, old epoch %s", r, last.Epoch)
	}
}

// TestServeKillNineKeepsAcknowledgedPublishes: with fsync always, every
// publish acknowledged before kill -9 is there after the restart, in the
// same epoch.
func TestServeKillNineKeepsAcknowledgedPublishes(t *testing.T) {
	addr, dir := freeAddr(t), t.TempDir()
	cfg := diskConfig(t, addr, dir, "always")
	p := startHerald(t, nil, "serve", "--config", cfg)
	waitHealthy(t, addr)
	const publishers = 8
	var mu sync.Mutex
	acked := map[string][]position{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ch := fmt.Sprintf("feed:k%d", i%4)
			client := &http.Client{Timeout: 5 * time.Second}
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				pos, err := publishAt(client, addr, ch, n)
				if err != nil {
					return // the server is gone
				}
				mu.Lock()
				acked[ch] = append(acked[ch], pos)
				mu.Unlock()
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	_ = p.cmd.Wait()
	close(stop)
	wg.Wait()

	startHerald(t, nil, "serve", "--config", cfg)
	waitHealthy(t, addr)
	total := 0
	for ch, list := range acked {
		r, offsets := resumeFrom(t, addr, ch, position{})
		have := map[uint64]bool{}
		for _, o := range offsets {
			have[o] = true
		}
		for _, a := range list {
			if !have[a.Offset] || a.Epoch != r["epoch"] {
				t.Fatalf("%s: acknowledged %+v missing after kill -9 (stream now %v, %d kept)", ch, a, r, len(offsets))
			}
		}
		total += len(list)
	}
	if total == 0 {
		t.Fatal("nothing was acknowledged before the kill")
	}
	t.Logf("%d acknowledged publishes all present after kill -9", total)
}

func TestServeDiskHistoryTrimsBySizeAndTTL(t *testing.T) {
	addr, dir := freeAddr(t), t.TempDir()
	cfg := serveConfig(t, addr, fmt.Sprintf(`shutdown_delay: 0s
data_dir: %q
history:
  store: disk
namespaces:
  feed:
    subscribe: anyone
    history_size: 3
    history_ttl: 2s
`, dir))
	p := startHerald(t, nil, "serve", "--config", cfg)
	waitHealthy(t, addr)
	var last position
	for i := range 5 {
		last, _ = publishAt(http.DefaultClient, addr, "feed:t", i)
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	p.exitWithin(t, 15*time.Second)
	startHerald(t, nil, "serve", "--config", cfg)
	waitHealthy(t, addr)
	r, offsets := resumeFrom(t, addr, "feed:t", position{})
	if fmt.Sprint(offsets) != "[3 4 5]" || r["epoch"] != last.Epoch {
		t.Fatalf("size-trimmed after restart: %v %v", r, offsets)
	}
	time.Sleep(2500 * time.Millisecond)
	r, offsets = resumeFrom(t, addr, "feed:t", position{5, last.Epoch})
	if len(offsets) != 0 || r["offset"] != 5.0 || r["recovered"] != true {
		t.Fatalf("after the TTL the position stays and nothing is kept: %v %v", r, offsets)
	}
	r, offsets = resumeFrom(t, addr, "feed:t", position{2, last.Epoch})
	if len(offsets) != 0 || r["recovered"] != false {
		t.Fatalf("a resume from before the expired publications: %v %v", r, offsets)
	}
}
