package eioproto

import (
	"bytes"
	"encoding/base64"
	"unicode/utf8"
)

// AppendPacket appends the WebSocket frame for p to dst and reports whether
// it must be sent as a binary frame.
//
// Text packets become the type digit followed by the data ("4hello");
// binary packets are sent as is, because a binary WebSocket frame can only
// be a message packet.
func AppendPacket(dst []byte, p Packet) (frame []byte, binary bool, err error) {
	if !p.Type.Valid() {
		return dst, false, errUnknownType
	}
	if p.Binary {
		if p.Type != Message {
			return dst, false, errBinaryNotMsg
		}
		return append(dst, p.Data...), true, nil
	}
	dst = append(dst, p.Type.digit())
	return append(dst, p.Data...), false, nil
}

// DecodePacket decodes one WebSocket frame. binary tells whether the frame
// arrived as a binary frame. The returned Data aliases frame.
func DecodePacket(frame []byte, binary bool) (Packet, error) {
	if binary {
		return Packet{Type: Message, Data: frame, Binary: true}, nil
	}
	return decodeText(frame)
}

// decodeText decodes the text form shared by WebSocket text frames and
// polling payload entries. Like the reference parser it honours the "b"
// base64 prefix in both places, even though clients only use it for
// polling.
func decodeText(s []byte) (Packet, error) {
	if len(s) == 0 {
		return Packet{}, errEmptyPacket
	}
	c := s[0]
	if c == 'b' {
		data, err := decodeBase64(s[1:])
		if err != nil {
			return Packet{}, err
		}
		return Packet{Type: Message, Data: data, Binary: true}, nil
	}
	if c < '0' || c > '0'+byte(Noop) {
		return Packet{}, errUnknownType
	}
	// Text must be UTF-8. The reference never sees invalid text (Node
	// decodes bodies with replacement characters), but here raw bytes flow
	// on, and a server relaying them in a WebSocket text frame would get
	// every receiving browser disconnected. Real clients only send UTF-8.
	if !utf8.Valid(s[1:]) {
		return Packet{}, errInvalidUTF8
	}
	p := Packet{Type: PacketType(c - '0')}
	if len(s) > 1 {
		p.Data = s[1:]
	}
	return p, nil
}

// b64 is strict so every accepted payload has exactly one encoding; that
// keeps decode/encode round trips byte-stable and refuses the sloppy
// encodings no real client produces.
var b64 = base64.StdEncoding.Strict()

// decodeBase64 decodes src into a fresh slice (never nil, so an empty
// binary message stays distinguishable from "no data").
func decodeBase64(src []byte) ([]byte, error) {
	// The standard decoder silently skips CR and LF; no client emits them,
	// so treat them as corruption rather than guess.
	if bytes.IndexAny(src, "\r\n") >= 0 {
		return nil, errBadBase64
	}
	dst := make([]byte, 0, b64.DecodedLen(len(src)))
	dst, err := b64.AppendDecode(dst, src)
	if err != nil {
		return nil, errBadBase64
	}
	return dst, nil
}
