package store

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/protocol/record"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func open(t testing.TB, dir string, fsync time.Duration) *Disk {
	t.Helper()
	d, err := Open(dir, Options{Fsync: fsync})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func closeStore(t testing.TB, d *Disk) {
	t.Helper()
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
}

func load(t testing.TB, d *Disk) map[string]broker.StoredStream {
	t.Helper()
	out := map[string]broker.StoredStream{}
	if err := d.Load(func(ch string, s broker.StoredStream) { out[ch] = s }); err != nil {
		t.Fatal(err)
	}
	return out
}

// reopen closes d and returns what the directory's store loads.
func reopen(t testing.TB, d *Disk, dir string, fsync time.Duration) map[string]broker.StoredStream {
	t.Helper()
	closeStore(t, d)
	d = open(t, dir, fsync)
	defer closeStore(t, d)
	return load(t, d)
}

func pub(ch, epoch string, offset uint64) *record.Publication {
	return &record.Publication{
		Channel: ch, Offset: offset, Epoch: epoch, Time: 1700000000000 + int64(offset),
		Data: json.RawMessage(fmt.Sprintf(`{"n":%d,"text":"hello"}`, offset)),
	}
}

// appendWait appends and waits for done, failing on its error.
func appendWait(t testing.TB, d *Disk, p *record.Publication, expires, touched time.Time, keepFrom uint64) {
	t.Helper()
	errc := make(chan error, 1)
	d.Append(p, expires, touched, keepFrom, func(err error) { errc <- err })
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

func offsets(s broker.StoredStream) []uint64 {
	out := []uint64{}
	for _, p := range s.Pubs {
		out = append(out, p.Offset)
	}
	return out
}

func wantOffsets(t *testing.T, s broker.StoredStream, want ...uint64) {
	t.Helper()
	if got := offsets(s); !reflect.DeepEqual(got, append([]uint64{}, want...)) {
		t.Fatalf("offsets %v, want %v", got, want)
	}
	if len(s.Expires) != len(s.Pubs) {
		t.Fatalf("%d expiries for %d publications", len(s.Expires), len(s.Pubs))
	}
}

func TestRoundTrip(t *testing.T) {
	for _, fsync := range []time.Duration{FsyncAlways, 5 * time.Millisecond} {
		t.Run(fmt.Sprint(fsync), func(t *testing.T) {
			dir := t.TempDir()
			d := open(t, dir, fsync)
			if got := load(t, d); len(got) != 0 {
				t.Fatalf("a new store loads %v", got)
			}
			touched := time.Unix(1700000000, 123456789)
			expires := touched.Add(time.Hour)
			full := pub("room:1", "e1", 1)
			full.Info = &record.ClientInfo{Client: "c1", User: "ann", Info: json.RawMessage(`{"name":"Ann"}`)}
			full.Ext = record.RawExtension{Kind: record.ExtSocketIO, Value: []byte{0x0a, 0x02, 'h', 'i'}}
			appendWait(t, d, full, expires, touched, 1)
			appendWait(t, d, pub("room:1", "e1", 2), time.Time{}, touched.Add(time.Second), 1)
			appendWait(t, d, pub("room:2", "f7", 1), time.Time{}, touched, 1)

			got := reopen(t, d, dir, fsync)
			if len(got) != 2 {
				t.Fatalf("loaded %d streams, want 2", len(got))
			}
			s := got["room:1"]
			if s.Epoch != "e1" || s.Top != 2 || !s.Touched.Equal(touched.Add(time.Second)) || s.Unclean {
				t.Fatalf("room:1 loaded as %+v", s)
			}
			wantOffsets(t, s, 1, 2)
			if !reflect.DeepEqual(s.Pubs[0], full) || !reflect.DeepEqual(s.Pubs[1], pub("room:1", "e1", 2)) {
				t.Fatalf("publications changed: %+v %+v", s.Pubs[0], s.Pubs[1])
			}
			if !s.Expires[0].Equal(expires) || !s.Expires[1].IsZero() {
				t.Fatalf("expiries %v", s.Expires)
			}
			if s := got["room:2"]; s.Epoch != "f7" || s.Top != 1 || len(s.Pubs) != 1 {
				t.Fatalf("room:2 loaded as %+v", s)
			}
		})
	}
}

func TestAppendKeepsOnlyFromKeepFrom(t *testing.T) {
	dir := t.TempDir()
	d := open(t, dir, FsyncAlways)
	now := time.Now()
	for off := uint64(1); off <= 10; off++ {
		keepFrom := uint64(1)
		if off > 3 {
			keepFrom = off - 2 // a history of three
		}
		appendWait(t, d, pub("sized", "e", off), time.Time{}, now, keepFrom)
		appendWait(t, d, pub("none", "e", off), time.Time{}, now, off+1) // no history, a position
	}
	got := reopen(t, d, dir, FsyncAlways)
	wantOffsets(t, got["sized"], 8, 9, 10)
	if s := got["none"]; s.Top != 10 || len(s.Pubs) != 0 || s.Epoch != "e" {
		t.Fatalf("a channel without history loaded as %+v", s)
	}
}

func TestTrimAndDrop(t *testing.T) {
	dir := t.TempDir()
	d := open(t, dir, FsyncAlways)
	now := time.Now()
	for off := uint64(1); off <= 5; off++ {
		for _, ch := range []string{"trimmed", "emptied", "dropped", "kept"} {
			appendWait(t, d, pub(ch, "e", off), time.Time{}, now, 1)
		}
	}
	d.Trim("trimmed", 4)
	d.Trim("emptied", 6)
	d.Drop("dropped")
	d.Trim("never-published", 3)
	d.Drop("never-published")
	got := reopen(t, d, dir, FsyncAlways)
	wantOffsets(t, got["trimmed"], 4, 5)
	wantOffsets(t, got["emptied"])
	wantOffsets(t, got["kept"], 1, 2, 3, 4, 5)
	if s := got["emptied"]; s.Top != 5 || s.Epoch != "e" {
		t.Fatalf("trimming all lost the position: %+v", s)
	}
	if _, ok := got["dropped"]; ok || len(got) != 3 {
		t.Fatalf("loaded %v", got)
	}
}

func TestDroppedChannelStartsAgain(t *testing.T) {
	dir := t.TempDir()
	d := open(t, dir, FsyncAlways)
	now := time.Now()
	appendWait(t, d, pub("ch", "old", 1), time.Time{}, now, 1)
	appendWait(t, d, pub("ch", "old", 2), time.Time{}, now, 1)
	d.Drop("ch")
	appendWait(t, d, pub("ch", "new", 1), time.Time{}, now, 1)
	s := reopen(t, d, dir, FsyncAlways)["ch"]
	if s.Epoch != "new" || s.Top != 1 {
		t.Fatalf("loaded %+v", s)
	}
	wantOffsets(t, s, 1)
}

func TestNewEpochReplacesTheStream(t *testing.T) {
	dir := t.TempDir()
	d := open(t, dir, FsyncAlways)
	now := time.Now()
	for off := uint64(1); off <= 4; off++ {
		appendWait(t, d, pub("ch", "old", off), time.Time{}, now, 1)
	}
	appendWait(t, d, pub("ch", "new", 1), time.Time{}, now, 1)
	appendWait(t, d, pub("ch", "new", 2), time.Time{}, now, 1)
	s := reopen(t, d, dir, FsyncAlways)["ch"]
	if s.Epoch != "new" || s.Top != 2 {
		t.Fatalf("loaded %+v", s)
	}
	wantOffsets(t, s, 1, 2)
	for _, p := range s.Pubs {
		if p.Epoch != "new" {
			t.Fatalf("a publication of the old epoch survived: %+v", p)
		}
	}
}

func TestReopenKeepsAppending(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	for off := uint64(1); off <= 3; off++ {
		d := open(t, dir, FsyncAlways)
		got := load(t, d)
		if off > 1 {
			want := []uint64{}
			for o := uint64(1); o < off; o++ {
				want = append(want, o)
			}
			wantOffsets(t, got["ch"], want...)
		}
		appendWait(t, d, pub("ch", "e", off), time.Time{}, now, max(off, 2)-1) // a history of two from the third
		closeStore(t, d)
	}
	d := open(t, dir, FsyncAlways)
	defer closeStore(t, d)
	wantOffsets(t, load(t, d)["ch"], 2, 3)
}
