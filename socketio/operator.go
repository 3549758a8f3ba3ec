package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/heraldhq/herald/internal/core"
	"github.com/heraldhq/herald/internal/protocol/record"
	"github.com/heraldhq/herald/internal/protocol/sioproto"
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
	return &Operator{nsp: s.nsp, from: s, rooms: rooms, except: []string{s.ID()}}
}

// Broadcast returns a broadcast to every socket of the namespace but this
// one.
func (s *Socket) Broadcast() *Operator {
	return &Operator{nsp: s.nsp, from: s, except: []string{s.ID()}}
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
// however many of the rooms it is in). A broadcast from a socket is that
// socket's publication: the node's OnPublish hook sees it and may refuse
// it, for each room. A room that is a socket's id goes to that socket
// alone, on this node: it is not a channel anyone else could subscribe
// to. With no rooms it goes to every socket of the namespace on this node.
// While the node's fan-out backlog is past limits.max_node_queue_bytes,
// Emit waits for room before it sends anything: from a socket for as long
// as the socket lives (then it returns an error wrapping
// herald.ErrOverloaded), from the server for as long as it takes. A
// volatile emit is dropped instead, as it may be whenever the transport
// is not ready for it.
func (o *Operator) Emit(event string, args ...any) error {
	if sioproto.IsReservedEvent(event) {
		return fmt.Errorf("socketio: %q is a reserved event name", event)
	}
	var a sioproto.Args
	if err := buildArgs(&a, args); err != nil {
		return err
	}
	if err := o.makeRoom(); err != nil {
		if o.volatile && errors.Is(err, core.ErrOverloaded) {
			return nil
		}
		return err
	}
	if len(o.rooms) == 0 {
		return o.sendDirect(o.nsp.allSockets(), remoteEmit{All: true}, event, &a)
	}
	var rooms, channels, remote []string
	var direct []*Socket
	for _, room := range o.rooms {
		if so := o.nsp.socket(room); so != nil {
			direct = append(direct, so)
			continue
		}
		if mayBeSocketID(room) {
			// Maybe a socket on another node; maybe a room of that
			// shape: it goes both ways, and each node's sockets get
			// one copy (a socket in the room is left out of the other).
			remote = append(remote, room)
		}
		ch, err := roomChannel(o.nsp.prefix, room)
		if err != nil {
			return err
		}
		rooms, channels = append(rooms, room), append(channels, ch)
	}
	var errs []error
	if len(channels) > 0 {
		errs = append(errs, o.publish(channels, event, &a, args))
	}
	if len(direct) > 0 || len(remote) > 0 {
		// A socket also in one of the rooms gets the room's copy instead.
		direct = slices.DeleteFunc(direct, func(so *Socket) bool { return slices.ContainsFunc(rooms, so.inRoom) })
		// A remote socket in one of the rooms gets the room's copy too;
		// its own id's room is no channel it is on.
		others := slices.DeleteFunc(slices.Clone(rooms), func(r string) bool { return slices.Contains(remote, r) })
		errs = append(errs, o.sendDirect(direct, remoteEmit{Sockets: remote, Rooms: others}, event, &a))
	}
	return errors.Join(errs...)
}

// makeRoom applies back-pressure to the emit as a whole, so an emit to
// several rooms is sent to all of them or to none.
func (o *Operator) makeRoom() error {
	ctx, source, backoff := context.Background(), "go", core.Wait
	if o.from != nil {
		ctx, source = &o.from.client, "client"
	}
	if o.volatile {
		backoff = core.Refuse
	}
	return o.nsp.srv.core.MakeRoom(ctx, backoff, source)
}

// publish publishes the event on each channel, through the core; Emit
// has made room for it.
func (o *Operator) publish(channels []string, event string, a *sioproto.Args, args []any) error {
	data, routing := o.routing(event, a, args)
	if len(channels) > 1 {
		routing.Channels = channels
	}
	ctx, how := context.Background(), core.Publish{By: core.ByApp, Volatile: o.volatile, Source: "go", Backoff: core.Admitted}
	if o.from != nil {
		ctx, how.From, how.Source = &o.from.client, &o.from.client, "client"
	}
	var errs []error
	for _, ch := range channels {
		pub := &record.Publication{Channel: ch, Data: data, Ext: routing}
		if _, err := o.nsp.srv.core.Publish(ctx, pub, how); err != nil {
			errs = append(errs, fmt.Errorf("socketio: to room channel %q: %w", ch, err))
		}
	}
	return errors.Join(errs...)
}

// routing carries the event's arguments for Socket.IO receivers and, as
// the publication's data, as JSON for herald-protocol receivers: the
// single argument, or an array of them (bytes as base64).
func (o *Operator) routing(event string, a *sioproto.Args, args []any) (json.RawMessage, *sioproto.Routing) {
	r := &sioproto.Routing{Event: event, Except: o.except, Volatile: o.volatile}
	var raws []json.RawMessage
	_ = json.Unmarshal(a.JSON(), &raws)
	if len(args) == 1 && a.Attachments() == nil {
		return raws[0], r
	}
	r.Args, r.Attachments = raws, copyBins(a.Attachments())
	data, _ := json.Marshal(args)
	return data, r
}

func copyBins(b [][]byte) [][]byte {
	if b == nil {
		return nil
	}
	return append([][]byte(nil), b...)
}

// sendDirect sends the event to sockets of this node, except those in
// the except rooms, in order with everything else each is sent; and,
// when remote names any, to the other nodes' sockets it names.
func (o *Operator) sendDirect(sockets []*Socket, remote remoteEmit, event string, a *sioproto.Args) error {
	var ev sioproto.Args
	ev.String(event)
	var raws []json.RawMessage
	_ = json.Unmarshal(a.JSON(), &raws)
	for _, r := range raws {
		ev.Raw(r)
	}
	pkt := ev.Packet(sioproto.Event, o.nsp.name)
	pkt.Attachments = a.Attachments()
	text, err := sioproto.AppendPacket(nil, pkt)
	if err != nil {
		return err
	}
	bins := copyBins(pkt.Attachments)
	o.nsp.srv.sendEncoded(sockets, o.except, newEncodedEvent(text, bins, o.volatile))
	if !remote.All && len(remote.Sockets) == 0 {
		return nil
	}
	remote.Nsp, remote.Except, remote.Volatile, remote.Text, remote.Bins = o.nsp.name, o.except, o.volatile, text, bins
	return o.nsp.srv.core.Tell(o.context(), opEmit, remote)
}

// context is the emitting socket's, or the background for the server's.
func (o *Operator) context() context.Context {
	if o.from != nil {
		return &o.from.client
	}
	return context.Background()
}

// excludedBy reports whether the socket is in one of rooms.
func (s *Socket) excludedBy(rooms []string) bool {
	return slices.ContainsFunc(rooms, s.inRoom)
}
