package sioproto

import "testing"

func TestPacketTypeString(t *testing.T) {
	want := []string{"CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR", "BINARY_EVENT", "BINARY_ACK"}
	for i, w := range want {
		if got := PacketType(i).String(); got != w || !PacketType(i).Valid() {
			t.Errorf("PacketType(%d) = %q valid=%v, want %q", i, got, PacketType(i).Valid(), w)
		}
	}
	if PacketType(7).Valid() || PacketType(7).String() != "UNKNOWN" {
		t.Error("PacketType(7) should be invalid")
	}
}

func TestIsReservedEvent(t *testing.T) {
	for _, n := range []string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"} {
		if !IsReservedEvent(n) {
			t.Errorf("%q should be reserved", n)
		}
	}
	for _, n := range []string{"", "Connect", "message", "connected", "error"} {
		if IsReservedEvent(n) {
			t.Errorf("%q should not be reserved", n)
		}
	}
}
