package store

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/protocol/record"
	bolt "go.etcd.io/bbolt"
)

func wantError(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one saying %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not say %q", err, p)
		}
	}
}

func TestOpenCreatesAPrivateDirectoryAndFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "herald")
	closeStore(t, open(t, dir, FsyncAlways))
	for path, want := range map[string]os.FileMode{dir: 0o700 | os.ModeDir, filepath.Join(dir, fileName): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Fatalf("%s has mode %v, want %v", path, fi.Mode(), want)
		}
	}
}

func TestOpenRefusesAStoreInUse(t *testing.T) {
	dir := t.TempDir()
	d := open(t, dir, FsyncAlways)
	defer closeStore(t, d)
	_, err := Open(dir, Options{})
	wantError(t, err, filepath.Join(dir, fileName), "in use by another process")
}

func TestOpenRefusesBadInput(t *testing.T) {
	_, err := Open(t.TempDir(), Options{Fsync: -time.Second})
	wantError(t, err, "fsync interval -1s is negative")
	_, err = Open("", Options{})
	wantError(t, err, "no directory")
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Open(file, Options{})
	wantError(t, err, "creating the directory "+file)
}

// corrupt puts value under key in bucket of the store in dir, bypassing it.
func corrupt(t *testing.T, dir string, bucket, key, value []byte) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(dir, fileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucket).Put(key, value) }); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRefusesWhatItCannotRead(t *testing.T) {
	for name, c := range map[string]struct {
		bucket, key, value []byte
		says               string
	}{
		"newer format":     {bucketHerald, keyState, []byte{9}, "format 9 is not one this node reads"},
		"bad stream meta":  {bucketStreams, []byte("room"), []byte{formatVersion, 0xff}, `the stream "room"`},
		"bad publication":  {bucketPubs, seqKey(7), []byte{0, 0, 0, 0, 0, 0, 0, 0, 2}, "publication 7: record: version 2"},
		"short value":      {bucketPubs, seqKey(8), []byte{1, 2}, "publication 8: value is shorter than its expiry"},
		"orphan":           {bucketPubs, seqKey(9), storedPub(t, pub("nobody", "e", 1)), `publication 9 is of "nobody", which has no stream`},
		"key not a number": {bucketPubs, []byte("x"), storedPub(t, pub("room", "e", 1)), "not a sequence number"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			d := open(t, dir, FsyncAlways)
			appendWait(t, d, pub("room", "e", 1), time.Time{}, time.Now(), 1)
			closeStore(t, d)
			corrupt(t, dir, c.bucket, c.key, c.value)
			_, err := Open(dir, Options{})
			wantError(t, err, filepath.Join(dir, fileName), c.says)
		})
	}
}

func storedPub(t *testing.T, p *record.Publication) []byte {
	v, err := encodePub(p, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestLoadIsOnce(t *testing.T) {
	d := open(t, t.TempDir(), FsyncAlways)
	defer closeStore(t, d)
	load(t, d)
	wantError(t, d.Load(func(string, broker.StoredStream) {}), "Load was already called")
}

func TestClosedStoreRefusesAppends(t *testing.T) {
	for _, fsync := range []time.Duration{FsyncAlways, time.Millisecond} {
		dir := t.TempDir()
		d := open(t, dir, fsync)
		closeStore(t, d)
		var got error
		d.Append(pub("ch", "e", 1), time.Time{}, time.Now(), 1, func(err error) { got = err })
		wantError(t, got, filepath.Join(dir, fileName), "closed")
		d.Trim("ch", 1)
		d.Drop("ch")
		wantError(t, d.Close(), "already closed")
	}
}

// A publication that cannot be encoded is lost, and its done says so,
// but the stream's position still moves on.
func TestUnencodablePublicationKeepsThePosition(t *testing.T) {
	for _, fsync := range []time.Duration{FsyncAlways, time.Millisecond} {
		dir := t.TempDir()
		d := open(t, dir, fsync)
		appendWait(t, d, pub("ch", "e", 1), time.Time{}, time.Now(), 1)
		bad := pub("ch", "e", 2)
		bad.Data = json.RawMessage(`{not json`)
		errc := make(chan error, 1)
		d.Append(bad, time.Time{}, time.Now(), 1, func(err error) { errc <- err })
		wantError(t, <-errc, "publication 2 of \"ch\"", "not valid JSON")
		s := reopen(t, d, dir, fsync)["ch"]
		if s.Top != 2 {
			t.Fatalf("position %d, want 2", s.Top)
		}
		wantOffsets(t, s, 1)
	}
}
