package hub

import "sync"

// sweepChunk is how many subscribers a writer takes at a time: enough to
// make taking them cheap, few enough that the writers share a big
// fan-out evenly.
const sweepChunk = 64

// sweep is the queue of subscribers waiting for a write, oldest first,
// and the writers that drain it, one per core: a flush is a syscall, and
// with thousands per fan-out one core is the limit. A subscriber is in the
// queue at most once (Deliver reports "needs a flush" once until the flush
// has drained it), so the queue never holds more than the connections.
type sweep struct {
	mu      sync.Mutex
	cond    *sync.Cond
	pending []Subscriber
	head    int
	stopped bool
	wg      sync.WaitGroup
}

func newSweep(writers int) *sweep {
	w := &sweep{}
	w.cond = sync.NewCond(&w.mu)
	for range max(writers, 1) {
		w.wg.Add(1)
		go w.run()
	}
	return w
}

// add queues subs for a write.
func (w *sweep) add(subs []Subscriber) {
	if len(subs) == 0 {
		return
	}
	w.mu.Lock()
	w.pending = append(w.pending, subs...)
	w.mu.Unlock()
	if len(subs) > sweepChunk {
		w.cond.Broadcast()
	} else {
		w.cond.Signal()
	}
}

// take waits for subscribers to write and returns up to sweepChunk of
// them; nil once stopped.
func (w *sweep) take(buf []Subscriber) []Subscriber {
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.head == len(w.pending) && !w.stopped {
		w.cond.Wait()
	}
	if w.stopped {
		return nil
	}
	end := min(w.head+sweepChunk, len(w.pending))
	buf = append(buf[:0], w.pending[w.head:end]...)
	clear(w.pending[w.head:end])
	w.head = end
	switch {
	case w.head == len(w.pending):
		w.pending, w.head = w.pending[:0], 0 // reuse the backing array
	case w.head > len(w.pending)/2:
		// Writers that never quite catch up must not keep the taken
		// prefix alive forever.
		n := copy(w.pending, w.pending[w.head:])
		clear(w.pending[n:])
		w.pending, w.head = w.pending[:n], 0
	}
	return buf
}

func (w *sweep) run() {
	defer w.wg.Done()
	var buf []Subscriber
	for {
		buf = w.take(buf)
		if buf == nil {
			return
		}
		for _, s := range buf {
			s.Flush()
		}
		clear(buf)
	}
}

func (w *sweep) stop() {
	w.mu.Lock()
	w.stopped = true
	w.mu.Unlock()
	w.cond.Broadcast()
	w.wg.Wait()
}
