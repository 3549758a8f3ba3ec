package record

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func samples() []*Publication {
	return []*Publication{
		{Channel: "news"},
		{Channel: "chat:lobby", Offset: 42, Epoch: "a1b2c3d4", Time: 1767225600123, Data: json.RawMessage(`{"text":"hi"}`)},
		{Channel: "c", Offset: 1, Data: json.RawMessage(`null`), Info: &ClientInfo{}},
		{Channel: "#alice", Offset: 1 << 40, Time: -1, Data: json.RawMessage(`[1,2,3]`),
			Info: &ClientInfo{Client: "n1-7", User: "alice", Info: json.RawMessage(`{"name":"Alice"}`)}},
		{Channel: "rooms", Offset: 9, Data: json.RawMessage(`"x"`), Ext: RawExtension{Kind: ExtSocketIO, Value: []byte{1, 2, 3}}},
		{Channel: "rooms", Ext: RawExtension{Kind: 77}},
	}
}

func TestRoundTrip(t *testing.T) {
	for _, p := range samples() {
		b, err := p.AppendBinary(nil)
		if err != nil {
			t.Fatalf("%+v: %v", p, err)
		}
		if b[0] != Version {
			t.Fatalf("version byte %d", b[0])
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("%+v: %v", p, err)
		}
		if !reflect.DeepEqual(got, p) {
			t.Fatalf("decoded %+v, want %+v", got, p)
		}
		again, _ := got.AppendBinary(nil)
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoded %x, want %x", again, b)
		}
	}
}

// The layout is a protocol buffer after the version byte: a fixed record
// has fixed bytes, which docs/record.md shows.
func TestEncodingIsTheDocumentedLayout(t *testing.T) {
	p := &Publication{Channel: "news", Offset: 3, Epoch: "e1", Time: 1000, Data: json.RawMessage(`1`),
		Info: &ClientInfo{Client: "c", User: "u"}}
	b, _ := p.AppendBinary(nil)
	want := []byte{0x01, // version
		0x0a, 4, 'n', 'e', 'w', 's', // 1: channel
		0x10, 3, // 2: offset
		0x1a, 2, 'e', '1', // 3: epoch
		0x20, 0xe8, 0x07, // 4: time
		0x2a, 1, '1', // 5: data
		0x32, 6, 0x0a, 1, 'c', 0x12, 1, 'u', // 6: info {1: client, 2: user}
	}
	if !bytes.Equal(b, want) {
		t.Fatalf("got  %x\nwant %x", b, want)
	}
}

func TestDecodeRefusesWhatItCannotReencode(t *testing.T) {
	valid, _ := (&Publication{Channel: "news", Offset: 3}).AppendBinary(nil)
	cases := map[string][]byte{
		"empty":                 {},
		"unknown version":       {2, 0x0a, 1, 'x'},
		"no channel":            {1},
		"truncated length":      {1, 0x0a, 9, 'x'},
		"fields out of order":   {1, 0x10, 3, 0x0a, 1, 'x'},
		"field twice":           {1, 0x0a, 1, 'x', 0x0a, 1, 'y'},
		"zero offset":           {1, 0x0a, 1, 'x', 0x10, 0},
		"empty epoch":           {1, 0x0a, 1, 'x', 0x1a, 0},
		"overlong varint":       {1, 0x0a, 1, 'x', 0x10, 0x83, 0x00},
		"overlong tag":          {1, 0x8a, 0x00, 1, 'x'},
		"wrong wire type":       {1, 0x08, 1},
		"unknown field":         {1, 0x0a, 1, 'x', 0x78, 1},
		"invalid JSON":          {1, 0x0a, 1, 'x', 0x2a, 1, '{'},
		"bad UTF-8 channel":     {1, 0x0a, 1, 0xff},
		"ext without kind":      {1, 0x0a, 1, 'x', 0x3a, 0},
		"ext kind past 32 bits": {1, 0x0a, 1, 'x', 0x3a, 6, 0x08, 0x81, 0x80, 0x80, 0x80, 0x10},
		"bad info field":        {1, 0x0a, 1, 'x', 0x32, 2, 0x08, 1},
		"trailing garbage":      append(append([]byte{}, valid...), 0xff),
	}
	for name, b := range cases {
		if p, err := Decode(b); err == nil {
			t.Errorf("%s: decoded %+v, want an error", name, p)
		} else if !strings.HasPrefix(err.Error(), "record: ") {
			t.Errorf("%s: error %q does not say where it comes from", name, err)
		}
	}
}

// The encoder refuses what the decoder would: what one node writes, every
// node reads.
func TestAppendBinaryRefusesWhatDecodeWould(t *testing.T) {
	for name, p := range map[string]*Publication{
		"an extension without a kind": {Channel: "x", Ext: RawExtension{}},
		"no channel":                  {},
		"data that is not JSON":       {Channel: "x", Data: json.RawMessage(`{`)},
		"a name that is not UTF-8":    {Channel: "x", Info: &ClientInfo{User: "\xff"}},
	} {
		if b, err := p.AppendBinary(nil); err == nil {
			t.Errorf("%s: encoded as %x", name, b)
		}
	}
}
