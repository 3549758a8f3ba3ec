package socketio

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/hub"
	"github.com/heraldhq/herald/internal/protocol/record"
	"github.com/heraldhq/herald/internal/protocol/sioproto"
	"github.com/heraldhq/herald/internal/transport/websocket"
)

// encodedEvent is an EVENT packet ready to queue, shared by every socket
// of a namespace that receives it.
type encodedEvent struct {
	// text is the Socket.IO packet (`42/chat,["ev",…]`).
	text []byte
	// frame is "4"+text as a WebSocket text frame, built the first time a
	// socket is sent the event without an offset (see plainFrame).
	frame     []byte
	frameOnce sync.Once
	// bins are the binary attachments, and binFrames the same as
	// WebSocket binary frames.
	bins, binFrames [][]byte
	// volatile events may be dropped and are not kept for recovery.
	volatile bool
	// replayable packets are events recovery numbers and may send again:
	// not acknowledgements, not events awaiting one, not volatile ones.
	replayable bool
	// after, when set, runs on the socket's handler goroutine once the
	// packet is queued (a DISCONNECT is sent, then the socket closes).
	after func()
	// except are the rooms whose sockets do not take a publication, and
	// exceptChannels the channels those rooms map to in this namespace.
	except, exceptChannels []string
	// channels are the channels of a broadcast to several rooms, for
	// each socket to take it once.
	channels []string
	// numbered is the event as recovery sends it, with its offset.
	numbered numbering
	// stream is where a room broadcast stands in its channel's stream,
	// when the channel keeps history: recovery catches a socket up on it
	// from the stream, not from the socket's log (see streams.go).
	stream streamMark
}

// Size is the event's bytes on the wire, for the node's backlog.
func (e *encodedEvent) Size() int {
	n := len(e.text)
	for _, b := range e.bins {
		n += len(b)
	}
	return n
}

// numbering is an event's recovery offset and the packet that carries it,
// made once for every socket it reaches.
type numbering struct {
	once   sync.Once
	offset uint64
	// at is when the event was numbered: recovery_window counts from it.
	at          time.Time
	text, frame []byte
}

// number gives ev the server's next recovery offset, the first time any
// socket is sent it. Every socket's events are delivered by the hub's one
// fan-out goroutine in the hub's order, so the offsets each socket sees
// increase, and one offset serves all of an event's recipients (as with
// the reference server's global offset).
func (srv *Server) number(ev *encodedEvent) {
	ev.numbered.once.Do(func() {
		n := &ev.numbered
		n.offset = srv.offsets.Add(1)
		n.at = time.Now()
		n.text = ev.withOffset(offsetString(n.offset))
		n.frame = websocket.TextFrame(append([]byte{'4'}, n.text...))
	})
}

func newEncodedEvent(text []byte, bins [][]byte, volatile bool) *encodedEvent {
	ev := &encodedEvent{text: text, bins: bins, volatile: volatile, replayable: !volatile}
	for _, b := range bins {
		ev.binFrames = append(ev.binFrames, websocket.BinaryFrame(b))
	}
	return ev
}

// plainFrame returns the event's WebSocket frame without a recovery
// offset. With recovery on, the events it numbers never need one, so it is
// built on first use only.
func (ev *encodedEvent) plainFrame() []byte {
	ev.frameOnce.Do(func() { ev.frame = websocket.TextFrame(append([]byte{'4'}, ev.text...)) })
	return ev.frame
}

// withOffset returns the packet text with a recovery offset as its last
// argument, as the reference server appends it.
func (ev *encodedEvent) withOffset(off string) []byte {
	open := ev.text[:len(ev.text)-1] // drop the array's "]"
	out := make([]byte, 0, len(ev.text)+len(off)+3)
	out = append(out, open...)
	out = append(out, ',', '"')
	out = append(out, off...)
	return append(out, '"', ']')
}

// nsFormat is a namespace's packets as a hub format: every socket of the
// namespace takes the same encoding of a message.
type nsFormat struct{ n *Namespace }

// Encode implements hub.Format: a publication or a push becomes an EVENT
// packet of the namespace; a packet a socket sent itself is already one.
// Other kinds give nil (Socket.IO sockets do not receive them).
func (f *nsFormat) Encode(m *hub.Message) any {
	switch m.Kind {
	case hub.KindDirect:
		ev, _ := m.Payload.(*encodedEvent) // or the core's end of a catch-up
		return ev
	case hub.KindPush:
		return f.n.encodeEvent(m.Push.Event, nil, m.Push.Data, nil, nil)
	case hub.KindPublication:
		return f.n.encodePublication(m.Pub)
	}
	return (*encodedEvent)(nil)
}

// encodePublication is the event a publication becomes in the namespace:
// its routing's event and arguments, or event "message" with its data.
func (n *Namespace) encodePublication(p *record.Publication) *encodedEvent {
	r, err := sioproto.RoutingOf(p.Ext)
	if err != nil {
		n.srv.core.Log().Error("socket.io: a publication's routing", "channel", p.Channel, "err", err)
		return nil
	}
	if r == nil {
		ev := n.encodeEvent("", nil, p.Data, nil, nil)
		n.markStream(ev, p)
		return ev
	}
	ev := n.encodeEvent(r.Event, r.Args, p.Data, r.Attachments, r)
	if ev != nil && len(r.Channels) > 1 {
		ev.channels = r.Channels
	}
	n.markStream(ev, p)
	return ev
}

// encodeEvent builds an EVENT packet from its parts; r, when set, adds its
// volatility and excepted rooms.
func (n *Namespace) encodeEvent(event string, args []json.RawMessage, data json.RawMessage, bins [][]byte, r *sioproto.Routing) *encodedEvent {
	if event == "" {
		event = "message"
	}
	var a sioproto.Args
	a.String(event)
	if args != nil {
		for _, arg := range args {
			a.Raw(arg)
		}
	} else {
		a.Raw(orNull(data))
	}
	pkt := a.Packet(sioproto.Event, n.name)
	pkt.Attachments = bins // placeholders in args refer to them
	text, err := sioproto.AppendPacket(nil, pkt)
	if err != nil {
		n.srv.core.Log().Error("socket.io: encoding an event", "event", event, "err", err)
		return nil
	}
	ev := newEncodedEvent(text, bins, r != nil && r.Volatile)
	if r != nil && len(r.Except) > 0 {
		ev.except = r.Except
		for _, room := range r.Except {
			if ch, err := roomChannel(n.prefix, room); err == nil {
				ev.exceptChannels = append(ev.exceptChannels, ch)
			}
		}
	}
	return ev
}

func orNull(d json.RawMessage) json.RawMessage {
	if len(d) == 0 {
		return json.RawMessage("null")
	}
	return d
}
