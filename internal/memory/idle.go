// Package memory gives a connection server's free heap back to the
// operating system once it goes quiet.
//
// Go's collector lets the heap grow to twice what is live before it
// collects, and its scavenger keeps about that much mapped. For a server
// whose live heap is mostly idle connections that is the wrong trade: a
// burst of connections (each handshake leaves kilobytes of garbage) ends
// with the process holding twice the memory its connections need, for as
// long as it stays idle. V8, which the Node servers herald is compared
// with, runs a "memory reducer" on idle for the same reason. This is
// Go's equivalent: when allocation has all but stopped and much of the
// heap is free or garbage, collect and release it, once per burst.
package memory

import (
	"context"
	"log/slog"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// Reducer decides when to release memory. The zero value is not usable;
// call NewReducer.
type Reducer struct {
	// Interval is how often the heap is sampled.
	Interval time.Duration
	// IdleRate is the allocation rate, bytes a second, below which the
	// process counts as idle.
	IdleRate float64
	// MinReclaim is the least free-or-garbage heap worth a collection.
	MinReclaim uint64
	// MinInterval is the least time between two releases: a process that
	// allocates slowly but steadily is not collected over and over.
	MinInterval time.Duration

	samples  []metrics.Sample
	lastTick time.Time
	lastAllc uint64
	// sinceRelease is what was allocated since the last release; another
	// needs a new burst of at least the live heap's size.
	sinceRelease uint64
	released     bool
	lastRelease  time.Time
	log          *slog.Logger
}

// NewReducer returns a reducer with sane defaults: sample every 5s, idle
// below 1 MiB/s of allocation, release when at least 4 MiB and a quarter
// of the live heap can be reclaimed, at most once a minute.
func NewReducer(log *slog.Logger) *Reducer {
	return &Reducer{
		Interval:    5 * time.Second,
		IdleRate:    1 << 20,
		MinReclaim:  4 << 20,
		MinInterval: time.Minute,
		log:         log,
		samples: []metrics.Sample{
			{Name: "/gc/heap/allocs:bytes"},
			{Name: "/gc/heap/live:bytes"},
			{Name: "/memory/classes/heap/objects:bytes"},
			{Name: "/memory/classes/heap/free:bytes"},
		},
	}
}

// Run samples until ctx ends.
func (r *Reducer) Run(ctx context.Context) {
	t := time.NewTicker(r.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			r.tick(now)
		}
	}
}

// heap is one reading of the runtime's heap metrics.
type heap struct {
	allocs  uint64 // bytes allocated since the process started
	live    uint64 // live heap after the last collection
	objects uint64 // live and not yet collected objects
	free    uint64 // free heap still mapped
}

func (r *Reducer) read() heap {
	metrics.Read(r.samples)
	v := func(i int) uint64 {
		if r.samples[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return r.samples[i].Value.Uint64()
	}
	return heap{allocs: v(0), live: v(1), objects: v(2), free: v(3)}
}

func (r *Reducer) tick(now time.Time) {
	h := r.read()
	if r.lastTick.IsZero() {
		r.lastTick, r.lastAllc = now, h.allocs
		return
	}
	rate := float64(h.allocs-r.lastAllc) / now.Sub(r.lastTick).Seconds()
	r.sinceRelease += h.allocs - r.lastAllc
	r.lastTick, r.lastAllc = now, h.allocs
	if !r.shouldRelease(h, rate) || r.released && now.Sub(r.lastRelease) < r.MinInterval {
		return
	}
	start := time.Now()
	debug.FreeOSMemory()
	r.released, r.sinceRelease, r.lastRelease = true, 0, now
	if r.log != nil {
		after := r.read()
		r.log.Debug("released idle memory", "reclaimable", h.objects-h.live+h.free,
			"live", after.live, "took", time.Since(start))
	}
}

// shouldRelease reports whether the process is idle with enough heap to
// give back, and has allocated a new burst since it last gave some.
func (r *Reducer) shouldRelease(h heap, rate float64) bool {
	if rate > r.IdleRate {
		return false
	}
	if r.released && r.sinceRelease < max(h.live, r.MinReclaim) {
		return false
	}
	var garbage uint64
	if h.objects > h.live {
		garbage = h.objects - h.live
	}
	reclaim := garbage + h.free
	return reclaim >= r.MinReclaim && reclaim >= h.live/4
}

// The reducer is process-wide, as the heap is: nodes share one.
var shared struct {
	mu     sync.Mutex
	users  int
	cancel context.CancelFunc
	done   chan struct{}
}

// Start runs the process's reducer while at least one caller needs it;
// call the returned function when done.
func Start(log *slog.Logger) (stop func()) {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.users == 0 {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		shared.cancel, shared.done = cancel, done
		go func() {
			defer close(done)
			NewReducer(log).Run(ctx)
		}()
	}
	shared.users++
	var once sync.Once
	return func() { once.Do(release) }
}

func release() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.users--; shared.users == 0 {
		shared.cancel()
		<-shared.done
	}
}
