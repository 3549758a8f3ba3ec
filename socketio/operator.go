package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/hub"
	"github.com/heraldhq/herald/internal/protocol/socketio"
)

// Operator is a broadcast being set up: the rooms it goes to, the rooms
// it skips, and whether it may be dropped.
type Operator struct {
	nsp      *Namespace
	from     *Socket
	rooms    []string
	except   []string
	volatile bool
}

// To returns a broadcast to rooms of namespace nsp.
func (srv *Server) To(nsp string, rooms ...string) *Operator {
	return &Operator{nsp: srv.Of(nsp), rooms: rooms}
}

// To returns a broadcast from this socket to rooms, which the socket
// itself does not receive.
func (s *Socket) To(rooms ...string) *Operator {
	return &Operator{nsp: s.nsp, from: s, rooms: rooms, except: []string{s.id}}
}

// Broadcast returns a broadcast to every socket of the namespace but this
// one.
func (s *Socket) Broadcast() *Operator {
	return &Operator{nsp: s.nsp, from: s, except: []string{s.id}}
}

// To adds rooms to the broadcast.
func (o *Operator) To(rooms ...string) *Operator {
	c := *o
	c.rooms = append(append([]string(nil), o.rooms...), rooms...)
	return &c
}

// Except leaves out the sockets in rooms.
func (o *Operator) Except(rooms ...string) *Operator {
	c := *o
	c.except = append(append([]string(nil), o.except...), rooms...)
	return &c
}

// Volatile lets the broadcast be dropped for sockets not ready for it, and
// keeps it out of recovery.
func (o *Operator) Volatile() *Operator {
	c := *o
	c.volatile = true
	return &c
}

// Emit sends the event. To rooms, it is a publication on each room's
// channel (so herald-protocol subscribers get it too, and each socket once
// however many of the rooms it is in); with no rooms it goes to every
// socket of the namespace on this node.
func (o *Operator) Emit(event string, args ...any) error {
	if socketio.IsReservedEvent(event) {
		return fmt.Errorf("socketio: %q is a reserved event name", event)
	}
	var a socketio.Args
	if err := buildArgs(&a, args); err != nil {
		return err
	}
	if len(o.rooms) == 0 {
		return o.emitLocal(event, &a)
	}
	pub := o.publication(event, &a, args)
	channels := make([]string, len(o.rooms))
	for i, room := range o.rooms {
		ch, err := roomChannel(o.nsp.prefix, room)
		if err != nil {
			return err
		}
		channels[i] = ch
	}
	if len(channels) > 1 {
		pub.Channels = channels
	}
	var errs []error
	for _, ch := range channels {
		p := *pub
		p.Channel = ch
		errs = append(errs, o.nsp.srv.backend.Publish(context.Background(), &p))
	}
	return errors.Join(errs...)
}

// publication carries the event's arguments for Socket.IO receivers and,
// in Data, as JSON for herald-protocol receivers: the single argument, or
// an array of them (bytes as base64).
func (o *Operator) publication(event string, a *socketio.Args, args []any) *broker.Publication {
	p := &broker.Publication{Event: event, Except: o.except, Volatile: o.volatile}
	if o.from != nil {
		p.Info = o.from.info
	}
	var raws []json.RawMessage
	_ = json.Unmarshal(a.JSON(), &raws)
	if len(args) == 1 && a.Attachments() == nil {
		p.Data = raws[0]
		return p
	}
	p.Args, p.Attachments = raws, copyBins(a.Attachments())
	p.Data, _ = json.Marshal(args)
	return p
}

func copyBins(b [][]byte) [][]byte {
	if b == nil {
		return nil
	}
	return append([][]byte(nil), b...)
}

// emitLocal sends to every socket of the namespace on this node.
func (o *Operator) emitLocal(event string, a *socketio.Args) error {
	var ev socketio.Args
	ev.String(event)
	var raws []json.RawMessage
	_ = json.Unmarshal(a.JSON(), &raws)
	for _, r := range raws {
		ev.Raw(r)
	}
	pkt := ev.Packet(socketio.Event, o.nsp.name)
	pkt.Attachments = a.Attachments()
	text, err := socketio.AppendPacket(nil, pkt)
	if err != nil {
		return err
	}
	enc := newEncodedEvent(text, copyBins(pkt.Attachments), o.volatile)
	var targets []hub.Subscriber
	for _, s := range o.nsp.allSockets() {
		if !s.excluded(o.except) {
			targets = append(targets, s)
		}
	}
	o.nsp.srv.backend.Hub().SendTo(targets, &hub.Message{Kind: hub.KindDirect, Payload: enc})
	return nil
}
