package socketio

import (
	"fmt"
	"slices"
	"testing"
)

// The set behaves the same as a list and, past smallRoomSet, with its
// index; and it shrinks back to nothing.
func TestRoomSetSmallAndLarge(t *testing.T) {
	var r roomSet
	var want []string
	for i := range 3 * smallRoomSet {
		room := fmt.Sprint("room", i)
		if !r.add(room) || r.add(room) {
			t.Fatalf("add %s: new the first time only", room)
		}
		want = append(want, room)
		if (r.index != nil) != (r.len() > smallRoomSet) {
			t.Fatalf("%d rooms: index %v", r.len(), r.index != nil)
		}
	}
	if !slices.Equal(r.all(), want) {
		t.Fatalf("all = %v, want %v in the order joined", r.all(), want)
	}
	for i, room := range want {
		if !r.has(room) || r.has(room+"x") {
			t.Fatalf("has %s wrong", room)
		}
		if !r.remove(room) || r.remove(room) || r.has(room) {
			t.Fatalf("remove %s: true the first time only", room)
		}
		if r.len() != len(want)-i-1 {
			t.Fatalf("len %d after %d removals", r.len(), i+1)
		}
	}
	if r.list != nil || r.index != nil {
		t.Fatal("an empty set still holds memory")
	}
}
