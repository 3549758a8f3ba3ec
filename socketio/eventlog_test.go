package socketio

import "testing"

func TestEventLogKeepsTheNewestInOrder(t *testing.T) {
	var l eventLog
	evs := make([]*encodedEvent, 10)
	for i := range evs {
		evs[i] = &encodedEvent{}
		evs[i].numbered.offset = uint64(i + 1)
	}
	for i, ev := range evs {
		dropped := l.push(ev, 6)
		switch {
		case i < 6 && dropped != nil:
			t.Fatalf("push %d dropped %d before the log was full", i, dropped.numbered.offset)
		case i >= 6 && dropped != evs[i-6]:
			t.Fatalf("push %d dropped %v, want the oldest (%d)", i, dropped, i-5)
		}
	}
	if l.n != 6 || len(l.buf) != 6 {
		t.Fatalf("n %d, ring %d: the ring grows to its capacity and no further", l.n, len(l.buf))
	}
	for i := range int(l.n) {
		if got := l.at(i).numbered.offset; got != uint64(i+5) {
			t.Fatalf("event %d is offset %d, want %d", i, got, i+5)
		}
	}
	if l.dropOldest() != evs[4] || l.oldest() != evs[5] {
		t.Fatal("dropOldest does not take the oldest")
	}
	l.reset()
	if l.oldest() != nil || l.n != 0 || l.buf != nil {
		t.Fatal("reset keeps events")
	}
}

func TestEventLogStartsSmall(t *testing.T) {
	var l eventLog
	l.push(&encodedEvent{}, 1000)
	if len(l.buf) > 4 {
		t.Fatalf("one event took a ring of %d", len(l.buf))
	}
}
