// Package pbwire reads protocol buffers in canonical form only, the form
// its writers produce: fields in increasing number order (a repeated field
// in one run), minimal varints and lengths, no field holding its zero value
// (except repeated elements and embedded messages, whose presence means
// something) and no unknown fields. A message this package accepts
// re-encodes to the very same bytes, which is what lets herald's records
// round-trip byte-exactly. Standard protobuf decoders read these messages
// as they are.
package pbwire

import (
	"fmt"
	"slices"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// Reader walks the fields of one message. The first malformed byte stops
// it; Err says why.
type Reader struct {
	b        []byte
	last     protowire.Number
	repeated []protowire.Number
	num      protowire.Number
	typ      protowire.Type
	err      error
}

// NewReader reads message b; repeated lists the fields that may occur
// more than once (consecutively).
func NewReader(b []byte, repeated ...protowire.Number) *Reader {
	return &Reader{b: b, repeated: repeated}
}

// Next moves to the next field and reports whether there is one.
func (r *Reader) Next() bool {
	if r.err != nil || len(r.b) == 0 {
		return false
	}
	num, typ, n := protowire.ConsumeTag(r.b)
	switch {
	case n < 0:
		r.err = fmt.Errorf("bad field tag: %w", protowire.ParseError(n))
	case n != protowire.SizeTag(num):
		r.err = fmt.Errorf("field %d: tag is not minimally encoded", num)
	case num < r.last, num == r.last && !slices.Contains(r.repeated, num):
		r.err = fmt.Errorf("field %d: out of order or repeated", num)
	}
	if r.err != nil {
		return false
	}
	r.b, r.num, r.typ, r.last = r.b[n:], num, typ, num
	return true
}

// Field is the number of the current field.
func (r *Reader) Field() protowire.Number { return r.num }

// Err is what stopped the reader; nil when it reached the end cleanly.
func (r *Reader) Err() error { return r.err }

// Unknown records that the current field is not one the message has.
func (r *Reader) Unknown() { r.fail("unknown field") }

// Fail stops the reader at the current field, for a reason the caller
// found (an embedded message that did not decode, say).
func (r *Reader) Fail(msg string) { r.fail(msg) }

func (r *Reader) fail(msg string) {
	if r.err == nil {
		r.err = fmt.Errorf("field %d: %s", r.num, msg)
	}
}

func (r *Reader) want(typ protowire.Type) bool {
	if r.err != nil {
		return false
	}
	if r.typ != typ {
		r.fail(fmt.Sprintf("wire type %d, want %d", r.typ, typ))
		return false
	}
	return true
}

// varint reads a minimally encoded varint.
func (r *Reader) varint() (uint64, bool) {
	v, n := protowire.ConsumeVarint(r.b)
	switch {
	case n < 0:
		r.fail(protowire.ParseError(n).Error())
		return 0, false
	case n != protowire.SizeVarint(v):
		r.fail("varint is not minimally encoded")
		return 0, false
	}
	r.b = r.b[n:]
	return v, true
}

// Uint reads a non-zero varint (zero is written by leaving the field out).
func (r *Reader) Uint() uint64 {
	if !r.want(protowire.VarintType) {
		return 0
	}
	v, ok := r.varint()
	if ok && v == 0 {
		r.fail("zero value written out")
	}
	return v
}

// True reads a bool that is only ever written when true.
func (r *Reader) True() bool {
	if v := r.Uint(); v != 1 && r.err == nil {
		r.fail("a bool must be 1")
	}
	return r.err == nil
}

// bytes reads a length-delimited value; empty reports whether an empty
// one is canonical here.
func (r *Reader) bytes(empty bool) []byte {
	if !r.want(protowire.BytesType) {
		return nil
	}
	n, ok := r.varint()
	switch {
	case !ok:
		return nil
	case n > uint64(len(r.b)):
		r.fail("length runs past the end")
		return nil
	case n == 0 && !empty:
		r.fail("empty value written out")
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

// Bytes reads a non-empty bytes field, as a copy.
func (r *Reader) Bytes() []byte { return clone(r.bytes(false)) }

// Element reads one element of a repeated bytes field (it may be empty),
// as a copy.
func (r *Reader) Element() []byte {
	b := r.bytes(true)
	if b == nil && r.err == nil {
		return []byte{}
	}
	return clone(b)
}

// Message reads an embedded message (it may be empty), without copying.
func (r *Reader) Message() ([]byte, bool) {
	b := r.bytes(true)
	return b, r.err == nil
}

// Name reads a non-empty bytes field as a string, without requiring UTF-8
// (for names that Go code may choose freely).
func (r *Reader) Name() string { return string(r.bytes(false)) }

// String reads a non-empty UTF-8 string field.
func (r *Reader) String() string {
	b := r.bytes(false)
	if r.err == nil && !utf8.Valid(b) {
		r.fail("string is not valid UTF-8")
	}
	return string(b)
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

// AppendString appends field num as a string unless s is empty.
func AppendString(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

// AppendBytes appends field num unless v is empty.
func AppendBytes(b []byte, num protowire.Number, v []byte) []byte {
	if len(v) == 0 {
		return b
	}
	return AppendElement(b, num, v)
}

// AppendElement appends one element of a repeated bytes field, even empty.
func AppendElement(b []byte, num protowire.Number, v []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

// AppendUint appends field num unless v is zero.
func AppendUint(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

// AppendTrue appends field num as true when v is.
func AppendTrue(b []byte, num protowire.Number, v bool) []byte {
	if !v {
		return b
	}
	return AppendUint(b, num, 1)
}

// AppendMessage appends field num holding the message that body appends.
func AppendMessage(b []byte, num protowire.Number, body func([]byte) []byte) []byte {
	inner := body(nil)
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, inner)
}
