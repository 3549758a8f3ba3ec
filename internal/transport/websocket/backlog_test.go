package websocket

import (
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/backlog"
)

// The node's backlog counts what every connection owes its peer, on both
// wires, and comes back to zero once everything is written or dropped
// with the connections, however they end: a count that drifted would
// refuse publishing forever, or never.
func TestBacklogCountsWhatIsOwedAndReturnsToZero(t *testing.T) {
	for _, tlsServer := range []bool{false, true} {
		meter := new(backlog.Meter)
		h := newEchoHandler()
		s := startServer(t, Config{MaxQueueBytes: 64 << 20, Backlog: meter}, h, tlsServer)
		frame := TextFrame([]byte(strings.Repeat("p", 1000)))

		reader := dial(t, s)
		rc := <-s.conns
		stalled := dial(t, s)
		sc := <-s.conns
		for range 16000 { // 16 MB: more than the kernel buffers take while stalled reads nothing
			if err := sc.Send(frame); err != nil {
				t.Fatal(err)
			}
		}
		waitFor(t, func() bool { return meter.Bytes() > 0 })
		for range 100 {
			if err := rc.Send(frame); err != nil {
				t.Fatal(err)
			}
		}
		for range 100 {
			if _, _, err := reader.ReadMessage(); err != nil {
				t.Fatal(err)
			}
		}
		before := meter.Bytes()
		stalled.Close() // what it was owed is dropped with it
		<-h.done
		waitFor(t, func() bool { return meter.Bytes() == 0 })
		if before < 1<<20 {
			t.Errorf("tls=%v: the stalled connection owed %d bytes, want at least 1 MB counted", tlsServer, before)
		}
		rc.Close(CloseNormal, "")
		<-h.done
		if got := meter.Bytes(); got != 0 {
			t.Errorf("tls=%v: %d bytes still counted with every connection gone", tlsServer, got)
		}
	}
}
