package client

import "fmt"

// stream is what the client knows of a subscribed channel's stream, to
// resume it after a reconnect and to deliver each publication once.
type stream struct {
	// pos is the last publication delivered, or where the subscribe
	// reply said the stream stood.
	pos Position
	// settle is, after a resume that did not recover, the offset the
	// replay ends at: holes among the replayed publications are already
	// reported, so they are not reported again as gaps.
	settle uint64
}

// subscribeReply is the wire form of a subscribe's result.
type subscribeReply struct {
	Channel   string `json:"channel"`
	Offset    uint64 `json:"offset"`
	Epoch     string `json:"epoch"`
	Recovered *bool  `json:"recovered"`
	Replayed  int    `json:"replayed"`
}

func (r subscribeReply) position() Position { return Position{Offset: r.Offset, Epoch: r.Epoch} }

// subscribed is the stream to track after a subscribe without a position.
func subscribed(r subscribeReply) stream { return stream{pos: r.position()} }

// resumed says how a subscribe from since went, by its reply, and the
// stream to track from there. The replayed publications follow the
// reply, so the tracked position stays at since until they arrive.
func resumed(since Position, r subscribeReply) (Resume, stream) {
	res := Resume{Replayed: r.Replayed, From: since, To: r.position()}
	// Offset 0 asks for the whole stream in any epoch: the first
	// replayed publication says which.
	start := since
	if start.Offset == 0 {
		start.Epoch = ""
	}
	switch {
	case r.Recovered == nil:
		res.Replayed, res.Reason = 0, "the server does not resume subscriptions"
	case *r.Recovered:
		res.Recovered = true
		return res, stream{pos: start}
	case since.Offset > 0 && since.Epoch != r.Epoch:
		res.Reason = "epoch changed"
	case since.Offset > r.Offset:
		res.Reason = fmt.Sprintf("the stream is back at offset %d", r.Offset)
	default:
		res.Reason = fmt.Sprintf("%d missed, %d replayed", r.Offset-since.Offset, r.Replayed)
	}
	if res.Replayed == 0 {
		return res, stream{pos: r.position()}
	}
	// What is kept is replayed, from past since: the epoch is since's.
	return res, stream{pos: start, settle: r.Offset}
}

// accept tracks p, a publication of the stream's channel. It reports
// whether p is to be delivered (false for one delivered already) and,
// when p comes after publications never delivered, the break to report.
func (s *stream) accept(p Position) (deliver bool, gap *Resume) {
	if p.Offset == 0 {
		return true, nil // not part of a stream: nothing to track
	}
	from := s.pos
	switch {
	case from.Epoch != "" && p.Epoch != from.Epoch:
		// The stream was started again: its offsets name another stream.
		if from.Offset > 0 || p.Offset > 1 {
			gap = &Resume{From: from, To: p, Gap: true, Reason: "epoch changed"}
		}
	case p.Offset <= from.Offset:
		return false, nil
	case p.Offset > from.Offset+1 && from.Offset >= s.settle:
		gap = &Resume{From: from, To: p, Gap: true, Reason: missedOffsets(from.Offset+1, p.Offset-1)}
	}
	s.pos = p
	return true, gap
}

func missedOffsets(first, last uint64) string {
	if first == last {
		return fmt.Sprintf("offset %d missed", first)
	}
	return fmt.Sprintf("offsets %d to %d missed", first, last)
}
