package memory

import (
	"runtime"
	"runtime/metrics"
	"testing"
	"time"
)

func TestShouldRelease(t *testing.T) {
	const mb = 1 << 20
	cases := []struct {
		name      string
		h         heap
		rate      float64
		released  bool
		sinceLast uint64
		want      bool
	}{
		{"idle with a heap full of garbage", heap{live: 40 * mb, objects: 60 * mb, free: 20 * mb}, 0, false, 0, true},
		{"busy: allocating fast", heap{live: 40 * mb, objects: 60 * mb, free: 20 * mb}, 50 * mb, false, 0, false},
		{"idle but little to gain", heap{live: 400 * mb, objects: 410 * mb, free: 20 * mb}, 0, false, 0, false},
		{"idle, under the floor", heap{live: 4 * mb, objects: 5 * mb, free: 2 * mb}, 0, false, 0, false},
		{"released already, no burst since", heap{live: 40 * mb, objects: 60 * mb, free: 20 * mb}, 0, true, 10 * mb, false},
		{"released already, a new burst since", heap{live: 40 * mb, objects: 60 * mb, free: 20 * mb}, 0, true, 50 * mb, true},
	}
	for _, c := range cases {
		r := NewReducer(nil)
		r.released, r.sinceRelease = c.released, c.sinceLast
		if got := r.shouldRelease(c.h, c.rate); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

var sink [][]byte

// A burst of garbage followed by quiet: the reducer waits out the burst,
// then gives the free heap back to the OS.
func TestReleasesAfterABurstOnceIdle(t *testing.T) {
	r := NewReducer(nil)
	r.MinReclaim = 8 << 20
	t0 := time.Now()
	r.tick(t0)
	for range 64 {
		sink = append(sink, make([]byte, 1<<20))
	}
	sink = nil
	r.tick(t0.Add(time.Second)) // 64 MiB in a second: busy
	if r.released {
		t.Fatal("released while allocating")
	}
	runtime.GC() // the garbage is now free heap, still mapped
	before := released()
	r.tick(t0.Add(6 * time.Second))
	if !r.released {
		t.Fatalf("idle with %d MiB free, not released", r.read().free>>20)
	}
	if got := released() - before; got < 8<<20 {
		t.Fatalf("released only %d KiB to the OS", got>>10)
	}
	// A second burst soon after: no second collection within MinInterval.
	first := r.lastRelease
	for range 64 {
		sink = append(sink, make([]byte, 1<<20))
	}
	sink = nil
	runtime.GC()
	r.tick(t0.Add(20 * time.Second)) // the burst: busy
	r.tick(t0.Add(40 * time.Second)) // idle, with garbage to give back
	if !r.lastRelease.Equal(first) {
		t.Fatal("released again within MinInterval")
	}
	r.tick(t0.Add(2 * time.Minute))
	if r.lastRelease.Equal(first) {
		t.Fatal("not released after MinInterval, with a burst's worth of new garbage")
	}
}

func released() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
