// Package store is herald's durable store for channel streams on a single
// node: one bbolt file that keeps every stream's position (epoch, newest
// offset, last publication) and its kept publications across restarts.
//
// The broker keeps every stream in memory and serves history from there;
// the store is written behind it. Append only queues; one writer goroutine
// commits what is queued in one synced transaction (group commit), so a
// burst of publications costs one fsync, not one each.
//
// With FsyncAlways an append is acknowledged once its transaction is on
// disk, so no acknowledged append is ever lost; the broker hands out a
// publication only once it is acknowledged, so nothing a client saw is
// missing after a crash either. With an interval an append is acknowledged
// as soon as it is queued, and the writer commits what is queued at least
// once per interval (sooner when a transaction's worth is waiting): a
// crash, even kill -9 (the queue is in process memory), loses at most the
// appends of the last interval and the commit under way, and the next
// Load marks every stream Unclean, so the broker can start it in a new
// epoch. Every commit is synced in both modes: bbolt without its fsync can
// be left torn by a power cut, so the interval spaces commits out instead.
//
// Limits: at most 16,384 changes, holding at most 64 MiB of publications,
// wait for the writer; past that, Append, Trim and Drop block until it
// catches up, so a disk slower than the publishers slows the publishers
// instead of growing memory without bound. One transaction holds at most
// 4,096 changes or 4 MiB of publications. The writer remembers 16 bytes
// per kept publication, to trim without searching the file.
package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/protocol/record"
	bolt "go.etcd.io/bbolt"
)

// FsyncAlways acknowledges an append only once it is committed and
// synced to disk.
const FsyncAlways time.Duration = 0

// fileName is the store's file inside its directory.
const fileName = "streams.db"

const (
	queueLen      = 16384    // changes waiting for the writer before Append blocks
	queueBytes    = 64 << 20 // publication bytes waiting for the writer before Append blocks
	maxBatchOps   = 4096     // changes in one transaction
	maxBatchBytes = 4 << 20  // publication bytes in one transaction
	lockTimeout   = time.Second
)

// Options say when an append is safe.
type Options struct {
	// Fsync is FsyncAlways, or how often at most queued appends are
	// committed and synced when they are acknowledged on queueing: the
	// most a crash can lose.
	Fsync time.Duration
}

// Disk is a broker.StreamStore in one file. Its methods may be called
// from any goroutine.
type Disk struct {
	path     string
	db       *bolt.DB
	interval time.Duration

	sendMu sync.RWMutex // held to queue; Close takes it to close the queue
	closed bool
	queue  chan op
	queued *budget // the bytes in queue

	failMu sync.Mutex
	failed error // the first write that failed; every later one fails with it

	loadMu sync.Mutex
	loaded map[string]*broker.StoredStream // until Load hands it out
	read   bool

	// Only the writer goroutine touches these once Open returns.
	ix         *index
	lastCommit time.Time
	commits    int // transactions written: fewer than changes when commits are grouped
	acks       *acker
	closeErr   error
	stopped    chan struct{}
}

var _ broker.StreamStore = (*Disk)(nil)

// Open opens (creating if need be) the store in dir, reads what it holds
// for Load and starts its writer. Only one process can hold a directory's
// store at a time.
func Open(dir string, opts Options) (*Disk, error) {
	if opts.Fsync < 0 {
		return nil, fmt.Errorf("store: fsync interval %v is negative: use FsyncAlways (0) or a positive interval", opts.Fsync)
	}
	if dir == "" {
		return nil, errors.New("store: no directory given")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: creating the directory %s: %w", dir, err)
	}
	path := filepath.Join(dir, fileName)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("store: %s is in use by another process (its lock was not released within %v)", path, lockTimeout)
	}
	if err != nil {
		return nil, fmt.Errorf("store: opening %s: %w", path, err)
	}
	d := &Disk{
		path: path, db: db, interval: opts.Fsync,
		queue: make(chan op, queueLen), queued: newBudget(queueBytes), stopped: make(chan struct{}),
		ix: &index{streams: make(map[string]*indexed), next: 1},
	}
	if err := d.start(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store: %s: %w", path, err)
	}
	d.acks = newAcker()
	go d.run()
	return d, nil
}

// start records that this run has the file open, in which mode, and reads
// what the file holds.
func (d *Disk) start() error {
	err := d.db.Update(func(tx *bolt.Tx) error {
		if err := createBuckets(tx); err != nil {
			return err
		}
		if err := markIfUnclean(tx); err != nil {
			return err
		}
		return tx.Bucket(bucketHerald).Put(keyState, state{mode: d.mode(), open: true}.encode())
	})
	if err != nil {
		return err
	}
	return d.db.View(func(tx *bolt.Tx) error {
		var err error
		d.loaded, err = readStreams(tx, d.ix)
		return err
	})
}

func createBuckets(tx *bolt.Tx) error {
	for _, name := range [][]byte{bucketPubs, bucketStreams, bucketHerald} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("creating bucket %s: %w", name, err)
		}
	}
	return nil
}

// Load implements broker.StreamStore: it hands out what Open read, each
// stream's publications oldest first, expired ones included (the broker
// decides what has expired). It can be called once.
func (d *Disk) Load(fn func(ch string, s broker.StoredStream)) error {
	d.loadMu.Lock()
	loaded, read := d.loaded, d.read
	d.loaded, d.read = nil, true
	d.loadMu.Unlock()
	if read {
		return fmt.Errorf("store: %s: Load was already called; it hands the streams out once", d.path)
	}
	names := make([]string, 0, len(loaded))
	for ch := range loaded {
		names = append(names, ch)
	}
	sort.Strings(names)
	for _, ch := range names {
		fn(ch, *loaded[ch])
	}
	return nil
}

// Append implements broker.StreamStore. With FsyncAlways, done is called
// on the store's own goroutine once the append's transaction is synced
// (a slow done delays the dones after it, not the writes). With an
// interval, done is called before Append returns.
func (d *Disk) Append(pub *record.Publication, expires, touched time.Time, keepFrom uint64, done func(error)) {
	o := op{kind: opAppend, ch: pub.Channel, epoch: pub.Epoch, offset: pub.Offset, keepFrom: keepFrom, touched: touched}
	var err error
	if o.value, err = encodePub(pub, expires); err != nil {
		// The position is still written; only this publication is lost.
		o.value, o.err = nil, fmt.Errorf("store: %s: publication %d of %q: %w", d.path, pub.Offset, pub.Channel, err)
	}
	if d.interval == FsyncAlways {
		o.done = done
		if err := d.send(o); err != nil {
			done(err)
		}
		return
	}
	if err := d.failure(); err != nil {
		done(err)
		return
	}
	if err := d.send(o); err != nil {
		done(err)
		return
	}
	done(o.err)
}

// Trim implements broker.StreamStore.
func (d *Disk) Trim(ch string, keepFrom uint64) {
	_ = d.send(op{kind: opTrim, ch: ch, keepFrom: keepFrom})
}

// Drop implements broker.StreamStore.
func (d *Disk) Drop(ch string) {
	_ = d.send(op{kind: opDrop, ch: ch})
}

// Close implements broker.StreamStore: it commits what is queued, calls
// the dones still owed, marks the file closed cleanly (unless a write
// failed) and closes it. It returns the first write that failed, if any.
func (d *Disk) Close() error {
	d.sendMu.Lock()
	if d.closed {
		d.sendMu.Unlock()
		return fmt.Errorf("store: %s: already closed", d.path)
	}
	d.closed = true
	close(d.queue)
	d.sendMu.Unlock()
	<-d.stopped
	return d.closeErr
}

// send queues o for the writer, waiting while the queue is full.
func (d *Disk) send(o op) error {
	d.sendMu.RLock()
	defer d.sendMu.RUnlock()
	if d.closed {
		return fmt.Errorf("store: %s: closed", d.path)
	}
	d.queued.take(len(o.value))
	d.queue <- o
	return nil
}

func (d *Disk) failure() error {
	d.failMu.Lock()
	defer d.failMu.Unlock()
	return d.failed
}

func (d *Disk) fail(err error) {
	d.failMu.Lock()
	defer d.failMu.Unlock()
	if d.failed == nil {
		d.failed = err
	}
}
