package store

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/protocol/record"
)

// The benchmarks append records of about 200 bytes over 1,000 channels,
// keeping 100 per channel, as fast as the store takes them; the time
// includes Close, so every append is on disk when it stops.
func BenchmarkAppendAlways(b *testing.B) { benchmarkAppend(b, FsyncAlways) }

func BenchmarkAppendInterval(b *testing.B) { benchmarkAppend(b, 10*time.Millisecond) }

func benchmarkAppend(b *testing.B, fsync time.Duration) {
	const channels, history = 1000, 100
	d := open(b, b.TempDir(), fsync)
	load(b, d)
	data := json.RawMessage(`{"text":"` + strings.Repeat("x", 140) + `"}`)
	tops := make([]uint64, channels)
	var wg sync.WaitGroup
	wg.Add(b.N)
	done := func(err error) {
		if err != nil {
			b.Error(err)
		}
		wg.Done()
	}
	now := time.Now()
	rng := rand.New(rand.NewPCG(1, 2)) // channels at random, so trimming deletes all over the file
	b.ResetTimer()
	for range b.N {
		c := rng.IntN(channels)
		tops[c]++
		p := &record.Publication{Channel: fmt.Sprintf("room:%04d", c), Offset: tops[c], Epoch: "e1", Time: now.UnixMilli(), Data: data}
		d.Append(p, time.Time{}, now, max(tops[c], history)-history+1, done)
	}
	wg.Wait()
	closeStore(b, d)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
}
