package eioproto

import (
	"errors"
	"strings"
	"testing"
)

func TestAppendPayload(t *testing.T) {
	tests := []struct {
		name    string
		packets []Packet
		want    string
	}{
		{"spec example", []Packet{
			{Type: Message, Data: []byte("hello")},
			{Type: Ping},
			{Type: Message, Data: []byte("world")},
		}, "4hello\x1e2\x1e4world"},
		{"binary", []Packet{
			{Type: Message, Data: []byte("hello")},
			{Type: Message, Data: []byte{1, 2, 3, 4}, Binary: true},
		}, "4hello\x1ebAQIDBA=="},
		{"empty binary", []Packet{{Type: Message, Data: []byte{}, Binary: true}}, "b"},
		{"noop", []Packet{{Type: Noop}}, "6"},
		{"socket.io frames", []Packet{
			{Type: Message, Data: []byte(`2["hello"]`)},
			{Type: Message, Data: []byte(`2["world"]`)},
		}, "42[\"hello\"]\x1e42[\"world\"]"},
		{"none", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := AppendPayload(nil, tt.packets...)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("AppendPayload = %q, want %q", got, tt.want)
			}
			var b PayloadBuilder
			for _, p := range tt.packets {
				if err := b.Add(p); err != nil {
					t.Fatal(err)
				}
			}
			if string(b.Bytes()) != tt.want || b.Count() != len(tt.packets) || b.Len() != len(tt.want) {
				t.Errorf("builder = %q (count %d), want %q", b.Bytes(), b.Count(), tt.want)
			}
			n := -1
			for _, p := range tt.packets {
				n += 1 + EncodedLen(p)
			}
			if len(tt.packets) > 0 && n != len(tt.want) {
				t.Errorf("sum of EncodedLen = %d, want %d", n, len(tt.want))
			}
		})
	}
}

func TestAppendPayloadErrors(t *testing.T) {
	tests := []struct {
		name string
		p    Packet
	}{
		{"unknown type", Packet{Type: 9}},
		{"binary ping", Packet{Type: Ping, Data: []byte{1}, Binary: true}},
		{"separator in text", Packet{Type: Message, Data: []byte("a\x1e4forged")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := []byte("keep")
			got, err := AppendPayload(dst, Packet{Type: Ping}, tt.p)
			if !errors.Is(err, ErrBadPacket) || string(got) != "keep" {
				t.Errorf("AppendPayload = %q, %v; want unchanged and ErrBadPacket", got, err)
			}
			var b PayloadBuilder
			_ = b.Add(Packet{Type: Ping})
			if err := b.Add(tt.p); !errors.Is(err, ErrBadPacket) || string(b.Bytes()) != "2" || b.Count() != 1 {
				t.Errorf("builder after failed Add = %q, %v", b.Bytes(), err)
			}
		})
	}
}

func TestPayloadBuilderReuse(t *testing.T) {
	var b PayloadBuilder
	_ = b.Add(Packet{Type: Message, Data: []byte("first")})
	b.Reset()
	if b.Len() != 0 || b.Count() != 0 {
		t.Fatal("Reset did not empty the builder")
	}
	_ = b.Add(Packet{Type: Ping})
	if string(b.Bytes()) != "2" {
		t.Errorf("after Reset got %q, want leading separator-free %q", b.Bytes(), "2")
	}
}

func TestDecodePayload(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []Packet
	}{
		{"spec example", "4hello\x1e2\x1e4world", []Packet{
			{Type: Message, Data: []byte("hello")},
			{Type: Ping},
			{Type: Message, Data: []byte("world")},
		}},
		{"binary", "4hello\x1ebAQIDBA==", []Packet{
			{Type: Message, Data: []byte("hello")},
			{Type: Message, Data: []byte{1, 2, 3, 4}, Binary: true},
		}},
		{"single", "3probe", []Packet{{Type: Pong, Data: []byte("probe")}}},
		{"all types", "0\x1e1\x1e2\x1e3\x1e4\x1e5\x1e6", []Packet{
			{Type: Open}, {Type: Close}, {Type: Ping}, {Type: Pong}, {Type: Message}, {Type: Upgrade}, {Type: Noop},
		}},
		{"empty binary", "b", []Packet{{Type: Message, Data: []byte{}, Binary: true}}},
		{"socket.io", "42[\"hello\"]\x1e42[\"world\"]", []Packet{
			{Type: Message, Data: []byte(`2["hello"]`)},
			{Type: Message, Data: []byte(`2["world"]`)},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodePayload([]byte(tt.body), 1000)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d packets, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if !packetEqual(got[i], tt.want[i]) {
					t.Errorf("packet %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestDecodePayloadErrors(t *testing.T) {
	tests := []struct {
		name string
		body string
		max  int
		want error
	}{
		{"empty body", "", 100, ErrBadPacket},
		{"empty packet in middle", "4a\x1e\x1e4b", 100, ErrBadPacket},
		{"trailing separator", "4a\x1e", 100, ErrBadPacket},
		{"leading separator", "\x1e4a", 100, ErrBadPacket},
		{"unknown type", "4a\x1e7", 100, ErrBadPacket},
		{"letter type", "x", 100, ErrBadPacket},
		{"bad base64 chars", "b$$$$", 100, ErrBadPacket},
		{"bad base64 length", "bAQI", 100, ErrBadPacket},
		{"non-canonical base64", "bAR==", 100, ErrBadPacket},
		{"base64 with newline", "bAQID\nBA==", 100, ErrBadPacket},
		{"invalid utf-8", "4ok\x1e4\xed\xa0\x80", 100, ErrBadPacket},
		{"too large", "4hello", 5, ErrPayloadTooLarge},
		{"too large wins over malformed", "xxxxxx", 5, ErrPayloadTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodePayload([]byte(tt.body), tt.max)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if len(got) != 0 {
				t.Errorf("got %d packets on error, want none", len(got))
			}
		})
	}
}

func TestDecodePayloadLimit(t *testing.T) {
	body := []byte("4" + strings.Repeat("a", 99))
	if _, err := DecodePayload(body, 100); err != nil {
		t.Errorf("body of exactly maxSize rejected: %v", err)
	}
	if _, err := DecodePayload(body, 0); err != nil {
		t.Errorf("maxSize 0 should disable the limit: %v", err)
	}
	if _, err := DecodePayload(body, 99); !errors.Is(err, ErrPayloadTooLarge) {
		t.Errorf("err = %v, want ErrPayloadTooLarge", err)
	}
}

func TestDecodePayloadToReuse(t *testing.T) {
	buf := make([]Packet, 0, 8)
	buf = append(buf, Packet{Type: Noop})
	got, err := DecodePayloadTo(buf, []byte("2\x1e3"), 0)
	if err != nil || len(got) != 3 || got[1].Type != Ping || got[2].Type != Pong {
		t.Fatalf("got %+v, %v", got, err)
	}
	got, err = DecodePayloadTo(got[:1], []byte("2\x1e\x1e3"), 0)
	if err == nil || len(got) != 1 || got[0].Type != Noop {
		t.Fatalf("on error got %+v, %v; want the original prefix", got, err)
	}
}

func TestPayloadRoundTrip(t *testing.T) {
	in := []Packet{
		{Type: Open, Data: []byte(`{"sid":"x"}`)},
		{Type: Message, Data: []byte("héllo")},
		{Type: Message, Data: []byte{0, 1, 0x1e, 0xff}, Binary: true},
		{Type: Noop},
	}
	body, err := AppendPayload(nil, in...)
	if err != nil {
		t.Fatal(err)
	}
	out, err := DecodePayload(body, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(in) {
		t.Fatalf("got %d packets, want %d", len(out), len(in))
	}
	for i := range in {
		if !packetEqual(in[i], out[i]) {
			t.Errorf("packet %d = %+v, want %+v", i, out[i], in[i])
		}
	}
}
