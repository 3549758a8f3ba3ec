package store

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/broker"
)

// The crash tests run this test binary again as a child that appends and
// prints what is acknowledged, then kill it with SIGKILL.
const (
	childDir   = "HERALD_STORE_CHILD_DIR"
	childFsync = "HERALD_STORE_CHILD_FSYNC" // a time.Duration; 0 is FsyncAlways
	childEach  = "HERALD_STORE_CHILD_EACH"  // appends per channel before it idles; 0 is no end
)

const childChannels, childWriters = 16, 4

// TestStoreChild is the child's body; it does nothing unless the crash
// tests started it. Each writer owns channels, so a channel's offsets are
// appended in order; "ack <channel> <offset>" follows each done, and
// "idle" says every append was acknowledged.
func TestStoreChild(t *testing.T) {
	dir := os.Getenv(childDir)
	if dir == "" {
		t.Skip("the child of the crash tests")
	}
	fsync, _ := time.ParseDuration(os.Getenv(childFsync))
	each, _ := strconv.ParseUint(os.Getenv(childEach), 10, 64)
	d, err := Open(dir, Options{Fsync: fsync})
	if err != nil {
		t.Fatal(err)
	}
	load(t, d)
	var out sync.Mutex
	var wg sync.WaitGroup
	for w := range childWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			childAppend(d, w, each, &out)
		}()
	}
	wg.Wait()
	out.Lock()
	fmt.Println("idle")
	out.Unlock()
	select {} // until killed
}

func childAppend(d *Disk, w int, each uint64, out *sync.Mutex) {
	var acks sync.WaitGroup
	for off := uint64(1); each == 0 || off <= each; off++ {
		for c := w; c < childChannels; c += childWriters {
			ch := fmt.Sprintf("room:%d", c)
			acks.Add(1)
			d.Append(pub(ch, "e", off), time.Time{}, time.Now(), 1, func(err error) {
				defer acks.Done()
				if err != nil {
					panic(err)
				}
				out.Lock()
				fmt.Printf("ack %s %d\n", ch, off) // one write: the line is whole or absent
				out.Unlock()
			})
		}
	}
	acks.Wait()
}

// crash starts the child, waits until it printed acks or idle, kills it
// with SIGKILL and returns every acknowledged offset by channel.
func crash(t *testing.T, dir string, fsync time.Duration, each uint64, acks int) map[string][]uint64 {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestStoreChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), childDir+"="+dir, childFsync+"="+fsync.String(), childEach+"="+strconv.FormatUint(each, 10))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := map[string][]uint64{}
	r, n, killed := bufio.NewReader(stdout), 0, false
	kill := func() {
		if !killed {
			killed = true
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
		}
	}
	for {
		line, err := r.ReadString('\n')
		if err == io.EOF {
			break // a line cut short by the kill was not printed whole
		}
		if err != nil {
			t.Fatal(err)
		}
		if line == "idle\n" {
			time.Sleep(10*fsync + 200*time.Millisecond) // the writer has committed
			kill()
			continue
		}
		var ch string
		var off uint64
		if _, err := fmt.Sscanf(line, "ack %s %d\n", &ch, &off); err != nil {
			continue // the test framework's own output
		}
		acked[ch] = append(acked[ch], off)
		if n++; n == acks {
			kill()
		}
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("the child ended before it was killed: %v\n%s", err, stderr.String())
	}
	if n == 0 {
		t.Fatalf("the child acknowledged nothing\n%s", stderr.String())
	}
	return acked
}

func TestKillDuringAppendsLosesNoAcknowledgedAppend(t *testing.T) {
	dir := t.TempDir()
	acked := crash(t, dir, FsyncAlways, 0, 3000)
	d := open(t, dir, FsyncAlways)
	defer closeStore(t, d)
	got := load(t, d)
	t.Logf("acknowledged %d appends, loaded %d", count(acked), loaded(got))
	for ch, offs := range acked {
		s := got[ch]
		if s.Unclean {
			t.Errorf("%s is unclean after a run that acknowledged only what was synced", ch)
		}
		wantPrefix(t, ch, s)
		if last := offs[len(offs)-1]; s.Top < last {
			t.Errorf("%s: acknowledged %d, loaded up to %d", ch, last, s.Top)
		}
	}
}

// wantPrefix checks a stream holds offsets 1 to its top, without a hole.
func wantPrefix(t *testing.T, ch string, s broker.StoredStream) {
	t.Helper()
	for i, p := range s.Pubs {
		if p.Offset != uint64(i+1) {
			t.Fatalf("%s: publication %d is at offset %d: a hole", ch, i, p.Offset)
		}
	}
	if s.Top != uint64(len(s.Pubs)) {
		t.Fatalf("%s: top %d with %d publications", ch, s.Top, len(s.Pubs))
	}
}

func TestKillWithAnIntervalKeepsAPrefix(t *testing.T) {
	dir := t.TempDir()
	// Past this many acknowledgements (the queue and one transaction) the
	// writer has committed at least once.
	const acks = queueLen + maxBatchOps + 1000
	acked := crash(t, dir, 20*time.Millisecond, 0, acks)
	d := open(t, dir, 20*time.Millisecond)
	got := load(t, d)
	t.Logf("acknowledged %d appends, loaded %d", count(acked), loaded(got))
	if len(got) == 0 {
		t.Fatal("nothing was committed")
	}
	for ch, s := range got {
		wantPrefix(t, ch, s)
		if !s.Unclean {
			t.Errorf("%s is not unclean after a crash that may have lost acknowledged appends", ch)
		}
	}
	first := slices.Sorted(maps.Keys(got))[0]
	closeStore(t, d)

	// A clean run in the other mode that writes to one stream clears only
	// that stream's mark.
	d = open(t, dir, FsyncAlways)
	again := load(t, d)
	before := again[first]
	if !before.Unclean {
		t.Fatal("a reopen forgot the crash")
	}
	appendWait(t, d, pub(first, "new", 1), time.Time{}, time.Now(), 1)
	got = reopen(t, d, dir, FsyncAlways)
	for ch, s := range got {
		if s.Unclean != (ch != first) {
			t.Errorf("%s unclean: %v", ch, s.Unclean)
		}
	}
	if before.Epoch != "e" || got[first].Epoch != "new" {
		t.Fatalf("epochs %q then %q", before.Epoch, got[first].Epoch)
	}
}

// With an interval, what was acknowledged longer than the interval before
// the kill is on disk.
func TestKillAfterAnIntervalLosesNothing(t *testing.T) {
	const each = 250
	dir := t.TempDir()
	acked := crash(t, dir, 20*time.Millisecond, each, 0)
	d := open(t, dir, 20*time.Millisecond)
	defer closeStore(t, d)
	got := load(t, d)
	if len(acked) != childChannels || len(got) != childChannels {
		t.Fatalf("%d channels acknowledged, %d loaded", len(acked), len(got))
	}
	for ch, s := range got {
		wantPrefix(t, ch, s)
		if s.Top != each || !s.Unclean {
			t.Errorf("%s loaded at %d (unclean %v), want %d, unclean", ch, s.Top, s.Unclean, each)
		}
	}
}

func count(acked map[string][]uint64) (n int) {
	for _, offs := range acked {
		n += len(offs)
	}
	return n
}

func loaded(streams map[string]broker.StoredStream) (n int) {
	for _, s := range streams {
		n += len(s.Pubs)
	}
	return n
}
