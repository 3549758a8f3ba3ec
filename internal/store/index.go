package store

import (
	bolt "go.etcd.io/bbolt"
)

// index is what the writer knows of every stream on disk: its epoch and
// the sequence numbers of its kept publications, so trimming a channel
// deletes keys without searching for them. It costs 16 bytes per kept
// publication. Only the writer goroutine touches it once Open returns.
type index struct {
	streams map[string]*indexed
	next    uint64 // the sequence number of the next publication
}

type indexed struct {
	epoch string
	kept  []kept // oldest first, offsets increasing
}

type kept struct{ offset, seq uint64 }

// txn is one batch's view of the file.
type txn struct {
	pubs, streams *bolt.Bucket
}

func (ix *index) append(tx txn, o *op) error {
	st := ix.streams[o.ch]
	if st == nil || st.epoch != o.epoch {
		// A new epoch starts the stream over: nothing of the old one stays.
		if err := st.forgetAll(tx); err != nil {
			return err
		}
		st = &indexed{epoch: o.epoch}
		ix.streams[o.ch] = st
	}
	if err := st.trim(tx, o.keepFrom); err != nil {
		return err
	}
	if err := st.forgetFrom(tx, o.offset); err != nil {
		return err
	}
	if o.value != nil && o.offset >= o.keepFrom {
		seq := ix.next
		if err := tx.pubs.Put(seqKey(seq), o.value); err != nil {
			return err
		}
		ix.next++
		st.kept = append(st.kept, kept{offset: o.offset, seq: seq})
	}
	m := meta{epoch: o.epoch, top: o.offset, touched: o.touched}
	return tx.streams.Put([]byte(o.ch), m.encode())
}

func (ix *index) trim(tx txn, ch string, keepFrom uint64) error {
	if st := ix.streams[ch]; st != nil {
		return st.trim(tx, keepFrom)
	}
	return nil
}

func (ix *index) drop(tx txn, ch string) error {
	if err := ix.streams[ch].forgetAll(tx); err != nil {
		return err
	}
	delete(ix.streams, ch)
	return tx.streams.Delete([]byte(ch))
}

// forgetAll forgets every publication of a stream, if there is one.
func (st *indexed) forgetAll(tx txn) error {
	if st == nil {
		return nil
	}
	return st.forgetFirst(tx, len(st.kept))
}

// trim forgets the publications before keepFrom.
func (st *indexed) trim(tx txn, keepFrom uint64) error {
	n := 0
	for _, k := range st.kept {
		if k.offset >= keepFrom {
			break
		}
		n++
	}
	return st.forgetFirst(tx, n)
}

func (st *indexed) forgetFirst(tx txn, n int) error {
	for _, k := range st.kept[:n] {
		if err := tx.pubs.Delete(seqKey(k.seq)); err != nil {
			return err
		}
	}
	if n > 0 {
		st.kept = st.kept[n:]
	}
	return nil
}

// forgetFrom forgets publications at or past offset: the broker moved the
// stream back, so they are no longer its history. It does not, but a
// stream on disk must never hold two publications at one offset.
func (st *indexed) forgetFrom(tx txn, offset uint64) error {
	i := len(st.kept)
	for i > 0 && st.kept[i-1].offset >= offset {
		i--
	}
	for _, k := range st.kept[i:] {
		if err := tx.pubs.Delete(seqKey(k.seq)); err != nil {
			return err
		}
	}
	st.kept = st.kept[:i]
	return nil
}
