package sioproto

import (
	"strconv"
	"strings"
)

// AppendPacket appends the text frame of p to dst. The frame must be sent
// as an Engine.IO message, followed by one binary message per element of
// p.Attachments, in order.
//
// An Event or Ack with attachments is written as BINARY_EVENT or
// BINARY_ACK. The payload is written as given: the encoder trusts server
// code to supply valid JSON of the right kind (see Args), which keeps the
// hot path to a few appends. On error dst is returned unchanged.
func AppendPacket(dst []byte, p Packet) ([]byte, error) {
	t := p.wireType()
	if !t.Valid() {
		return dst, ErrUnknownType
	}
	if len(p.Attachments) > 0 && !t.isBinary() {
		return dst, errAttachmentsType
	}
	if err := checkNamespace(p.Namespace); err != nil {
		return dst, err
	}
	dst = append(dst, '0'+byte(t))
	if t.isBinary() {
		dst = strconv.AppendInt(dst, int64(len(p.Attachments)), 10)
		dst = append(dst, '-')
	}
	dst = appendNamespace(dst, p.Namespace)
	if p.HasID {
		dst = strconv.AppendUint(dst, p.ID, 10)
	}
	return append(dst, p.Data...), nil
}

// Encode returns the frames for p: the text frame and the attachments to
// send after it as binary frames (p.Attachments itself, not a copy).
func Encode(p Packet) (text []byte, attachments [][]byte, err error) {
	text, err = AppendPacket(make([]byte, 0, 16+len(p.Namespace)+len(p.Data)), p)
	if err != nil {
		return nil, nil, err
	}
	return text, p.Attachments, nil
}

// checkNamespace rejects namespaces the decoder on the other side would
// misread: one without the leading "/" would be parsed as payload, and a
// comma would end it early.
func checkNamespace(ns string) error {
	if ns == "" || ns == DefaultNamespace {
		return nil
	}
	if ns[0] != '/' || strings.IndexByte(ns, ',') >= 0 {
		return ErrBadNamespace
	}
	return nil
}

// appendNamespace writes "<ns>," unless ns is the main namespace, which
// the protocol leaves implicit.
func appendNamespace(dst []byte, ns string) []byte {
	if ns == "" || ns == DefaultNamespace {
		return dst
	}
	dst = append(dst, ns...)
	return append(dst, ',')
}
