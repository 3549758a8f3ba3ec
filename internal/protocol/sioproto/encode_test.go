package sioproto

import (
	"errors"
	"testing"
)

// encodeCases pairs packets with the exact text the reference encoder
// produces for them (spec examples plus the brief's list).
var encodeCases = []struct {
	name string
	p    Packet
	text string
}{
	{"connect main", Packet{Type: Connect}, `0`},
	{"connect auth", Packet{Type: Connect, Data: rawMsg(`{"token":"x"}`)}, `0{"token":"x"}`},
	{"connect admin granted", Packet{Type: Connect, Namespace: "/admin", Data: rawMsg(`{"sid":"abc"}`)}, `0/admin,{"sid":"abc"}`},
	{"connect admin sid", Packet{Type: Connect, Namespace: "/admin", Data: rawMsg(`{"sid":"oSO0OpakMV_3jnilAAAA"}`)}, `0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}`},
	{"connect explicit slash", Packet{Type: Connect, Namespace: "/"}, `0`},
	{"disconnect main", Packet{Type: Disconnect}, `1`},
	{"disconnect admin", Packet{Type: Disconnect, Namespace: "/admin"}, `1/admin,`},
	{"event", Packet{Type: Event, Data: rawMsg(`["hello",1]`)}, `2["hello",1]`},
	{"event foo", Packet{Type: Event, Data: rawMsg(`["foo"]`)}, `2["foo"]`},
	{"event admin", Packet{Type: Event, Namespace: "/admin", Data: rawMsg(`["a"]`)}, `2/admin,["a"]`},
	{"event with id", Packet{Type: Event, ID: 1, HasID: true, Data: rawMsg(`["ack-me"]`)}, `21["ack-me"]`},
	{"event id 12", Packet{Type: Event, ID: 12, HasID: true, Data: rawMsg(`["foo"]`)}, `212["foo"]`},
	{"event id 0", Packet{Type: Event, ID: 0, HasID: true, Data: rawMsg(`["x"]`)}, `20["x"]`},
	{"ack admin", Packet{Type: Ack, Namespace: "/admin", ID: 13, HasID: true, Data: rawMsg(`[true]`)}, `3/admin,13[true]`},
	{"ack empty", Packet{Type: Ack, ID: 12, HasID: true, Data: rawMsg(`[]`)}, `312[]`},
	{"connect error", Packet{Type: ConnectError, Data: rawMsg(`{"message":"Invalid namespace"}`)}, `4{"message":"Invalid namespace"}`},
	{"connect error admin", Packet{Type: ConnectError, Namespace: "/admin", Data: rawMsg(`{"message":"Not authorized"}`)}, `4/admin,{"message":"Not authorized"}`},
	{"binary event", Packet{Type: Event, Data: rawMsg(`["bin",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{1, 2, 3, 4}}},
		`51-["bin",{"_placeholder":true,"num":0}]`},
	{"binary event two", Packet{Type: Event, Namespace: "/admin",
		Data:        rawMsg(`["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`),
		Attachments: [][]byte{{1, 2}, {3, 4}}},
		`52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`},
	{"binary ack", Packet{Type: Ack, ID: 15, HasID: true, Data: rawMsg(`["bar",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{1, 2, 3, 4}}},
		`61-15["bar",{"_placeholder":true,"num":0}]`},
	{"binary ack admin", Packet{Type: Ack, Namespace: "/admin", ID: 1, HasID: true, Data: rawMsg(`[{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{9}}},
		`61-/admin,1[{"_placeholder":true,"num":0}]`},
	{"explicit binary type, no attachments", Packet{Type: BinaryEvent, Data: rawMsg(`["a"]`)}, `50-["a"]`},
	{"max id", Packet{Type: Ack, ID: 18446744073709551615, HasID: true, Data: rawMsg(`[]`)}, `318446744073709551615[]`},
}

func TestAppendPacket(t *testing.T) {
	for _, tt := range encodeCases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := AppendPacket([]byte("4"), tt.p)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != "4"+tt.text {
				t.Errorf("AppendPacket = %s, want 4%s", got, tt.text)
			}
			text, atts, err := Encode(tt.p)
			if err != nil || string(text) != tt.text || len(atts) != len(tt.p.Attachments) {
				t.Errorf("Encode = %s, %d attachments, %v", text, len(atts), err)
			}
		})
	}
}

func TestAppendPacketErrors(t *testing.T) {
	tests := []struct {
		name string
		p    Packet
		want error
	}{
		{"unknown type", Packet{Type: 7}, ErrUnknownType},
		{"namespace without slash", Packet{Type: Event, Namespace: "admin", Data: rawMsg(`["a"]`)}, ErrBadNamespace},
		{"namespace with comma", Packet{Type: Event, Namespace: "/a,b", Data: rawMsg(`["a"]`)}, ErrBadNamespace},
		{"attachments on connect", Packet{Type: Connect, Attachments: [][]byte{{1}}}, ErrBadAttachments},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := AppendPacket([]byte("keep"), tt.p)
			if !errors.Is(err, tt.want) || string(got) != "keep" {
				t.Errorf("AppendPacket = %q, %v; want dst unchanged and %v", got, err, tt.want)
			}
			if _, _, err := Encode(tt.p); !errors.Is(err, tt.want) {
				t.Errorf("Encode err = %v, want %v", err, tt.want)
			}
		})
	}
}
