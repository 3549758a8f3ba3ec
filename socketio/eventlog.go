package socketio

// eventLog is a socket's recent events for recovery, oldest first: a ring
// of pointers to the encodings every recipient shares, so a logged event
// costs one word and trimming moves nothing. It grows by doubling up to
// its cap, so a socket sent a few events holds a small ring.
type eventLog struct {
	buf []*encodedEvent
	// head is the index of the oldest event and n the count; 32 bits as
	// the ring holds at most pinnedEvents(recovery_events).
	head, n int32
}

// push appends ev. At capacity it first drops the oldest events, and
// returns the newest of those dropped. A ring larger than capacity (left
// by a pinned log's larger one) shrinks back to it.
func (l *eventLog) push(ev *encodedEvent, capacity int) (dropped *encodedEvent) {
	for l.n > 0 && int(l.n) >= capacity {
		dropped = l.dropOldest()
	}
	if len(l.buf) > capacity {
		l.grow(capacity)
	}
	if int(l.n) == len(l.buf) {
		l.grow(min(capacity, max(4, 2*len(l.buf))))
	}
	l.buf[int(l.head+l.n)%len(l.buf)] = ev
	l.n++
	return dropped
}

func (l *eventLog) grow(size int) {
	buf := make([]*encodedEvent, size)
	for i := range int(l.n) {
		buf[i] = l.at(i)
	}
	l.buf, l.head = buf, 0
}

// at returns the i-th oldest event.
func (l *eventLog) at(i int) *encodedEvent { return l.buf[(int(l.head)+i)%len(l.buf)] }

func (l *eventLog) oldest() *encodedEvent {
	if l.n == 0 {
		return nil
	}
	return l.buf[l.head]
}

func (l *eventLog) dropOldest() *encodedEvent {
	ev := l.buf[l.head]
	l.buf[l.head] = nil
	l.head = int32((int(l.head) + 1) % len(l.buf))
	l.n--
	return ev
}

// reset lets go of every event and the ring.
func (l *eventLog) reset() { *l = eventLog{} }
