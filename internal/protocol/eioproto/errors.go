package eioproto

import (
	"errors"
	"fmt"
)

// Decoding errors. They are sentinels so a server can map them with
// errors.Is: ErrPayloadTooLarge to HTTP 413, everything else to HTTP 400
// (which is what the reference does for oversized and malformed bodies).
var (
	// ErrBadPacket reports a malformed packet: empty, unknown type digit,
	// invalid base64, text that is not UTF-8, or a packet that cannot be
	// represented in the requested framing.
	ErrBadPacket = errors.New("engineio: bad packet")
	// ErrPayloadTooLarge reports a polling payload larger than the
	// caller's limit. It is checked before any parsing so an oversized body
	// costs no work.
	ErrPayloadTooLarge = errors.New("engineio: payload too large")
)

// Detailed variants, built once so that returning them never allocates on a
// hot error path (a hostile client can make every request fail).
var (
	errEmptyPacket     = fmt.Errorf("%w: empty packet", ErrBadPacket)
	errUnknownType     = fmt.Errorf("%w: unknown packet type", ErrBadPacket)
	errBadBase64       = fmt.Errorf("%w: invalid base64 data", ErrBadPacket)
	errInvalidUTF8     = fmt.Errorf("%w: text data is not valid UTF-8", ErrBadPacket)
	errBinaryNotMsg    = fmt.Errorf("%w: only message packets can carry binary data", ErrBadPacket)
	errSeparatorInText = fmt.Errorf("%w: text data contains the record separator 0x1e", ErrBadPacket)
)
