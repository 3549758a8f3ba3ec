package socketio_test

import (
	"strings"
	"testing"

	sio "github.com/heraldhq/herald/socketio"
)

func TestVolatileEmitsAreDroppedWhenTheTransportIsNotWritable(t *testing.T) {
	n := startNode(t, nil)
	joined := make(chan *sio.Socket, 1)
	n.SocketIO().OnConnect("/", func(s *sio.Socket) error {
		err := s.Join("room") // before the test emits to it
		joined <- s
		return err
	})
	p := dialPolling(t, n)
	<-joined
	// No GET is waiting now: the transport is not writable.
	io := n.SocketIO()
	before := n.Info().Delivered
	io.To("/", "room").Volatile().Emit("volatile", 1)
	io.To("/", "room").Emit("kept", 2)
	// Both have been through fan-out before the next GET makes the
	// transport writable again.
	waitUntil(t, "fan-out", func() bool { return n.Info().Delivered >= before+2 })
	got := p.get()
	if !strings.Contains(got, `"kept"`) || strings.Contains(got, `"volatile"`) {
		t.Fatalf("poll got %q: want the kept event and not the volatile one", got)
	}
}
