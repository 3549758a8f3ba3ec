package bench

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

// precision is the histogram's promise: a reported quantile is within
// 1/64 of the exact one (bucket width), midpoints within half of that.
const precision = 1.0 / 64

func TestBucketsCoverValues(t *testing.T) {
	check := func(v int64) {
		i := bucketOf(v)
		lo, w := bucketRange(i)
		if v < lo || v >= lo+w {
			t.Fatalf("value %d in bucket %d = [%d, %d)", v, i, lo, lo+w)
		}
		if v >= linearMax && float64(w)/float64(lo) > precision+1e-12 {
			t.Fatalf("bucket %d = [%d, %d) is wider than %.3f of its values", i, lo, lo+w, precision)
		}
	}
	for v := range int64(100000) {
		check(v)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		check(r.Int64N(int64(MaxLatency) + 1))
	}
	check(int64(MaxLatency))
	if got := bucketOf(int64(MaxLatency)); got != numBuckets-1 {
		t.Fatalf("MaxLatency in bucket %d, want the last, %d", got, numBuckets-1)
	}
	// Buckets are contiguous and ordered.
	prevEnd := int64(0)
	for i := range numBuckets {
		lo, w := bucketRange(i)
		if lo != prevEnd {
			t.Fatalf("bucket %d starts at %d, previous ended at %d", i, lo, prevEnd)
		}
		prevEnd = lo + w
	}
}

func exactQuantile(sorted []int64, q float64) int64 {
	rank := int(math.Ceil(q * float64(len(sorted))))
	return sorted[max(rank, 1)-1]
}

func TestQuantilesWithinPrecision(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	dists := map[string]func() int64{
		"uniform 1µs-100ms": func() int64 { return int64(time.Microsecond) + r.Int64N(int64(100*time.Millisecond)) },
		"lognormal ~2ms":    func() int64 { return int64(float64(2*time.Millisecond) * math.Exp(r.NormFloat64())) },
		"bimodal": func() int64 {
			return []int64{int64(300 * time.Microsecond), int64(80 * time.Millisecond)}[r.IntN(2)] + r.Int64N(1000)
		},
		"small ns": func() int64 { return r.Int64N(1000) },
	}
	for name, gen := range dists {
		t.Run(name, func(t *testing.T) {
			h := NewHistogram()
			vals := make([]int64, 200000)
			for i := range vals {
				vals[i] = gen()
				h.Record(vals[i])
			}
			slices.Sort(vals)
			if h.Count() != uint64(len(vals)) {
				t.Fatalf("count %d, want %d", h.Count(), len(vals))
			}
			for _, q := range []float64{0.01, 0.5, 0.9, 0.95, 0.99, 0.999} {
				want := exactQuantile(vals, q)
				got := int64(h.Quantile(q))
				// Half a bucket either way, and one nanosecond for rounding.
				if tol := float64(want)*precision/2 + 1; math.Abs(float64(got-want)) > tol {
					t.Errorf("q%.3f = %d, exact %d (off by %.3f%%)", q, got, want, 100*float64(got-want)/float64(want))
				}
			}
			if h.Max() != time.Duration(vals[len(vals)-1]) || h.Min() != time.Duration(vals[0]) {
				t.Errorf("min/max = %d/%d, want %d/%d", h.Min(), h.Max(), vals[0], vals[len(vals)-1])
			}
			if h.Quantile(1) != h.Max() {
				t.Errorf("q1 = %v, want max %v", h.Quantile(1), h.Max())
			}
			var sum float64
			for _, v := range vals {
				sum += float64(v)
			}
			mean := sum / float64(len(vals))
			if got := float64(h.Mean()); math.Abs(got-mean) > mean*precision+1 {
				t.Errorf("mean %.0f, exact %.0f", got, mean)
			}
		})
	}
}

func TestHistogramEdges(t *testing.T) {
	h := NewHistogram()
	if h.Quantile(0.5) != 0 || h.Max() != 0 || h.Min() != 0 || h.Mean() != 0 {
		t.Fatal("an empty histogram should report zeros")
	}
	h.Record(-5)
	h.Record(int64(2 * MaxLatency))
	s := h.Snapshot()
	if s.Negative != 1 || s.Clamped != 1 || s.Count != 2 {
		t.Fatalf("snapshot %+v: want one negative, one clamped", s)
	}
	if h.Max() != MaxLatency || h.Min() != 0 {
		t.Fatalf("min/max %v/%v, want 0/%v", h.Min(), h.Max(), MaxLatency)
	}
}

func TestMergeEqualsCombined(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	a, b, all := NewHistogram(), NewHistogram(), NewHistogram()
	for i := range 50000 {
		v := r.Int64N(int64(time.Second))
		all.Record(v)
		if i%3 == 0 {
			a.Record(v)
		} else {
			b.Record(v)
		}
	}
	m := NewHistogram()
	m.Merge(a.Snapshot())
	m.Merge(b.Snapshot())
	m.Merge(NewHistogram().Snapshot()) // empty: no effect
	if got, want := m.Snapshot(), all.Snapshot(); !slices.Equal(got.Buckets, want.Buckets) || got.Min != want.Min || got.Max != want.Max || got.Count != want.Count {
		t.Fatal("merged snapshots differ from one histogram of everything")
	}
}

func TestRecordConcurrently(t *testing.T) {
	h := NewHistogram()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10000 {
				h.Record(int64(g*10000 + i))
			}
		}()
	}
	wg.Wait()
	if h.Count() != 80000 || h.Min() != 0 || h.Max() != 79999 {
		t.Fatalf("count %d min %d max %d", h.Count(), h.Min(), h.Max())
	}
}

func BenchmarkRecord(b *testing.B) {
	h := NewHistogram()
	b.RunParallel(func(pb *testing.PB) {
		v := int64(1000)
		for pb.Next() {
			h.Record(v)
			v = (v*7 + 13) % int64(time.Second)
		}
	})
}
