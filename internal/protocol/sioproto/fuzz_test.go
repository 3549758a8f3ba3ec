package sioproto

import (
	"bytes"
	"errors"
	"testing"
)

// decodeErrors are the only errors the decoder may return.
var decodeErrors = []error{
	ErrUnknownType, ErrBadAttachments, ErrTooManyAttachments, ErrAttachmentsTooLarge, ErrBadNamespace, ErrBadID,
	ErrInvalidJSON, ErrInvalidPayload, ErrReservedEvent, ErrBadPlaceholder,
	ErrUnexpectedBinary, ErrUnexpectedText,
}

// splitFuzzFrames turns fuzz input into frames: frames are separated by
// 0x00 and a frame starting with 0x01 is binary (without that byte). This
// lets the fuzzer interleave text and binary frames freely.
func splitFuzzFrames(in []byte) []frame {
	var out []frame
	for _, f := range bytes.Split(in, []byte{0}) {
		if len(f) > 0 && f[0] == 1 {
			out = append(out, frame{data: f[1:], binary: true})
		} else {
			out = append(out, frame{data: f})
		}
	}
	return out
}

// joinFuzzFrames is the inverse of splitFuzzFrames, for seeds.
func joinFuzzFrames(frames ...frame) []byte {
	var b []byte
	for i, f := range frames {
		if i > 0 {
			b = append(b, 0)
		}
		if f.binary {
			b = append(b, 1)
		}
		b = append(b, f.data...)
	}
	return b
}

// FuzzDecoder feeds interleaved text and binary frames to a Decoder and
// checks that it never panics, only fails with documented errors, and that
// every packet it accepts survives encode -> decode unchanged, with a
// canonical encoding.
func FuzzDecoder(f *testing.F) {
	seeds := [][]frame{
		{txt(`0`)}, {txt(`0{"token":"x"}`)}, {txt(`0/admin,{"sid":"abc"}`)}, {txt(`1/admin,`)},
		{txt(`2["hello",1]`)}, {txt(`2/admin,["a"]`)}, {txt(`21["ack-me"]`)}, {txt(`3/admin,13[true]`)},
		{txt(`4{"message":"Invalid namespace"}`)}, {txt(`4"x"`)},
		{txt(`51-["bin",{"_placeholder":true,"num":0}]`), bin(1, 2, 3, 4)},
		{txt(`52-/admin,7["b",{"x":{"_placeholder":true,"num":1}},{"_placeholder":true,"num":0}]`), bin(1), bin(2)},
		{txt(`61-15["bar",{"_placeholder":true,"num":0}]`), bin(9), txt(`2["next"]`)},
		{txt(`50-["a"]`), bin(1)}, {bin(1)}, {txt(`2["connect"]`)}, {txt(`2["\u0063onnect"]`)},
		{txt(`2/admin["a"]`)}, {txt(`218446744073709551616["a"]`)}, {txt(`5-["a"]`)},
		{txt(`51-["a",{"_placeholder":true,"num":1}]`)}, {txt(`2 ["a"] `)}, {txt(`1/x`)},
	}
	for _, s := range seeds {
		f.Add(joinFuzzFrames(s...))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		d := NewDecoder(Limits{MaxAttachments: 4, MaxAttachmentBytes: 64})
		for _, fr := range splitFuzzFrames(in) {
			p, done, err := d.Add(fr.data, fr.binary)
			if err != nil {
				known := false
				for _, e := range decodeErrors {
					known = known || errors.Is(err, e)
				}
				if !known {
					t.Fatalf("undocumented error %v", err)
				}
				continue
			}
			if done {
				checkRoundTrip(t, p)
			}
		}
	})
}

// checkRoundTrip re-encodes an accepted packet, decodes it again and
// requires the same packet and the same encoding.
func checkRoundTrip(t *testing.T, p Packet) {
	t.Helper()
	text, atts, err := Encode(p)
	if err != nil {
		t.Fatalf("re-encoding accepted packet %+v: %v", p, err)
	}
	frames := []frame{{data: text}}
	for _, a := range atts {
		frames = append(frames, frame{data: a, binary: true})
	}
	got, err := feed(NewDecoder(Limits{MaxAttachments: 4}), frames...)
	if err != nil || len(got) != 1 {
		t.Fatalf("re-decoding %q: %v (%d packets)", text, err, len(got))
	}
	if err := samePacket(got[0], p); err != nil {
		t.Fatalf("round trip of %q changed the packet: %v", text, err)
	}
	text2, _, _ := Encode(got[0])
	if !bytes.Equal(text, text2) {
		t.Fatalf("encoding not canonical: %q vs %q", text, text2)
	}
	// The accessors must not panic and must agree with the decoder.
	switch p.Type {
	case Event:
		if _, err := p.EventName(); err != nil {
			t.Fatalf("EventName on accepted event: %v", err)
		}
		fallthrough
	case Ack:
		if _, err := p.Args(); err != nil {
			t.Fatalf("Args on accepted packet: %v", err)
		}
		if _, err := p.Values(); err != nil {
			t.Fatalf("Values on accepted packet %q: %v", text, err)
		}
	}
}

// FuzzPacketAccessors hands arbitrary, unvalidated payloads to the
// accessors, as server code building packets by hand might: they may fail
// but must neither panic nor hang.
func FuzzPacketAccessors(f *testing.F) {
	for _, s := range []string{
		`["a",{"_placeholder":true,"num":0}]`, `["`, `[}`, `[1,}`, `{"a":[}`, `["\"]`, `[{"_placeholder":true,"num":`, ``,
	} {
		f.Add([]byte(s), uint8(1))
	}
	f.Fuzz(func(t *testing.T, data []byte, natt uint8) {
		atts := make([][]byte, natt%4)
		for i := range atts {
			atts[i] = []byte{byte(i)}
		}
		for _, typ := range []PacketType{Event, Ack} {
			p := Packet{Type: typ, Data: data, Attachments: atts}
			_, _ = p.EventName()
			_, _ = p.Args()
			_, _ = p.Values()
			_, _, _ = Encode(p)
		}
	})
}
