package store

import (
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

type opKind uint8

const (
	opAppend opKind = iota
	opTrim
	opDrop
)

// op is one change queued for the writer.
type op struct {
	kind     opKind
	ch       string
	epoch    string
	offset   uint64
	keepFrom uint64
	touched  time.Time
	value    []byte      // the stored publication; nil when it could not be encoded
	err      error       // why it could not be
	done     func(error) // set with FsyncAlways: called once the change is synced
}

// run is the writer: it commits what is queued, batch after batch, until
// Close closes the queue.
func (d *Disk) run() {
	defer close(d.stopped)
	batch := make([]op, 0, 256)
	for open := true; open; {
		batch, open = d.collect(batch[:0])
		if len(batch) > 0 {
			d.commit(batch)
		}
	}
	d.closeErr = d.finish()
}

// collect waits for a change, then takes what else is queued: at once
// with FsyncAlways, or until an interval has passed since the last commit.
// It reports false once the queue is closed and empty.
func (d *Disk) collect(batch []op) ([]op, bool) {
	o, open := <-d.queue
	if !open {
		return batch, false
	}
	d.queued.give(len(o.value))
	batch = append(batch, o)
	size := len(o.value)
	var timeout <-chan time.Time
	if wait := time.Until(d.lastCommit.Add(d.interval)); wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timeout = t.C
	}
	for len(batch) < maxBatchOps && size < maxBatchBytes {
		o, got, open := d.receive(timeout)
		if !open {
			return batch, false
		}
		if !got {
			break
		}
		d.queued.give(len(o.value))
		batch = append(batch, o)
		size += len(o.value)
	}
	return batch, true
}

// receive takes the next queued change, waiting for one until timeout,
// or not at all without one.
func (d *Disk) receive(timeout <-chan time.Time) (o op, got, open bool) {
	if timeout == nil {
		select {
		case o, open = <-d.queue:
			return o, open, open
		default:
			return o, false, true
		}
	}
	select {
	case o, open = <-d.queue:
		return o, open, open
	case <-timeout:
		return o, false, true
	}
}

// commit writes batch in one transaction, synced, and acknowledges it.
// After a failed commit the writer no longer knows what the file holds,
// so it writes nothing more: every later change fails with the same error.
func (d *Disk) commit(batch []op) {
	d.lastCommit = time.Now()
	d.commits++
	err := d.failure()
	if err == nil {
		err = d.db.Update(func(tx *bolt.Tx) error {
			return d.apply(txn{pubs: tx.Bucket(bucketPubs), streams: tx.Bucket(bucketStreams)}, batch)
		})
		if err != nil {
			err = fmt.Errorf("store: %s: writing %d changes: %w", d.path, len(batch), err)
			d.fail(err)
		}
	}
	d.acknowledge(batch, err)
	clear(batch) // let go of the values and callbacks
}

func (d *Disk) apply(tx txn, batch []op) error {
	for i := range batch {
		o := &batch[i]
		var err error
		switch o.kind {
		case opAppend:
			err = d.ix.append(tx, o)
		case opTrim:
			err = d.ix.trim(tx, o.ch, o.keepFrom)
		case opDrop:
			err = d.ix.drop(tx, o.ch)
		}
		if err != nil {
			return fmt.Errorf("%q: %w", o.ch, err)
		}
	}
	return nil
}

func (d *Disk) acknowledge(batch []op, err error) {
	var acks []ack
	for i := range batch {
		if o := &batch[i]; o.done != nil {
			acks = append(acks, ack{done: o.done, err: firstErr(err, o.err)})
		}
	}
	if len(acks) > 0 {
		d.acks.push(acks)
	}
}

// firstErr is the first non-nil error.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// finish marks the file closed cleanly, unless a write failed (then what
// was acknowledged on queueing may be missing: the next run is told), and
// closes it once every done owed has been called.
func (d *Disk) finish() error {
	err := d.failure()
	if err == nil {
		err = d.db.Update(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketHerald).Put(keyState, state{mode: d.mode()}.encode())
		})
		if err != nil {
			err = fmt.Errorf("store: %s: marking the file closed: %w", d.path, err)
		}
	}
	d.acks.stop()
	if cerr := d.db.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("store: closing %s: %w", d.path, cerr))
	}
	return err
}

func (d *Disk) mode() uint64 {
	if d.interval > 0 {
		return modeInterval
	}
	return modeAlways
}
