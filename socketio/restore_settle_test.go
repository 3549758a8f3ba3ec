package socketio

import (
	"testing"
	"time"
)

// The notices of a restore and of a close racing it stay paired: the
// application hears OnConnect then OnDisconnect, or neither.
func TestRestoreAndARacingCloseAreToldInPairs(t *testing.T) {
	for _, closeFirst := range []bool{false, true} {
		srv := &Server{}
		n := &Namespace{srv: srv}
		told := make(chan string, 4)
		n.onConnect = func(*Socket) error { told <- "connect"; return nil }
		n.onDisconnect = func(*Socket, string) { told <- "disconnect" }
		s := &Socket{srv: srv, nsp: n}
		s.setRestoring(true)
		if closeFirst {
			s.notifyDisconnect("transport close")
			s.settleRestore()
		} else {
			s.settleRestore()
			s.notifyDisconnect("transport close")
		}
		var got []string
		for len(got) < 2 {
			select {
			case e := <-told:
				got = append(got, e)
				continue
			case <-time.After(200 * time.Millisecond):
			}
			break
		}
		want := []string{"connect", "disconnect"}
		if closeFirst {
			want = nil
		}
		if len(got) != len(want) || (len(want) == 2 && (got[0] != want[0] || got[1] != want[1])) {
			t.Fatalf("close first %v: told %v, want %v", closeFirst, got, want)
		}
	}
}
