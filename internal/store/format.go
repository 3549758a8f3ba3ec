package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/protocol/pbwire"
	"github.com/heraldhq/herald/internal/protocol/record"
	"google.golang.org/protobuf/encoding/protowire"
)

// The file holds three buckets. Publications are keyed by a sequence
// number the store gives them in the order they were appended, so every
// commit writes at the right edge of one B+tree instead of into the
// middle of a thousand channels' key ranges (docs/architecture.md has the
// measurement that chose this).
//
//	pubs     8-byte big-endian sequence number → expiry + record (docs/record.md)
//	streams  channel name → the stream's meta
//	herald   "state" → the file's format and how its last run ended
var (
	bucketPubs    = []byte("pubs")
	bucketStreams = []byte("streams")
	bucketHerald  = []byte("herald")
	keyState      = []byte("state")
)

// formatVersion is the first byte of the state and of every stream meta:
// the layout of this file. A store refuses a file of a format it does not
// know rather than guess at it.
const formatVersion byte = 1

// Fields of a stream's meta, a canonical protocol buffer after the format byte.
const (
	fieldEpoch   protowire.Number = 1
	fieldTop     protowire.Number = 2
	fieldTouched protowire.Number = 3 // unix nanoseconds
	fieldUnclean protowire.Number = 4
)

// Fields of the state.
const (
	fieldMode protowire.Number = 1
	fieldOpen protowire.Number = 2 // set while a run has the file open
)

// Modes a run records in the state, so the next one knows whether an
// unclean end may have lost acknowledged writes.
const (
	modeAlways   uint64 = 1
	modeInterval uint64 = 2
)

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// encodePub is a publication's stored value: when it expires (unix
// nanoseconds, big-endian; zero for never), then its record.
func encodePub(pub *record.Publication, expires time.Time) ([]byte, error) {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, 128), unixNano(expires))
	return pub.AppendBinary(b)
}

func decodePub(v []byte) (*record.Publication, time.Time, error) {
	if len(v) < 8 {
		return nil, time.Time{}, errors.New("value is shorter than its expiry")
	}
	pub, err := record.Decode(v[8:])
	if err != nil {
		return nil, time.Time{}, err
	}
	return pub, fromUnixNano(binary.BigEndian.Uint64(v)), nil
}

// meta is what a stream's entry in the streams bucket holds.
type meta struct {
	epoch   string
	top     uint64
	touched time.Time
	// unclean marks a stream loaded after a run that may have lost
	// acknowledged writes, until the broker writes to it again.
	unclean bool
}

func (m meta) encode() []byte {
	b := []byte{formatVersion}
	b = pbwire.AppendString(b, fieldEpoch, m.epoch)
	b = pbwire.AppendUint(b, fieldTop, m.top)
	b = pbwire.AppendUint(b, fieldTouched, unixNano(m.touched))
	return pbwire.AppendTrue(b, fieldUnclean, m.unclean)
}

func decodeMeta(b []byte) (meta, error) {
	var m meta
	r, err := versioned(b)
	if err != nil {
		return m, err
	}
	for r.Next() {
		switch r.Field() {
		case fieldEpoch:
			m.epoch = r.String()
		case fieldTop:
			m.top = r.Uint()
		case fieldTouched:
			m.touched = fromUnixNano(r.Uint())
		case fieldUnclean:
			m.unclean = r.True()
		default:
			r.Unknown()
		}
	}
	return m, r.Err()
}

// state is how the last run left the file.
type state struct {
	mode uint64
	open bool
}

func (s state) encode() []byte {
	b := pbwire.AppendUint([]byte{formatVersion}, fieldMode, s.mode)
	return pbwire.AppendTrue(b, fieldOpen, s.open)
}

func decodeState(b []byte) (state, error) {
	var s state
	r, err := versioned(b)
	if err != nil {
		return s, err
	}
	for r.Next() {
		switch r.Field() {
		case fieldMode:
			s.mode = r.Uint()
		case fieldOpen:
			s.open = r.True()
		default:
			r.Unknown()
		}
	}
	return s, r.Err()
}

func versioned(b []byte) (*pbwire.Reader, error) {
	if len(b) == 0 {
		return nil, errors.New("empty value")
	}
	if b[0] != formatVersion {
		return nil, fmt.Errorf("format %d is not one this node reads (it reads %d)", b[0], formatVersion)
	}
	return pbwire.NewReader(b[1:]), nil
}

// unixNano is t in unix nanoseconds, zero for the zero time. A time
// before 1970 becomes 1 so that it still reads back as a time, not never.
func unixNano(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	return uint64(max(t.UnixNano(), 1))
}

func fromUnixNano(n uint64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(n))
}
