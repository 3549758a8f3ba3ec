package broker

import (
	"time"

	"github.com/heraldhq/herald/internal/protocol/record"
)

// StreamStore keeps a single node's channel streams across restarts
// (internal/store). The memory broker still holds every stream in memory
// and serves history from there; it tells its store each change, in
// order, and reads the store back only when it starts.
//
// Calls for one channel come in the order the broker made the changes;
// a store applies them in that order.
type StreamStore interface {
	// Load calls fn once for every stream the store holds, with its
	// publications oldest first. It is called once, before any other
	// method.
	Load(fn func(ch string, s StoredStream)) error
	// Append records pub, already given its offset, epoch and time, as
	// the newest publication of pub.Channel's stream: the stream now
	// stands at pub.Offset in pub.Epoch, was last published to at
	// touched, and keeps only its publications from keepFrom on (none
	// when keepFrom is past pub.Offset: a channel without history still
	// keeps its position). expires is when pub goes, zero for never.
	//
	// done is called once, with nil when pub is as safe as the store
	// promises (on disk for fsync "always"; queued for a batched write
	// otherwise) or with the error that lost it. A store that acknowledges
	// on queueing calls done before Append returns. Calls to done follow
	// the order of the Appends.
	Append(pub *record.Publication, expires, touched time.Time, keepFrom uint64, done func(error))
	// Trim forgets ch's publications before keepFrom (time trimming,
	// or all of them when keepFrom is past the newest), keeping its
	// position.
	Trim(ch string, keepFrom uint64)
	// Drop forgets ch's stream altogether: its position outlived
	// history_meta_ttl.
	Drop(ch string)
	// Close writes what is queued, syncs and closes the store. A store
	// closed cleanly opens with its epochs trusted; after a crash, a
	// store whose acknowledgement came before the disk (a batched fsync)
	// reports Unclean, so the broker can start its streams in new epochs:
	// offsets handed out but never written must not be handed out again
	// under the same epoch.
	Close() error
}

// StoredStream is one stream as a StreamStore loads it.
type StoredStream struct {
	// Epoch and Top are where the stream stood: its epoch and newest offset.
	Epoch string
	Top   uint64
	// Touched is when it was last published to.
	Touched time.Time
	// Pubs are its kept publications, oldest first; Expires is parallel,
	// a zero time meaning never.
	Pubs    []*record.Publication
	Expires []time.Time
	// Unclean says the store was not closed cleanly and may have lost
	// acknowledged-on-queue writes to this stream.
	Unclean bool
}
