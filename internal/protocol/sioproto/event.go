package sioproto

import (
	"encoding/json"
	"strconv"
)

// AppendEvent appends the text frame of an EVENT in namespace nsp named
// name, with args as already-encoded JSON values, e.g.
// AppendEvent(nil, "/", "hello", json.RawMessage("1")) gives
// `2["hello",1]`. Building the frame directly avoids assembling a payload
// first, which matters when broadcasting.
//
// The args are copied verbatim and must be valid JSON; a nil or empty arg
// is written as null. Binary arguments need Args instead.
func AppendEvent(dst []byte, nsp, name string, args ...json.RawMessage) ([]byte, error) {
	return appendEvent(dst, nsp, 0, false, name, args)
}

// AppendEventWithID is AppendEvent for an event that expects an
// acknowledgement with the given id, e.g. `21["ack-me"]`.
func AppendEventWithID(dst []byte, nsp string, id uint64, name string, args ...json.RawMessage) ([]byte, error) {
	return appendEvent(dst, nsp, id, true, name, args)
}

// AppendAck appends the text frame of an ACK answering id with args as
// already-encoded JSON values, e.g. `3/admin,13[true]`.
func AppendAck(dst []byte, nsp string, id uint64, args ...json.RawMessage) ([]byte, error) {
	if err := checkNamespace(nsp); err != nil {
		return dst, err
	}
	dst = append(dst, '0'+byte(Ack))
	dst = appendNamespace(dst, nsp)
	dst = strconv.AppendUint(dst, id, 10)
	return appendRawArray(append(dst, '['), args), nil
}

// appendEvent is the shared body of AppendEvent and AppendEventWithID.
func appendEvent(dst []byte, nsp string, id uint64, hasID bool, name string, args []json.RawMessage) ([]byte, error) {
	if err := checkNamespace(nsp); err != nil {
		return dst, err
	}
	dst = append(dst, '0'+byte(Event))
	dst = appendNamespace(dst, nsp)
	if hasID {
		dst = strconv.AppendUint(dst, id, 10)
	}
	dst = appendJSONString(append(dst, '['), name)
	if len(args) > 0 {
		dst = append(dst, ',')
	}
	return appendRawArray(dst, args), nil
}

// appendRawArray appends comma-separated raw values and the closing
// bracket.
func appendRawArray(dst []byte, args []json.RawMessage) []byte {
	for i, a := range args {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendRaw(dst, a)
	}
	return append(dst, ']')
}

// appendRaw writes a raw JSON value, turning "nothing" into null so a
// forgotten value cannot produce `[,]`.
func appendRaw(dst []byte, v json.RawMessage) []byte {
	if len(v) == 0 {
		return append(dst, "null"...)
	}
	return append(dst, v...)
}
