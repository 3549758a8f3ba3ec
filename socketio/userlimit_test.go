package socketio_test

import (
	"encoding/json"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/protocol/sioproto"
)

const userLimitMessage = "too many connections for this user"

// keptSocket is a socket whose transport dropped, kept for recovery,
// with what its client needs to come back.
type keptSocket struct{ sid, pid, offset string }

// connectAndDrop connects a socket as the token's user, has it sent an
// event (so it has an offset to come back with) and drops its transport
// the way a page reload does, without a goodbye. It returns once the
// server has let go of the user's slot.
func connectAndDrop(t *testing.T, n *node, tok string) keptSocket {
	t.Helper()
	c := dialSIO(t, n, "")
	p := c.connect("/", map[string]string{"token": tok})
	if p.Type != sioproto.Connect {
		t.Fatalf("connect: %s %s", p.Type, p.Data)
	}
	var hello struct{ SID, PID string }
	json.Unmarshal(p.Data, &hello)
	n.SocketIO().BroadcastToRoom("/", hello.SID, "hi")
	k := keptSocket{sid: hello.SID, pid: hello.PID, offset: lastOffset(t, c.event("/", "hi"))}
	c.ws.Close()
	waitUntil(t, "the dropped socket to stop counting", func() bool { return n.Info().Connections == 0 && n.Info().Users == 0 })
	return k
}

// recover reconnects a kept socket's client with its pid and offset.
func (k keptSocket) recover(t *testing.T, n *node, tok string) (sioproto.Packet, *sioClient) {
	t.Helper()
	c := dialSIO(t, n, "")
	return c.connect("/", map[string]string{"token": tok, "pid": k.pid, "offset": k.offset}), c
}

// refusedAtLimit checks that a new socket of the token's user is refused
// for the user's limit, and hangs up.
func refusedAtLimit(t *testing.T, n *node, tok string) {
	t.Helper()
	c := dialSIO(t, n, "")
	refusedWith(t, c.connect("/", map[string]string{"token": tok}), userLimitMessage, 1013)
	c.ws.Close()
}

func sidOf(p sioproto.Packet) string {
	var v struct{ SID string }
	json.Unmarshal(p.Data, &v)
	return v.SID
}

// A user whose page reloads more often than max_connections_per_user
// within the recovery window is not locked out: the sockets its reloads
// left behind are kept for recovery, but only connected sockets count.
func TestReloadsDoNotLockAUserOut(t *testing.T) {
	n := startNode(t, func(c *herald.Config) { c.Limits.MaxConnectionsPerUser = 2 })
	tok := token(t, "rita")
	var kept []keptSocket
	for range 5 {
		kept = append(kept, connectAndDrop(t, n, tok))
	}
	// The limit still holds for what is connected.
	dialSIO(t, n, "").mustConnect("/", map[string]string{"token": tok})
	dialSIO(t, n, "").mustConnect("/", map[string]string{"token": tok})
	refusedAtLimit(t, n, tok)
	// Every reload's socket was still kept: a server disconnect of the
	// user ends the two connected ones and the five kept ones.
	if got, _ := n.Disconnect(t.Context(), "rita"); got != 2+len(kept) {
		t.Fatalf("the user had %d sockets, want %d", got, 2+len(kept))
	}
}

// Recovery takes the user's slot back: it works while the user has one
// to spare, and then counts; at the limit it is refused with the limit's
// error, and the kept socket ends (the client starts afresh once it has
// a slot, as after any failed recovery).
func TestRecoveryTakesBackTheUsersSlot(t *testing.T) {
	n := startNode(t, func(c *herald.Config) { c.Limits.MaxConnectionsPerUser = 2 })
	tok := token(t, "sam")
	first := connectAndDrop(t, n, tok)
	other := dialSIO(t, n, "")
	other.mustConnect("/", map[string]string{"token": tok})

	p, back := first.recover(t, n, tok)
	if p.Type != sioproto.Connect || sidOf(p) != first.sid {
		t.Fatalf("recovery with a slot to spare: %s %s", p.Type, p.Data)
	}
	refusedAtLimit(t, n, tok)

	back.ws.Close() // kept again, the slot given back
	waitUntil(t, "the recovered socket to drop", func() bool { return n.Info().Connections == 1 })
	dialSIO(t, n, "").mustConnect("/", map[string]string{"token": tok}) // the user is at the limit again
	p, refused := first.recover(t, n, tok)
	refusedWith(t, p, userLimitMessage, 1013)
	refused.ws.Close()

	other.ws.Close()
	waitUntil(t, "a slot to come free", func() bool { return n.Info().Connections == 1 })
	p, _ = first.recover(t, n, tok)
	if p.Type != sioproto.Connect || sidOf(p) == first.sid {
		t.Fatalf("a refused recovery left the socket to recover later: %s %s", p.Type, p.Data)
	}
}
