package socketio

import "testing"

// A saved socket keeps at most so many bytes of emits and so many marks;
// what it drops moves Trimmed up, so a client that missed a dropped one
// gets a new socket rather than a gap.
func TestSavedSocketsAreBounded(t *testing.T) {
	ss := &savedSession{Trimmed: 2, Last: 20}
	for off := uint64(3); off <= 12; off++ {
		ss.Carried = append(ss.Carried, savedEvent{Offset: off, Text: make([]byte, 100)})
		ss.Logged = append(ss.Logged, savedMark{Offset: off + 8, Channel: "c"})
	}
	ss.trimCarried(450) // room for four of them
	if len(ss.Carried) != 4 || ss.Carried[0].Offset != 9 || ss.Trimmed != 8 {
		t.Fatalf("kept %d emits from %d, trimmed at %d; want 4 from 9, trimmed at 8", len(ss.Carried), ss.Carried[0].Offset, ss.Trimmed)
	}
	ss.trimLogged(3)
	if len(ss.Logged) != 3 || ss.Logged[0].Offset != 18 || ss.Trimmed != 17 {
		t.Fatalf("kept %d marks from %d, trimmed at %d; want 3 from 18, trimmed at 17", len(ss.Logged), ss.Logged[0].Offset, ss.Trimmed)
	}
	ss.trimCarried(1 << 20)
	ss.trimLogged(100)
	if len(ss.Carried) != 4 || len(ss.Logged) != 3 || ss.Trimmed != 17 {
		t.Fatal("trimming within the bounds changed the socket")
	}
}
