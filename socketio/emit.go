package socketio

import (
	"errors"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/protocol/sioproto"
)

// ErrAckTimeout is returned when a client does not acknowledge in time.
var ErrAckTimeout = errors.New("operation has timed out") // the reference's words

// ackReply is a client's acknowledgement, or why none came.
type ackReply struct {
	args []Arg
	err  error
}

// Emit sends an event to this socket. Arguments are encoded as JSON;
// []byte values are sent as binary.
func (s *Socket) Emit(event string, args ...any) error {
	ev, err := s.encodeEvent(event, args, 0, false)
	if err != nil {
		return err
	}
	s.post(ev)
	return nil
}

// EmitWithAck sends an event and waits up to timeout for the client to
// acknowledge it, returning the acknowledgement's arguments.
func (s *Socket) EmitWithAck(timeout time.Duration, event string, args ...any) ([]Arg, error) {
	ch := make(chan ackReply, 1)
	s.mu.Lock()
	if s.state.Load() != socketConnected {
		s.mu.Unlock()
		return nil, ErrDisconnected
	}
	id := uint64(s.nextAck) // wraps after 2^32 emits, long after any ack timed out
	s.nextAck++
	if s.acks == nil {
		s.acks = map[uint64]chan ackReply{}
	}
	s.acks[id] = ch
	s.mu.Unlock()

	ev, err := s.encodeEvent(event, args, id, true)
	if err != nil {
		s.dropAck(id)
		return nil, err
	}
	ev.replayable = false // its acknowledgement could not be replayed with it
	s.post(ev)
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case r := <-ch:
		return r.args, r.err
	case <-t.C:
		s.dropAck(id)
		return nil, ErrAckTimeout
	}
}

func (s *Socket) dropAck(id uint64) {
	s.mu.Lock()
	delete(s.acks, id)
	s.mu.Unlock()
}

// resolveAck hands an ACK from the client to the emit waiting for it.
func (s *Socket) resolveAck(p sioproto.Packet) {
	s.mu.Lock()
	ch, ok := s.acks[p.ID]
	delete(s.acks, p.ID)
	s.mu.Unlock()
	if !ok {
		return // late or unknown: the reference ignores it too
	}
	args, err := argsOf(p)
	if err != nil {
		ch <- ackReply{err: err}
		return
	}
	ch <- ackReply{args: args}
}

// sendAck answers a client's event with the handler's results.
func (s *Socket) sendAck(id uint64, results []any) {
	var a sioproto.Args
	if err := buildArgs(&a, results); err != nil {
		s.reportError(fmt.Errorf("acknowledgement: %w", err))
		return
	}
	pkt := a.Packet(sioproto.Ack, s.nsp.name)
	pkt.ID, pkt.HasID = id, true
	s.postPacket(pkt, nil)
}

// postPacket sends a non-event packet (ACK, DISCONNECT) through the hub,
// in order with the socket's events; after runs once it is queued.
func (s *Socket) postPacket(pkt sioproto.Packet, after func()) {
	text, bins, err := sioproto.Encode(pkt)
	if err != nil {
		s.reportError(err)
		return
	}
	ev := newEncodedEvent(text, bins, false)
	ev.replayable, ev.after = false, after
	s.post(ev)
}

// encodeEvent builds an EVENT packet for this socket alone.
func (s *Socket) encodeEvent(event string, args []any, id uint64, withID bool) (*encodedEvent, error) {
	if sioproto.IsReservedEvent(event) {
		return nil, fmt.Errorf("socketio: %q is a reserved event name", event)
	}
	var a sioproto.Args
	a.String(event)
	if err := buildArgs(&a, args); err != nil {
		return nil, err
	}
	pkt := a.Packet(sioproto.Event, s.nsp.name)
	pkt.ID, pkt.HasID = id, withID
	text, err := sioproto.AppendPacket(nil, pkt)
	if err != nil {
		return nil, err
	}
	return newEncodedEvent(text, pkt.Attachments, false), nil
}
