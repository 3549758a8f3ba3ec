// storebench measures bbolt and pebble for herald's stream store:
// appends of 200-byte records spread over ~1000 channels.
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/cockroachdb/pebble"
	bolt "go.etcd.io/bbolt"
)

var (
	engine   = flag.String("engine", "bolt", "bolt | pebble")
	layout   = flag.String("layout", "flat", "bolt: flat (one bucket, channel\\x00offset keys) | nested (bucket per channel)")
	mode     = flag.String("mode", "single", "single (one commit+fsync per record) | group (batch per commit, fsync) | nosync (batch per commit, no fsync) | load")
	n        = flag.Int("n", 2000, "records")
	batch    = flag.Int("batch", 200, "records per commit for group/nosync")
	channels = flag.Int("channels", 1000, "channels")
	size     = flag.Int("size", 200, "record bytes")
	dir      = flag.String("dir", "", "directory (a fresh temp dir if empty)")
	history  = flag.Int("history", 0, "keep this many records per channel, deleting the oldest in the same commit (0: keep all)")
	tuned    = flag.Bool("tuned", false, "bolt: NoFreelistSync + map freelist")
)

func boltOptions() *bolt.Options {
	if !*tuned {
		return nil
	}
	return &bolt.Options{NoFreelistSync: true, FreelistType: bolt.FreelistMapType}
}

type rec struct{ ch, key, val, del, seq, delSeq []byte }

type store interface {
	commit(rs []rec, sync bool) error
	close() error
}

func main() {
	flag.Parse()
	d := *dir
	if d == "" {
		var err error
		if d, err = os.MkdirTemp("/tmp", "storebench-"); err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(d)
	}
	if *mode == "load" {
		fill(d)
		loadTime(d)
		return
	}
	s := open(d)
	per, sync := *batch, *mode == "group"
	if *mode == "single" {
		per, sync = 1, true
	}
	start := time.Now()
	write(s, *n, per, sync)
	el := time.Since(start)
	must(s.close())
	if *tuned {
		*layout += "+tuned"
	}
	fmt.Printf("%s/%s mode=%s batch=%d n=%d history=%d: %.0f records/s, %.3f ms/commit, file %s\n",
		*engine, *layout, *mode, per, *n, *history, float64(*n)/el.Seconds(),
		el.Seconds()*1000/float64((*n+per-1)/per), du(d))
}

func write(s store, total, per int, sync bool) {
	rng := rand.New(rand.NewPCG(1, 2))
	tops := make([]uint64, *channels)
	keep := uint64(*history)
	seqs := make([][]uint64, *channels) // log layout: each channel's kept sequence numbers, oldest first
	rs := make([]rec, 0, per)
	for i := 0; i < total; i++ {
		c := rng.IntN(*channels)
		tops[c]++
		ch := []byte(fmt.Sprintf("room:%05d", c))
		key := binary.BigEndian.AppendUint64(append(append([]byte{}, ch...), 0), tops[c])
		val := make([]byte, *size)
		for j := range val {
			val[j] = byte(rng.Uint32())
		}
		seq := uint64(i + 1)
		r := rec{ch: ch, key: key, val: val, seq: binary.BigEndian.AppendUint64(nil, seq)}
		seqs[c] = append(seqs[c], seq)
		if keep > 0 && tops[c] > keep {
			r.del = binary.BigEndian.AppendUint64(append(append([]byte{}, ch...), 0), tops[c]-keep)
			r.delSeq = binary.BigEndian.AppendUint64(nil, seqs[c][0])
			seqs[c] = seqs[c][1:]
		}
		rs = append(rs, r)
		if len(rs) == per || i == total-1 {
			must(s.commit(rs, sync))
			rs = rs[:0]
		}
	}
}

func fill(d string) {
	s := open(d)
	write(s, *n, 500, false)
	must(s.close())
}

func loadTime(d string) {
	start := time.Now()
	count, bytesRead := 0, 0
	switch *engine {
	case "bolt":
		db, err := bolt.Open(filepath.Join(d, "bench.db"), 0o600, boltOptions())
		must(err)
		must(db.View(func(tx *bolt.Tx) error {
			return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
				return forEachBolt(b, func(k, v []byte) { count++; bytesRead += len(v) })
			})
		}))
		must(db.Close())
	case "pebble":
		db, err := pebble.Open(d, &pebble.Options{})
		must(err)
		it, err := db.NewIter(nil)
		must(err)
		for it.First(); it.Valid(); it.Next() {
			count++
			bytesRead += len(it.Value())
		}
		must(it.Close())
		must(db.Close())
	}
	fmt.Printf("%s/%s load: %d records (%d bytes) opened and read in %v, file %s\n",
		*engine, *layout, count, bytesRead, time.Since(start).Round(time.Microsecond), du(d))
}

// forEachBolt visits values, descending into nested buckets.
func forEachBolt(b *bolt.Bucket, fn func(k, v []byte)) error {
	return b.ForEach(func(k, v []byte) error {
		if v == nil {
			return forEachBolt(b.Bucket(k), fn)
		}
		fn(k, append([]byte(nil), v...))
		return nil
	})
}

func open(d string) store {
	switch *engine {
	case "bolt":
		db, err := bolt.Open(filepath.Join(d, "bench.db"), 0o600, boltOptions())
		must(err)
		db.NoSync = *mode == "nosync"
		return &boltStore{db}
	case "pebble":
		db, err := pebble.Open(d, &pebble.Options{})
		must(err)
		return &pebbleStore{db}
	}
	log.Fatalf("unknown engine %q", *engine)
	return nil
}

type boltStore struct{ db *bolt.DB }

func (s *boltStore) commit(rs []rec, _ bool) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		root, err := tx.CreateBucketIfNotExists([]byte("pubs"))
		if err != nil {
			return err
		}
		if *layout == "log" {
			return putLog(tx, root, rs)
		}
		for _, r := range rs {
			b, k := root, r.key
			if *layout == "nested" {
				if b, err = root.CreateBucketIfNotExists(r.ch); err != nil {
					return err
				}
				k = r.key[len(r.ch)+1:]
			}
			if err := b.Put(k, r.val); err != nil {
				return err
			}
			if r.del != nil {
				dk := r.del
				if *layout == "nested" {
					dk = r.del[len(r.ch)+1:]
				}
				if err := b.Delete(dk); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

func (s *boltStore) close() error { return s.db.Close() }

type pebbleStore struct{ db *pebble.DB }

func (s *pebbleStore) commit(rs []rec, sync bool) error {
	opt := pebble.NoSync
	if sync {
		opt = pebble.Sync
	}
	if len(rs) == 1 && rs[0].del == nil {
		return s.db.Set(rs[0].key, rs[0].val, opt)
	}
	b := s.db.NewBatch()
	for _, r := range rs {
		if err := b.Set(r.key, r.val, nil); err != nil {
			return err
		}
		if r.del != nil {
			if err := b.Delete(r.del, nil); err != nil {
				return err
			}
		}
	}
	return b.Commit(opt)
}

func (s *pebbleStore) close() error { return s.db.Close() }

func du(d string) string {
	var total int64
	_ = filepath.Walk(d, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			total += fi.Size()
		}
		return nil
	})
	return fmt.Sprintf("%.1f MB", float64(total)/1e6)
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

// putLog appends records under a global sequence number, so every commit
// dirties the tree's right edge only; a small meta bucket keyed by channel
// takes each touched channel's position.
func putLog(tx *bolt.Tx, root *bolt.Bucket, rs []rec) error {
	root.FillPercent = 1
	meta, err := tx.CreateBucketIfNotExists([]byte("meta"))
	if err != nil {
		return err
	}
	for _, r := range rs {
		if err := root.Put(r.seq, append(append([]byte{}, r.ch...), r.val...)); err != nil {
			return err
		}
		if r.delSeq != nil {
			if err := root.Delete(r.delSeq); err != nil {
				return err
			}
		}
		if err := meta.Put(r.ch, r.key[len(r.ch):]); err != nil {
			return err
		}
	}
	return nil
}
