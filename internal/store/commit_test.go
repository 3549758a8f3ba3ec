package store

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// Concurrent appends with FsyncAlways share transactions, and every one
// acknowledged is there after a reopen.
func TestGroupCommit(t *testing.T) {
	const writers, each = 32, 100
	dir := t.TempDir()
	d := open(t, dir, FsyncAlways)
	load(t, d)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ch := fmt.Sprintf("room:%d", w)
			for off := uint64(1); off <= each; off++ {
				appendWait(t, d, pub(ch, "e", off), time.Time{}, time.Now(), 1)
			}
		}()
	}
	wg.Wait()
	closeStore(t, d)
	if d.commits > writers*each/4 {
		t.Fatalf("%d appends took %d transactions: they were not grouped", writers*each, d.commits)
	}
	d = open(t, dir, FsyncAlways)
	defer closeStore(t, d)
	got := load(t, d)
	for w := range writers {
		s := got[fmt.Sprintf("room:%d", w)]
		if s.Top != each || len(s.Pubs) != each {
			t.Fatalf("room:%d loaded at %d with %d publications, want %d", w, s.Top, len(s.Pubs), each)
		}
	}
}

func TestDonesFollowTheAppends(t *testing.T) {
	for _, fsync := range []time.Duration{FsyncAlways, 2 * time.Millisecond} {
		d := open(t, t.TempDir(), fsync)
		load(t, d)
		const n = 3000
		var mu sync.Mutex
		var order []int
		for i := range n {
			d.Append(pub(fmt.Sprintf("room:%d", i%7), "e", uint64(i/7+1)), time.Time{}, time.Now(), 1, func(err error) {
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				order = append(order, i)
				mu.Unlock()
			})
		}
		closeStore(t, d)
		if len(order) != n {
			t.Fatalf("%d dones for %d appends", len(order), n)
		}
		for i, got := range order {
			if got != i {
				t.Fatalf("done %d came as the %dth", got, i)
			}
		}
	}
}

// With an interval, an append is acknowledged before Append returns.
func TestIntervalAcknowledgesOnQueueing(t *testing.T) {
	dir := t.TempDir()
	d := open(t, dir, time.Hour)
	load(t, d)
	acked := false
	d.Append(pub("ch", "e", 1), time.Time{}, time.Now(), 1, func(err error) { acked = err == nil })
	if !acked {
		t.Fatal("Append returned before done")
	}
	// Close commits what waits for the hour to pass.
	wantOffsets(t, reopen(t, d, dir, time.Hour)["ch"], 1)
}

// A done that waits for appends made after it (say, for a lock held
// around them) holds up nothing: the writer keeps committing, though
// more changes are queued than the queue holds.
func TestABlockedDoneStopsNoAppend(t *testing.T) {
	d := open(t, t.TempDir(), FsyncAlways)
	load(t, d)
	release := make(chan struct{})
	d.Append(pub("ch", "e", 1), time.Time{}, time.Now(), 1, func(error) { <-release })
	for off := uint64(2); off <= queueLen+2*maxBatchOps; off++ {
		d.Append(pub("ch", "e", off), time.Time{}, time.Now(), off, func(error) {})
	}
	close(release)
	closeStore(t, d)
}

// Publications far larger than a transaction's share or the queue's
// budget still go, and come back.
func TestLargePublications(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d := open(t, dir, FsyncAlways)
	load(t, d)
	data := json.RawMessage(`"` + strings.Repeat("x", 4<<20) + `"`)
	const n = 17 // 68 MiB: more than the queue holds
	var wg sync.WaitGroup
	wg.Add(n)
	for off := uint64(1); off <= n; off++ {
		p := pub("big", "e", off)
		p.Data = data
		d.Append(p, time.Time{}, time.Now(), max(off, 2)-1, func(err error) {
			if err != nil {
				t.Error(err)
			}
			wg.Done()
		})
	}
	wg.Wait()
	s := reopen(t, d, dir, FsyncAlways)["big"]
	wantOffsets(t, s, n-1, n)
	if string(s.Pubs[1].Data) != string(data) {
		t.Fatal("the data changed")
	}
}
