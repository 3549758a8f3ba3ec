package engineio

import (
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/heraldhq/herald/internal/transport/websocket"
)

// Packets sent continuously while a client polls, probes and upgrades
// arrive exactly once and in order, the polling part followed by the
// WebSocket part, as the client experiences it.
func TestUpgradeKeepsOutboundOrder(t *testing.T) {
	ts := startServer(t, Config{}, websocket.Config{})
	sid := ts.handshake(t).SID
	s := ts.h.session(t, sid)

	const n = 2000
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range n {
			if err := s.SendText([]byte(strconv.Itoa(i))); err != nil {
				t.Errorf("send %d: %v", i, err)
				return
			}
		}
	}()
	var got []int
	collect := func(body string) {
		for _, p := range strings.Split(body, "\x1e") {
			if p == "6" {
				continue
			}
			if !strings.HasPrefix(p, "4") {
				t.Fatalf("unexpected packet %q", p)
			}
			v, err := strconv.Atoi(p[1:])
			if err != nil {
				t.Fatalf("packet %q", p)
			}
			got = append(got, v)
		}
	}
	_, body := ts.poll(t, sid)
	collect(body)
	c := ts.dial(t, "EIO=4&transport=websocket&sid="+sid)
	write(t, c, "2probe")
	readText(t, c, "3probe")
	// The client pauses polling after one more GET, then upgrades.
	_, body = ts.poll(t, sid)
	collect(body)
	write(t, c, "5")
	for len(got) == 0 || got[len(got)-1] != n-1 {
		_, p := read(t, c)
		collect(p)
	}
	wg.Wait()
	for i, v := range got {
		if v != i {
			t.Fatalf("packet %d is %d (received %d packets)", i, v, len(got))
		}
	}
	if len(got) != n {
		t.Fatalf("received %d packets, want %d", len(got), n)
	}
}
