package store

import (
	"encoding/binary"
	"fmt"

	"github.com/heraldhq/herald/internal/broker"
	bolt "go.etcd.io/bbolt"
)

// markIfUnclean marks every stream unclean when the last run acknowledged
// appends before they were on disk (an interval) and did not close. The
// mark is kept on each stream until the broker writes to it again, so a
// second crash, or a run in the other mode, cannot hide the first one.
// After a run with FsyncAlways nothing acknowledged can be missing: the
// broker hands a publication out only once it is acknowledged.
func markIfUnclean(tx *bolt.Tx) error {
	v := tx.Bucket(bucketHerald).Get(keyState)
	if v == nil {
		return nil // a new file
	}
	last, err := decodeState(v)
	if err != nil {
		return fmt.Errorf("the state: %w", err)
	}
	if !last.open || last.mode == modeAlways {
		return nil
	}
	streams := tx.Bucket(bucketStreams)
	var marked [][2][]byte
	err = streams.ForEach(func(k, v []byte) error {
		m, err := decodeMeta(v)
		if err != nil {
			return fmt.Errorf("the stream %q: %w", k, err)
		}
		m.unclean = true
		marked = append(marked, [2][]byte{append([]byte(nil), k...), m.encode()})
		return nil
	})
	if err != nil {
		return err
	}
	for _, kv := range marked { // a bucket is not changed while it is walked
		if err := streams.Put(kv[0], kv[1]); err != nil {
			return err
		}
	}
	return nil
}

// readStreams reads every stream and its publications, oldest first, and
// fills ix to match.
func readStreams(tx *bolt.Tx, ix *index) (map[string]*broker.StoredStream, error) {
	out := make(map[string]*broker.StoredStream)
	err := tx.Bucket(bucketStreams).ForEach(func(k, v []byte) error {
		m, err := decodeMeta(v)
		if err != nil {
			return fmt.Errorf("the stream %q: %w", k, err)
		}
		ch := string(k)
		out[ch] = &broker.StoredStream{Epoch: m.epoch, Top: m.top, Touched: m.touched, Unclean: m.unclean}
		ix.streams[ch] = &indexed{epoch: m.epoch}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = tx.Bucket(bucketPubs).ForEach(func(k, v []byte) error {
		return readPub(k, v, out, ix)
	})
	return out, err
}

func readPub(k, v []byte, out map[string]*broker.StoredStream, ix *index) error {
	if len(k) != 8 {
		return fmt.Errorf("a publication's key %x is not a sequence number", k)
	}
	seq := binary.BigEndian.Uint64(k)
	pub, expires, err := decodePub(v)
	if err != nil {
		return fmt.Errorf("publication %d: %w", seq, err)
	}
	s := out[pub.Channel]
	switch {
	case s == nil:
		return fmt.Errorf("publication %d is of %q, which has no stream", seq, pub.Channel)
	case pub.Epoch != s.Epoch:
		return fmt.Errorf("publication %d of %q is in epoch %q, its stream in %q", seq, pub.Channel, pub.Epoch, s.Epoch)
	case len(s.Pubs) > 0 && pub.Offset <= s.Pubs[len(s.Pubs)-1].Offset || pub.Offset > s.Top:
		return fmt.Errorf("publication %d of %q is at offset %d, out of order", seq, pub.Channel, pub.Offset)
	}
	s.Pubs = append(s.Pubs, pub)
	s.Expires = append(s.Expires, expires)
	st := ix.streams[pub.Channel]
	st.kept = append(st.kept, kept{offset: pub.Offset, seq: seq})
	ix.next = seq + 1
	return nil
}
