package eioproto

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzDecodePayload checks that arbitrary polling bodies never panic, fail
// only with the documented errors, and that accepted bodies survive
// decode -> encode -> decode unchanged (with a canonical re-encoding).
func FuzzDecodePayload(f *testing.F) {
	for _, s := range []string{
		"4hello\x1e2\x1e4world",
		"4hello\x1ebAQIDBA==",
		"b",
		"0{\"sid\":\"x\",\"upgrades\":[],\"pingInterval\":1,\"pingTimeout\":1,\"maxPayload\":1}",
		"42[\"hello\"]\x1e42[\"world\"]",
		"451-[\"bin\",{\"_placeholder\":true,\"num\":0}]\x1ebAQ==",
		"",
		"\x1e",
		"7",
		"b!",
		"bAR==",
		"6\x1e5\x1e3probe",
	} {
		f.Add([]byte(s))
	}
	const max = 1 << 16
	f.Fuzz(func(t *testing.T, body []byte) {
		packets, err := DecodePayload(body, max)
		if err != nil {
			if !errors.Is(err, ErrBadPacket) && !errors.Is(err, ErrPayloadTooLarge) {
				t.Fatalf("undocumented error %v", err)
			}
			if packets != nil {
				t.Fatalf("packets returned with error")
			}
			return
		}
		if len(packets) == 0 {
			t.Fatal("accepted body decoded to no packets")
		}
		enc, err := AppendPayload(nil, packets...)
		if err != nil {
			t.Fatalf("re-encoding accepted packets: %v", err)
		}
		again, err := DecodePayload(enc, 0)
		if err != nil {
			t.Fatalf("re-decoding %q: %v", enc, err)
		}
		if len(again) != len(packets) {
			t.Fatalf("round trip changed packet count %d -> %d", len(packets), len(again))
		}
		for i := range packets {
			if !packetEqual(packets[i], again[i]) {
				t.Fatalf("packet %d changed: %+v -> %+v", i, packets[i], again[i])
			}
		}
		enc2, _ := AppendPayload(nil, again...)
		if !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding not canonical: %q vs %q", enc, enc2)
		}
		// Each packet must also survive the WebSocket framing.
		for _, p := range packets {
			frame, bin, err := AppendPacket(nil, p)
			if err != nil {
				t.Fatalf("AppendPacket(%+v): %v", p, err)
			}
			back, err := DecodePacket(frame, bin)
			if err != nil || !packetEqual(back, p) {
				t.Fatalf("websocket round trip %+v -> %+v, %v", p, back, err)
			}
		}
	})
}
