package socketio

import (
	"testing"
	"time"
)

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

func numberedAt(offset uint64, at time.Time) *encodedEvent {
	ev := &encodedEvent{}
	ev.numbered.offset, ev.numbered.at = offset, at
	return ev
}

// The log drops events older than the window as new ones come, and by
// trimBefore for a quiet socket; pinned, it drops nothing, even past its
// capacity.
func TestOutboxTrimsByAgeUnlessPinned(t *testing.T) {
	t0 := time.Now()
	var o outbox
	o.remember(numberedAt(1, t0), 3, time.Minute, false)
	o.remember(numberedAt(2, t0.Add(30*time.Second)), 3, time.Minute, false)
	o.remember(numberedAt(3, t0.Add(61*time.Second)), 3, time.Minute, false) // event 1 is now past the window
	if o.log.n != 2 || o.trimmed != 1 || o.last() != 3 {
		t.Fatalf("n %d trimmed %d last %d, want 2, 1, 3", o.log.n, o.trimmed, o.last())
	}
	o.trimBefore(t0.Add(62 * time.Second)) // quiet: what trimLogs does
	if o.log.n != 0 || o.trimmed != 3 {
		t.Fatalf("after trimBefore: n %d trimmed %d", o.log.n, o.trimmed)
	}
	for i := uint64(4); i <= 10; i++ {
		o.remember(numberedAt(i, t0.Add(time.Hour)), 3, time.Minute, true)
	}
	if o.log.n != 7 || o.trimmed != 3 {
		t.Fatalf("pinned: n %d trimmed %d, want all 7 kept", o.log.n, o.trimmed)
	}
	// Unpinned, the next event brings the log back to its cap, ring too.
	o.remember(numberedAt(11, t0.Add(time.Hour)), 3, time.Minute, false)
	if o.log.n != 3 || len(o.log.buf) != 3 || o.trimmed != 8 || o.log.oldest().numbered.offset != 9 {
		t.Fatalf("unpinned: n %d ring %d trimmed %d, want 3, 3, 8", o.log.n, len(o.log.buf), o.trimmed)
	}
}

// The ring grows by doubling, not one slot per event.
func TestEventLogGrowsGeometrically(t *testing.T) {
	var l eventLog
	grows := 0
	for range 1000 {
		size := len(l.buf)
		l.push(&encodedEvent{}, 1000)
		if len(l.buf) != size {
			grows++
		}
	}
	if l.n != 1000 || grows > 10 {
		t.Fatalf("n %d after %d reallocations", l.n, grows)
	}
}

// A pinned log is bounded too: past pinnedEvents the oldest go, and
// trimmed says so, which fails the recovery that pinned it.
func TestPinnedLogIsBounded(t *testing.T) {
	var o outbox
	at := time.Now()
	for i := uint64(1); i <= 20; i++ {
		o.remember(numberedAt(i, at), 3, time.Minute, true)
	}
	if int(o.log.n) != pinnedEvents(3) || o.trimmed != uint64(20-pinnedEvents(3)) {
		t.Fatalf("n %d trimmed %d, want %d and %d", o.log.n, o.trimmed, pinnedEvents(3), 20-pinnedEvents(3))
	}
}

// trimLogs, run every quarter window, empties the logs of quiet sockets,
// ring included, and leaves a pinned log whole.
func TestTrimLogsEmptiesQuietSocketsUnlessPinned(t *testing.T) {
	n := &Namespace{sockets: map[string]*Socket{}}
	srv := &Server{nsps: map[string]*Namespace{"/": n}}
	quiet, pinned := &Socket{}, &Socket{}
	n.sockets["quiet"], n.sockets["pinned"] = quiet, pinned
	t0 := time.Now()
	for _, s := range []*Socket{quiet, pinned} {
		s.out.remember(numberedAt(1, t0), 10, time.Minute, false)
		s.out.remember(numberedAt(2, t0.Add(time.Second)), 10, time.Minute, false)
	}
	pinned.pinned = true
	srv.trimLogs(t0.Add(2 * time.Second))
	if quiet.out.log.n != 0 || quiet.out.log.buf != nil || quiet.out.trimmed != 2 {
		t.Fatalf("quiet socket: n %d ring %d trimmed %d, want an empty log", quiet.out.log.n, len(quiet.out.log.buf), quiet.out.trimmed)
	}
	if pinned.out.log.n != 2 {
		t.Fatalf("pinned socket: n %d, want both events kept", pinned.out.log.n)
	}
}
