package bench

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// Histogram counts durations in log-linear buckets, HDR style: values
// below 128ns have a bucket each; above, every power of two is split into
// 64 buckets, so a bucket is at most 1/64 (1.6%) of its values wide and
// its midpoint is within 0.8% of any value in it. Values are clamped to
// [0, MaxLatency]. The bucket array is fixed (about 2,000 counters, 16 KB)
// and Record is lock-free, so many goroutines may share one Histogram:
// it costs one atomic add, plus a compare-and-swap only when it sets a new
// minimum or maximum. Count and Mean are computed from the buckets.
type Histogram struct {
	counts   []atomic.Uint64
	min      atomic.Int64
	max      atomic.Int64
	clamped  atomic.Uint64 // values above MaxLatency
	negative atomic.Uint64 // values below zero (clock steps)
}

const (
	// subBits sets the precision: 2^subBits buckets per power of two.
	subBits  = 6
	subCount = 1 << subBits
	// linearMax is where buckets stop being one nanosecond wide.
	linearMax = 2 * subCount

	// MaxLatency is the largest value a Histogram tells apart.
	MaxLatency = 60 * time.Second
)

// numBuckets is bucketOf(MaxLatency)+1.
var numBuckets = bucketOf(int64(MaxLatency)) + 1

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram {
	h := &Histogram{counts: make([]atomic.Uint64, numBuckets)}
	h.min.Store(math.MaxInt64)
	return h
}

// bucketOf returns the bucket index of v >= 0.
func bucketOf(v int64) int {
	if v < linearMax {
		return int(v)
	}
	shift := bits.Len64(uint64(v)) - (subBits + 1) // >= 1
	top := int(v >> shift)                         // in [subCount, 2*subCount)
	return linearMax + (shift-1)*subCount + top - subCount
}

// bucketRange returns the smallest value of bucket i and its width.
func bucketRange(i int) (lo, width int64) {
	if i < linearMax {
		return int64(i), 1
	}
	j := i - linearMax
	shift := j/subCount + 1
	top := int64(j%subCount + subCount)
	return top << shift, 1 << shift
}

// Record adds one duration in nanoseconds.
func (h *Histogram) Record(ns int64) {
	if ns < 0 {
		h.negative.Add(1)
		ns = 0
	}
	if ns > int64(MaxLatency) {
		h.clamped.Add(1)
		ns = int64(MaxLatency)
	}
	h.counts[bucketOf(ns)].Add(1)
	for {
		m := h.max.Load()
		if ns <= m || h.max.CompareAndSwap(m, ns) {
			break
		}
	}
	for {
		m := h.min.Load()
		if ns >= m || h.min.CompareAndSwap(m, ns) {
			break
		}
	}
}

// Count returns how many values were recorded.
func (h *Histogram) Count() uint64 {
	var n uint64
	for i := range h.counts {
		n += h.counts[i].Load()
	}
	return n
}

// Max returns the largest value recorded (exact), 0 if none.
func (h *Histogram) Max() time.Duration {
	if h.Count() == 0 {
		return 0
	}
	return time.Duration(h.max.Load())
}

// Min returns the smallest value recorded (exact), 0 if none.
func (h *Histogram) Min() time.Duration {
	if h.Count() == 0 {
		return 0
	}
	return time.Duration(h.min.Load())
}

// Mean returns the average value from the bucket midpoints (within the
// buckets' precision), 0 if none.
func (h *Histogram) Mean() time.Duration {
	var n uint64
	var sum float64
	for i := range h.counts {
		if c := h.counts[i].Load(); c > 0 {
			lo, w := bucketRange(i)
			n += c
			sum += float64(c) * (float64(lo) + float64(w-1)/2)
		}
	}
	if n == 0 {
		return 0
	}
	return time.Duration(sum / float64(n))
}

// Quantile returns the value at or below which a fraction q of the
// values lie (q in [0,1]): the midpoint of the bucket holding that rank,
// kept within the exact min and max. q=1 returns the exact max.
func (h *Histogram) Quantile(q float64) time.Duration {
	n := h.Count()
	if n == 0 {
		return 0
	}
	if q >= 1 {
		return h.Max()
	}
	rank := uint64(math.Ceil(q * float64(n)))
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			lo, w := bucketRange(i)
			v := lo + (w-1)/2
			return time.Duration(min(max(v, h.min.Load()), h.max.Load()))
		}
	}
	return h.Max()
}

// HistogramSnapshot is a Histogram in a form that travels as JSON: only
// the non-empty buckets, as [index, count] pairs.
type HistogramSnapshot struct {
	Buckets  [][2]uint64 `json:"buckets"`
	Count    uint64      `json:"count"`
	Min      int64       `json:"min_ns"`
	Max      int64       `json:"max_ns"`
	Clamped  uint64      `json:"clamped,omitempty"`
	Negative uint64      `json:"negative,omitempty"`
}

// Snapshot copies the histogram's state.
func (h *Histogram) Snapshot() HistogramSnapshot {
	s := HistogramSnapshot{Min: h.min.Load(), Max: h.max.Load(),
		Clamped: h.clamped.Load(), Negative: h.negative.Load()}
	for i := range h.counts {
		if c := h.counts[i].Load(); c > 0 {
			s.Buckets = append(s.Buckets, [2]uint64{uint64(i), c})
			s.Count += c
		}
	}
	return s
}

// Merge adds a snapshot's values into h. Buckets out of range are ignored.
func (h *Histogram) Merge(s HistogramSnapshot) {
	if s.Count == 0 {
		return
	}
	for _, b := range s.Buckets {
		if b[0] < uint64(len(h.counts)) {
			h.counts[b[0]].Add(b[1])
		}
	}
	h.clamped.Add(s.Clamped)
	h.negative.Add(s.Negative)
	for {
		m := h.max.Load()
		if s.Max <= m || h.max.CompareAndSwap(m, s.Max) {
			break
		}
	}
	for {
		m := h.min.Load()
		if s.Min >= m || h.min.CompareAndSwap(m, s.Min) {
			break
		}
	}
}
