package bench

import (
	"math/bits"
	"sync"
)

// How the soak tells loss from churn. A connection's life runs from the
// moment its subscribe (or herald:join) was acknowledged, ackNs, to its
// close. A message is owed to it when the server accepted it (the API
// answered 200) and its request left after ackNs: the subscription, and
// the user's connection, were then in place, so the server had to deliver
// it. The end of a life that was closed is less sharp (a message accepted
// just before the close may still have been queued when the socket went),
// so a closed life owes only what comes up to the last seq it received on
// the stream; a gap before that is loss. A life still open at the end owes
// everything accepted, up to the last seq of the stream.
//
// The bench (the parent) knows which seqs were accepted and when their
// requests left; it hands that table to every worker as the run goes, and
// each worker checks its own connections' lives against it.

// seqSet is a set of positive sequence numbers: a bitmap from base, grown
// either way as seqs arrive.
type seqSet struct {
	base  int64 // a multiple of 64: bit i of words[j] is seq base+64j+i
	words []uint64
	max   int64 // the highest seq in the set; 0 when empty
}

// maxSeqSpan bounds how far a set may spread (8 MB of bitmap at most), so
// a corrupt seq cannot make a worker allocate without end.
const maxSeqSpan = 1 << 26

// add puts seq in the set; dup says it was there already, ok=false that
// seq is out of range (not positive, or too far from the others).
func (s *seqSet) add(seq int64) (dup, ok bool) {
	if seq < 1 {
		return false, false
	}
	word := seq &^ 63
	switch {
	case len(s.words) == 0:
		s.base = word
	case word < s.base:
		if s.base+int64(len(s.words))*64-word > maxSeqSpan {
			return false, false
		}
		grow := int((s.base - word) / 64)
		s.words = append(make([]uint64, grow, grow+len(s.words)), s.words...)
		s.base = word
	}
	i := int((word - s.base) / 64)
	if i >= len(s.words) {
		if word-s.base >= maxSeqSpan {
			return false, false
		}
		s.words = append(s.words, make([]uint64, i+1-len(s.words))...)
	}
	bit := uint64(1) << (seq & 63)
	if s.words[i]&bit != 0 {
		return true, true
	}
	s.words[i] |= bit
	s.max = max(s.max, seq)
	return false, true
}

// each calls f for every seq in the set up to bound, in increasing order.
func (s *seqSet) each(bound int64, f func(seq int64)) {
	for i, w := range s.words {
		lo := s.base + int64(i)*64
		for w != 0 {
			seq := lo + int64(bits.TrailingZeros64(w))
			if seq > bound {
				return
			}
			f(seq)
			w &= w - 1
		}
	}
}

// soakTable is what the bench has told a worker of the accepted messages:
// sent[kind][stream][seq-1] is when the request of that seq left (unix
// nanoseconds), 0 for a seq not accepted, or not known yet.
type soakTable struct {
	sent [kinds][][]int64
}

// maxSoakStreams bounds the streams of a kind a table holds (the flags
// allow fewer channels and users than this).
const maxSoakStreams = 1 << 20

func (t *soakTable) add(kind int, stream, seq, sentNs int64) bool {
	if kind < 0 || kind >= kinds || stream < 0 || stream >= maxSoakStreams || seq < 1 || seq > maxSeqSpan || sentNs <= 0 {
		return false
	}
	s := &t.sent[kind]
	if int(stream) >= len(*s) {
		*s = append(*s, make([][]int64, int(stream)+1-len(*s))...)
	}
	row := &(*s)[stream]
	if int(seq) > len(*row) {
		*row = append(*row, make([]int64, int(seq)-len(*row))...)
	}
	(*row)[seq-1] = sentNs
	return true
}

// row is what is known of one stream.
func (t *soakTable) row(kind int, stream int64) []int64 {
	if stream < 0 || int(stream) >= len(t.sent[kind]) {
		return nil
	}
	return t.sent[kind][stream]
}

// soakCounts is the account of some lives' messages of one kind.
type soakCounts struct {
	Expected int64 `json:"expected"` // owed, as above
	Received int64 `json:"received"` // of those owed, how many arrived
	// Extra counts arrivals the table does not know: a request that got
	// no answer (so the bench cannot tell) and yet was delivered, or, on
	// the final account, one the server refused and delivered anyway.
	// During the run it also counts those whose answer is not in yet.
	Extra      int64 `json:"extra"`
	Duplicates int64 `json:"duplicates"`
	Foreign    int64 `json:"foreign"` // soak messages of another channel or user than the life's
}

// Missing is what was owed and has not arrived.
func (c soakCounts) Missing() int64 { return c.Expected - c.Received }

func (c *soakCounts) plus(o soakCounts) {
	c.Expected += o.Expected
	c.Received += o.Received
	c.Extra += o.Extra
	c.Duplicates += o.Duplicates
	c.Foreign += o.Foreign
}

// streamLog is what one life received of one stream.
type streamLog struct {
	stream     int64
	seen       seqSet
	duplicates int64
	foreign    int64
	outOfRange int64
}

// soakLife is one connection of a slot, from dial to close.
type soakLife struct {
	slot int
	sio  bool

	mu           sync.Mutex
	ackNs        int64 // 0 until the subscription is acknowledged
	logs         [kinds]streamLog
	unrecognised int64
	ended        int8 // lifeOpen, lifeClosedByUs or lifeClosedByServer
}

const (
	lifeOpen = iota
	lifeClosedByUs
	lifeClosedByServer
)

func newSoakLife(slot int, sio bool, channel, user int) *soakLife {
	l := &soakLife{slot: slot, sio: sio}
	l.logs[kindPub].stream = int64(channel)
	l.logs[kindPush].stream = int64(user)
	return l
}

// record notes one message the connection received.
func (l *soakLife) record(m soakMsg) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if m.unrecognised {
		l.unrecognised++
		return
	}
	lg := &l.logs[m.kind]
	if m.stream != lg.stream {
		lg.foreign++
		return
	}
	dup, ok := lg.seen.add(m.seq)
	switch {
	case !ok:
		lg.outOfRange++
	case dup:
		lg.duplicates++
	}
}

// acknowledge starts the life: its subscription is in place.
func (l *soakLife) acknowledge(ns int64) {
	l.mu.Lock()
	l.ackNs = ns
	l.mu.Unlock()
}

// end marks how the life ended (lifeClosedByUs or lifeClosedByServer).
func (l *soakLife) end(how int8) {
	l.mu.Lock()
	l.ended = how
	l.mu.Unlock()
}

// tally checks the life against the table. final says that every
// accepted message is in the table and delivered if it ever will be: an
// open life then owes the whole of its streams. unrecognised counts the
// messages that were no soak message.
func (l *soakLife) tally(t *soakTable, final bool) (out [kinds]soakCounts, unrecognised int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ackNs == 0 {
		return out, l.unrecognised
	}
	for kind := range kinds {
		lg := &l.logs[kind]
		row := t.row(kind, lg.stream)
		bound := lg.seen.max
		if final && l.ended == lifeOpen {
			bound = int64(len(row))
		}
		out[kind] = tallyStream(lg, row, l.ackNs, bound)
	}
	return out, l.unrecognised
}

// tallyStream counts what a life acknowledged at ackNs owed of one stream
// up to seq bound, what of it arrived, and what arrived unknown.
func tallyStream(lg *streamLog, row []int64, ackNs, bound int64) soakCounts {
	c := soakCounts{Duplicates: lg.duplicates, Foreign: lg.foreign, Extra: lg.outOfRange}
	for seq := int64(1); seq <= min(bound, int64(len(row))); seq++ {
		if row[seq-1] > ackNs {
			c.Expected++
		}
	}
	lg.seen.each(bound, func(seq int64) {
		switch {
		case seq > int64(len(row)) || row[seq-1] == 0:
			c.Extra++
		case row[seq-1] > ackNs:
			c.Received++
		}
	})
	return c
}
