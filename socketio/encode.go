package socketio

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/hub"
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
	// rooms are the namespace's rooms of a broadcast to several channels
	// (Publication.Channels), decoded once for every socket's dedupe.
	rooms []string
	// numbered is the event as recovery sends it, with its offset.
	numbered numbering
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

// encodeMessage is the namespace's form of a hub message; nil when
// Socket.IO sockets do not receive this kind.
func (n *Namespace) encodeMessage(m *hub.Message) any {
	p := m.Pub
	if p == nil || (m.Kind != hub.KindPublication && m.Kind != hub.KindPush) {
		return (*encodedEvent)(nil)
	}
	event := p.Event
	if event == "" {
		event = "message"
	}
	var a sioproto.Args
	a.String(event)
	if p.Args != nil {
		for _, arg := range p.Args {
			a.Raw(arg)
		}
	} else {
		a.Raw(orNull(p.Data))
	}
	pkt := a.Packet(sioproto.Event, n.name)
	pkt.Attachments = p.Attachments // placeholders in p.Args refer to them
	text, err := sioproto.AppendPacket(nil, pkt)
	if err != nil {
		n.srv.backend.Logger().Error("socket.io: encoding a publication", "channel", p.Channel, "err", err)
		return (*encodedEvent)(nil)
	}
	ev := newEncodedEvent(text, p.Attachments, p.Volatile)
	if len(p.Channels) > 1 {
		ev.rooms = make([]string, len(p.Channels))
		for i, ch := range p.Channels {
			ev.rooms[i], _ = channelRoom(n.prefix, ch) // "" for another namespace's channel
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

// format is the hub encoding key of the namespace's packets.
func (n *Namespace) format() hub.Format {
	return hub.Format{Kind: hub.FormatSocketIO, Namespace: n.name}
}
