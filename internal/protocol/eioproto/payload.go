package eioproto

import "bytes"

// Separator is the record separator (0x1e) that joins packets in an HTTP
// long-polling payload. The protocol assumes it never occurs in text data;
// JSON text produced by Socket.IO always escapes it.
const Separator byte = 0x1e

// PayloadBuilder assembles an HTTP long-polling response body. Reusing one
// builder (Reset between responses) lets a server encode payloads without
// allocating per packet or per response.
//
// The zero value is ready to use.
type PayloadBuilder struct {
	buf []byte
	n   int
}

// Reset empties the builder but keeps its buffer for reuse.
func (b *PayloadBuilder) Reset() {
	b.buf = b.buf[:0]
	b.n = 0
}

// Add appends p to the payload. It fails without modifying the builder if p
// cannot be encoded: an invalid type, binary data on a non-message packet,
// or text data containing the separator (which would let the data forge
// extra packets on the client).
func (b *PayloadBuilder) Add(p Packet) error {
	if err := checkPayloadPacket(p); err != nil {
		return err
	}
	if b.n > 0 {
		b.buf = append(b.buf, Separator)
	}
	b.buf = appendPayloadPacket(b.buf, p)
	b.n++
	return nil
}

// Bytes returns the payload built so far. It aliases the builder's buffer
// and is valid until the next Add or Reset.
func (b *PayloadBuilder) Bytes() []byte { return b.buf }

// Len returns the size in bytes of the payload built so far.
func (b *PayloadBuilder) Len() int { return len(b.buf) }

// Count returns the number of packets added since the last Reset.
func (b *PayloadBuilder) Count() int { return b.n }

// EncodedLen returns how many bytes p would add to a payload, excluding the
// separator. Servers can use it to stop adding packets before a response
// grows past a size budget.
func EncodedLen(p Packet) int {
	if p.Binary {
		return 1 + b64.EncodedLen(len(p.Data))
	}
	return 1 + len(p.Data)
}

// AppendPayload appends the polling payload made of packets to dst. On
// error dst is returned unchanged.
func AppendPayload(dst []byte, packets ...Packet) ([]byte, error) {
	for _, p := range packets {
		if err := checkPayloadPacket(p); err != nil {
			return dst, err
		}
	}
	for i, p := range packets {
		if i > 0 {
			dst = append(dst, Separator)
		}
		dst = appendPayloadPacket(dst, p)
	}
	return dst, nil
}

// checkPayloadPacket validates p for the polling framing.
func checkPayloadPacket(p Packet) error {
	if !p.Type.Valid() {
		return errUnknownType
	}
	if p.Binary {
		if p.Type != Message {
			return errBinaryNotMsg
		}
		return nil
	}
	if bytes.IndexByte(p.Data, Separator) >= 0 {
		return errSeparatorInText
	}
	return nil
}

// appendPayloadPacket writes one already-validated packet.
func appendPayloadPacket(dst []byte, p Packet) []byte {
	if p.Binary {
		// Engine.IO v4 always base64-encodes binary in polling payloads, so
		// the "b" prefix replaces the type digit (it is always a message).
		dst = append(dst, 'b')
		return b64.AppendEncode(dst, p.Data)
	}
	dst = append(dst, p.Type.digit())
	return append(dst, p.Data...)
}

// DecodePayload decodes an HTTP long-polling request body.
//
// maxSize is the largest body accepted (the server's maxHttpBufferSize);
// zero or negative disables the check. An over-limit body yields
// ErrPayloadTooLarge, any malformed packet ErrBadPacket. Decoding is
// all-or-nothing: on error no packets are returned, so a server never acts
// on half of a corrupt request.
//
// Text packet data aliases body; binary data is freshly allocated.
func DecodePayload(body []byte, maxSize int) ([]Packet, error) {
	packets, err := DecodePayloadTo(nil, body, maxSize)
	if err != nil {
		return nil, err
	}
	return packets, nil
}

// DecodePayloadTo is DecodePayload appending to dst, so a server can reuse
// one packet slice across requests. On error it returns dst unchanged.
func DecodePayloadTo(dst []Packet, body []byte, maxSize int) ([]Packet, error) {
	if maxSize > 0 && len(body) > maxSize {
		return dst, ErrPayloadTooLarge
	}
	start := len(dst)
	rest := body
	for {
		// An empty body splits into one empty packet, which is rejected
		// like any other empty entry (the reference does the same).
		seg := rest
		i := bytes.IndexByte(rest, Separator)
		if i >= 0 {
			seg = rest[:i]
		}
		p, err := decodeText(seg)
		if err != nil {
			clear(dst[start:])
			return dst[:start], err
		}
		dst = append(dst, p)
		if i < 0 {
			return dst, nil
		}
		rest = rest[i+1:]
	}
}
