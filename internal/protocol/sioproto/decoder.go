package sioproto

import "math"

// DefaultMaxAttachments is the attachment cap used when none is given:
// generous, since the reference has none, but a bound all the same on
// the attachments a peer may keep the decoder collecting.
const DefaultMaxAttachments = 1000

// Limits bound what one binary packet may make a decoder buffer before
// the packet is complete.
type Limits struct {
	// MaxAttachments caps the attachments a packet may announce; <= 0
	// means DefaultMaxAttachments.
	MaxAttachments int
	// MaxAttachmentBytes caps the bytes of a packet's attachments
	// together; <= 0 means no cap beyond each frame's own.
	MaxAttachmentBytes int
}

// Decoder reassembles Socket.IO packets from the Engine.IO message frames
// of one connection, fed in arrival order. It is not safe for concurrent
// use; each connection needs its own.
//
// The decoder keeps references to the frames it is given (decoded packets
// alias them), so callers must not recycle a frame's memory while a packet
// built from it is in use.
//
// After any error the decoder drops its partial state and can be reused,
// but the peer has broken the protocol and the reference closes the
// connection at this point.
//
// The zero value is ready to use with DefaultMaxAttachments and no byte
// cap.
type Decoder struct {
	// The limits are 32 bits: a server holds a decoder per connection.
	maxAttachments, maxBytes int32
	pending                  *pendingPacket // nil when none, so an idle decoder is small
	lastNS                   string         // last namespace seen, see intern
}

// pendingPacket is a binary packet waiting for its attachments.
type pendingPacket struct {
	Packet
	want int // attachments still expected
	room int // bytes they may still take; negative when uncapped
}

// NewDecoder returns a decoder that refuses binary packets over limits.
func NewDecoder(limits Limits) *Decoder {
	clamp := func(n int) int32 { return int32(min(max(n, 0), math.MaxInt32)) }
	return &Decoder{maxAttachments: clamp(limits.MaxAttachments), maxBytes: clamp(limits.MaxAttachmentBytes)}
}

// Add feeds one frame; binary tells whether it was a binary message. It is
// AddBinary or AddText accordingly.
func (d *Decoder) Add(frame []byte, binary bool) (p Packet, done bool, err error) {
	if binary {
		return d.AddBinary(frame)
	}
	return d.AddText(frame)
}

// AddText feeds a text frame. done is true when p is a complete packet; it
// is false, with no error, when p is a binary packet now waiting for its
// attachments.
func (d *Decoder) AddText(frame []byte) (p Packet, done bool, err error) {
	if d.pending != nil {
		d.Reset()
		return Packet{}, false, ErrUnexpectedText
	}
	p, n, err := d.parseText(frame)
	if err != nil {
		return Packet{}, false, err
	}
	if !p.Type.isBinary() {
		return p, true, nil
	}
	// Report binary packets under their plain type, as the reference does.
	if p.Type == BinaryEvent {
		p.Type = Event
	} else {
		p.Type = Ack
	}
	if n == 0 {
		return p, true, nil
	}
	// A few slots up front; a long list grows as its frames arrive.
	p.Attachments = make([][]byte, 0, min(n, 16))
	room := -1
	if d.maxBytes > 0 {
		room = int(d.maxBytes)
	}
	d.pending = &pendingPacket{Packet: p, want: n, room: room}
	return Packet{}, false, nil
}

// AddBinary feeds a binary frame, which must be the next attachment of the
// pending binary packet. done is true once the last attachment arrived.
func (d *Decoder) AddBinary(frame []byte) (p Packet, done bool, err error) {
	pp := d.pending
	if pp == nil {
		return Packet{}, false, ErrUnexpectedBinary
	}
	if pp.room >= 0 {
		if len(frame) > pp.room {
			d.Reset()
			return Packet{}, false, ErrAttachmentsTooLarge
		}
		pp.room -= len(frame)
	}
	if frame == nil {
		// Keep attachments non-nil so Arg.Binary != nil identifies them.
		frame = []byte{}
	}
	pp.Attachments = append(pp.Attachments, frame)
	pp.want--
	if pp.want > 0 {
		return Packet{}, false, nil
	}
	d.pending = nil
	return pp.Packet, true, nil
}

// Pending reports whether a binary packet is waiting for attachments.
func (d *Decoder) Pending() bool { return d.pending != nil }

// Reset drops any partially received binary packet.
func (d *Decoder) Reset() { d.pending = nil }
