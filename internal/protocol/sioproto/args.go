package sioproto

import (
	"encoding/json"
	"strconv"
)

// Args builds the JSON array payload of an EVENT or ACK, extracting binary
// values into attachments as it goes. For an EVENT the first value must be
// the event name:
//
//	var a socketio.Args
//	a.String("upload")
//	a.Bytes(file)          // becomes {"_placeholder":true,"num":0}
//	p := a.Packet(socketio.Event, "/")
//
// Reset lets one builder serve many packets without reallocating. The zero
// value is an empty argument list.
type Args struct {
	buf  []byte // always a complete JSON array, see open
	bins [][]byte
	n    int
}

// Reset empties the builder, keeping its buffers. Slices previously
// returned by JSON or Attachments must no longer be used.
func (a *Args) Reset() {
	a.buf = a.buf[:0]
	clear(a.bins)
	a.bins = a.bins[:0]
	a.n = 0
}

// open prepares buf for one more element. The buffer is kept closed with
// "]" between calls so JSON never needs to copy.
func (a *Args) open() {
	if len(a.buf) == 0 {
		a.buf = append(a.buf, '[')
	} else {
		a.buf = a.buf[:len(a.buf)-1] // drop "]"
		if a.n > 0 {
			a.buf = append(a.buf, ',')
		}
	}
	a.n++
}

// close restores the trailing "]".
func (a *Args) close() { a.buf = append(a.buf, ']') }

// String appends a string value.
func (a *Args) String(s string) {
	a.open()
	a.buf = appendJSONString(a.buf, s)
	a.close()
}

// Int appends an integer value.
func (a *Args) Int(v int64) {
	a.open()
	a.buf = strconv.AppendInt(a.buf, v, 10)
	a.close()
}

// Uint appends an unsigned integer value.
func (a *Args) Uint(v uint64) {
	a.open()
	a.buf = strconv.AppendUint(a.buf, v, 10)
	a.close()
}

// Float appends a number formatted like JSON.stringify; NaN and infinities
// become null, as in JavaScript.
func (a *Args) Float(v float64) {
	a.open()
	a.buf = appendFloat(a.buf, v)
	a.close()
}

// Bool appends a boolean value.
func (a *Args) Bool(v bool) {
	a.open()
	a.buf = strconv.AppendBool(a.buf, v)
	a.close()
}

// Null appends null.
func (a *Args) Null() {
	a.open()
	a.buf = append(a.buf, "null"...)
	a.close()
}

// Raw appends an already-encoded JSON value verbatim; it must be valid
// JSON. An empty value is written as null.
func (a *Args) Raw(v json.RawMessage) {
	a.open()
	a.buf = appendRaw(a.buf, v)
	a.close()
}

// Bytes appends a binary value: a placeholder in the JSON and b as the
// next attachment. b is kept, not copied.
func (a *Args) Bytes(b []byte) {
	a.open()
	a.buf = a.appendPlaceholder(a.buf, b)
	a.close()
}

// Value appends an arbitrary Go value. []byte anywhere inside nil, []any
// and map[string]any trees (the shapes Packet.Values returns) becomes a
// placeholder plus an attachment; other values go through encoding/json
// without HTML escaping, so []byte nested in structs is base64 text there.
// On error the builder is unchanged.
func (a *Args) Value(v any) error {
	mark, bins, n := len(a.buf), len(a.bins), a.n
	a.open()
	buf, err := a.appendValue(a.buf, v, 0)
	if err != nil {
		if mark == 0 {
			a.buf = a.buf[:0]
		} else {
			a.buf = append(a.buf[:mark-1], ']')
		}
		clear(a.bins[bins:])
		a.bins, a.n = a.bins[:bins], n
		return err
	}
	a.buf = buf
	a.close()
	return nil
}

// Len returns the number of values appended.
func (a *Args) Len() int { return a.n }

// JSON returns the payload array. It aliases the builder and is valid
// until the next modifying call.
func (a *Args) JSON() json.RawMessage {
	if len(a.buf) == 0 {
		return json.RawMessage("[]")
	}
	return a.buf
}

// Attachments returns the binary values extracted so far, in placeholder
// order; nil when there are none.
func (a *Args) Attachments() [][]byte {
	if len(a.bins) == 0 {
		return nil
	}
	return a.bins
}

// Packet returns a packet of type t (Event or Ack) in namespace nsp
// carrying the built payload and attachments. It aliases the builder.
func (a *Args) Packet(t PacketType, nsp string) Packet {
	return Packet{Type: t, Namespace: nsp, Data: a.JSON(), Attachments: a.Attachments()}
}

// appendPlaceholder writes the placeholder for the next attachment,
// byte-identical to the reference's JSON.stringify of it.
func (a *Args) appendPlaceholder(dst, b []byte) []byte {
	if b == nil {
		b = []byte{}
	}
	dst = append(dst, `{"_placeholder":true,"num":`...)
	dst = strconv.AppendInt(dst, int64(len(a.bins)), 10)
	a.bins = append(a.bins, b)
	return append(dst, '}')
}
