package sioproto

import "math"

// DefaultMaxAttachments is the attachment cap used when none is given. The
// reference has no cap, but every announced attachment is a frame the
// server must buffer (up to maxPayload bytes each) before the packet is
// complete, so an unbounded count is a memory amplification vector.
const DefaultMaxAttachments = 10

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
// The zero value is ready to use with DefaultMaxAttachments.
type Decoder struct {
	// maxAttachments and want are 32 bits: a server holds a decoder per
	// connection, and n is at most maxAttachments.
	maxAttachments int32
	want           int32   // attachments still expected by pending
	pending        *Packet // binary packet waiting for attachments; nil when none, so an idle decoder is small
	lastNS         string  // last namespace seen, see intern
}

// NewDecoder returns a decoder that refuses binary packets announcing more
// than maxAttachments attachments; maxAttachments <= 0 selects
// DefaultMaxAttachments.
func NewDecoder(maxAttachments int) *Decoder {
	return &Decoder{maxAttachments: int32(min(maxAttachments, math.MaxInt32))}
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
	if d.want > 0 {
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
	p.Attachments = make([][]byte, 0, n)
	pending := p // not &p: p is the named result the return below resets
	d.pending, d.want = &pending, int32(n)
	return Packet{}, false, nil
}

// AddBinary feeds a binary frame, which must be the next attachment of the
// pending binary packet. done is true once the last attachment arrived.
func (d *Decoder) AddBinary(frame []byte) (p Packet, done bool, err error) {
	if d.want == 0 {
		return Packet{}, false, ErrUnexpectedBinary
	}
	if frame == nil {
		// Keep attachments non-nil so Arg.Binary != nil identifies them.
		frame = []byte{}
	}
	d.pending.Attachments = append(d.pending.Attachments, frame)
	d.want--
	if d.want > 0 {
		return Packet{}, false, nil
	}
	p = *d.pending
	d.pending = nil
	return p, true, nil
}

// Pending reports whether a binary packet is waiting for attachments.
func (d *Decoder) Pending() bool { return d.want > 0 }

// Reset drops any partially received binary packet.
func (d *Decoder) Reset() {
	d.pending = nil
	d.want = 0
}
