package hub

import "sync"

// parallelFlushMin is the number of dirty subscribers below which one
// goroutine flushes them all; above it the work is split across cores.
const parallelFlushMin = 512

// flusher writes many subscribers' queues using every core: a flush is a
// syscall, and with thousands per fan-out round one core is the limit.
type flusher struct {
	work chan flushJob
	wg   sync.WaitGroup
}

type flushJob struct {
	subs []Subscriber
	done *sync.WaitGroup
}

func newFlusher(workers int) *flusher {
	f := &flusher{work: make(chan flushJob)}
	for range max(workers-1, 0) {
		f.wg.Add(1)
		go f.run()
	}
	return f
}

func (f *flusher) run() {
	defer f.wg.Done()
	for job := range f.work {
		flushAll(job.subs)
		job.done.Done()
	}
}

func (f *flusher) stop() {
	close(f.work)
	f.wg.Wait()
}

// flush writes every subscriber in subs and returns when all are done.
func (f *flusher) flush(subs []Subscriber) {
	if len(subs) < parallelFlushMin {
		flushAll(subs)
		return
	}
	var wg sync.WaitGroup
	chunk := len(subs) / 4
	for len(subs) > chunk {
		part := subs[:chunk]
		subs = subs[chunk:]
		wg.Add(1)
		select {
		case f.work <- flushJob{part, &wg}:
		default:
			flushAll(part) // every helper is busy: do it here
			wg.Done()
		}
	}
	flushAll(subs)
	wg.Wait()
}

func flushAll(subs []Subscriber) {
	for _, s := range subs {
		s.Flush()
	}
}
