package eioproto

import "testing"

func TestPacketTypeString(t *testing.T) {
	want := []string{"open", "close", "ping", "pong", "message", "upgrade", "noop"}
	for i, w := range want {
		if got := PacketType(i).String(); got != w {
			t.Errorf("PacketType(%d).String() = %q, want %q", i, got, w)
		}
		if !PacketType(i).Valid() {
			t.Errorf("PacketType(%d).Valid() = false", i)
		}
	}
	if PacketType(7).Valid() || PacketType(7).String() != "unknown" {
		t.Errorf("PacketType(7) should be invalid and unknown")
	}
}
