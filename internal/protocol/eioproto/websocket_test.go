package eioproto

import (
	"bytes"
	"errors"
	"testing"
)

func TestAppendPacket(t *testing.T) {
	tests := []struct {
		name   string
		p      Packet
		want   string
		binary bool
	}{
		{"message", Packet{Type: Message, Data: []byte("hello")}, "4hello", false},
		{"ping", Packet{Type: Ping}, "2", false},
		{"probe", Packet{Type: Pong, Data: []byte("probe")}, "3probe", false},
		{"upgrade", Packet{Type: Upgrade}, "5", false},
		{"noop", Packet{Type: Noop}, "6", false},
		{"close", Packet{Type: Close}, "1", false},
		{"utf8", Packet{Type: Message, Data: []byte("€")}, "4€", false},
		{"binary", Packet{Type: Message, Data: []byte{1, 2, 3, 4}, Binary: true}, "\x01\x02\x03\x04", true},
		// Separators are legal in WebSocket frames: one packet per frame.
		{"separator", Packet{Type: Message, Data: []byte("a\x1eb")}, "4a\x1eb", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, bin, err := AppendPacket([]byte("prefix"), tt.p)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != "prefix"+tt.want || bin != tt.binary {
				t.Errorf("got %q binary=%v, want %q binary=%v", got, bin, tt.want, tt.binary)
			}
		})
	}
}

func TestAppendPacketErrors(t *testing.T) {
	for _, p := range []Packet{
		{Type: 7},
		{Type: Ping, Data: []byte{1}, Binary: true},
	} {
		if _, _, err := AppendPacket(nil, p); !errors.Is(err, ErrBadPacket) {
			t.Errorf("AppendPacket(%+v) err = %v, want ErrBadPacket", p, err)
		}
	}
}

func TestDecodePacket(t *testing.T) {
	tests := []struct {
		name   string
		frame  string
		binary bool
		want   Packet
	}{
		{"message", "4hello", false, Packet{Type: Message, Data: []byte("hello")}},
		{"ping", "2", false, Packet{Type: Ping}},
		{"probe", "2probe", false, Packet{Type: Ping, Data: []byte("probe")}},
		{"upgrade", "5", false, Packet{Type: Upgrade}},
		{"binary frame", "\x00\xff", true, Packet{Type: Message, Data: []byte{0, 0xff}, Binary: true}},
		{"empty binary frame", "", true, Packet{Type: Message, Data: []byte{}, Binary: true}},
		// The reference parser accepts the base64 form in text frames too.
		{"base64 text", "bAQIDBA==", false, Packet{Type: Message, Data: []byte{1, 2, 3, 4}, Binary: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodePacket([]byte(tt.frame), tt.binary)
			if err != nil {
				t.Fatal(err)
			}
			if !packetEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDecodePacketErrors(t *testing.T) {
	for _, frame := range []string{"", "7", "9x", "x", "\x1e", "b!!!", "bAQ=", "bAQ\n==", "4\xff", "4a\xc3"} {
		if _, err := DecodePacket([]byte(frame), false); !errors.Is(err, ErrBadPacket) {
			t.Errorf("DecodePacket(%q) err = %v, want ErrBadPacket", frame, err)
		}
	}
}

// packetEqual compares packets treating nil and empty data alike, since the
// wire cannot tell them apart.
func packetEqual(a, b Packet) bool {
	return a.Type == b.Type && a.Binary == b.Binary && bytes.Equal(a.Data, b.Data)
}
