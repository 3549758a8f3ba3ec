package store

import "sync"

// acker calls the dones of committed batches, in order, on its own
// goroutine: a done that waits (say, for a lock its caller holds around
// an Append blocked on a full queue) then holds up neither the writer nor
// the commits behind it.
type acker struct {
	mu      sync.Mutex
	pending []ack
	wake    chan struct{}
	quit    chan struct{}
	exited  chan struct{}
}

type ack struct {
	done func(error)
	err  error
}

func newAcker() *acker {
	a := &acker{wake: make(chan struct{}, 1), quit: make(chan struct{}), exited: make(chan struct{})}
	go a.run()
	return a
}

func (a *acker) push(acks []ack) {
	a.mu.Lock()
	a.pending = append(a.pending, acks...)
	a.mu.Unlock()
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

func (a *acker) run() {
	defer close(a.exited)
	for {
		if a.callPending() {
			continue
		}
		select {
		case <-a.wake:
		case <-a.quit:
			a.callPending()
			return
		}
	}
}

// callPending calls what is pending and reports whether there was any.
func (a *acker) callPending() bool {
	a.mu.Lock()
	acks := a.pending
	a.pending = nil
	a.mu.Unlock()
	for _, x := range acks {
		x.done(x.err)
	}
	return len(acks) > 0
}

// stop returns once every pushed done has been called.
func (a *acker) stop() {
	close(a.quit)
	<-a.exited
}
