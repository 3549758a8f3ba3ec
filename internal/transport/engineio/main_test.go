package engineio

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the suite if any goroutine outlives the tests, except the
// process-wide WebSocket poller's (see internal/transport/websocket).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/lesismal/nbio.(*poller).readWriteLoop"),
		goleak.IgnoreAnyFunction("github.com/lesismal/nbio/timer.(*Timer).loop"),
		goleak.IgnoreAnyFunction("github.com/lesismal/nbio/taskpool.(*TaskPool).worker"),
	)
}
