package sioproto

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestDecodeEncodeCases(t *testing.T) {
	// Every exact reference encoding must decode back to its packet.
	for _, tt := range encodeCases {
		t.Run(tt.name, func(t *testing.T) {
			frames := []frame{txt(tt.text)}
			for _, a := range tt.p.Attachments {
				frames = append(frames, bin(a...))
			}
			got, err := feed(NewDecoder(Limits{}), frames...)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("got %d packets, want 1", len(got))
			}
			want := tt.p
			if want.Type == BinaryEvent {
				want.Type = Event // reported under the plain type
			}
			mustEqualPacket(t, got[0], want)
		})
	}
}

func TestDecodeLenient(t *testing.T) {
	// Inputs the reference accepts that no encoder produces; they decode to
	// the packet shown.
	tests := []struct {
		name string
		text string
		want Packet
	}{
		{"explicit main namespace", `2/,["a"]`, Packet{Type: Event, Data: rawMsg(`["a"]`)}},
		{"namespace at end without comma", `1/admin`, Packet{Type: Disconnect, Namespace: "/admin"}},
		{"connect namespace without comma", `0/admin`, Packet{Type: Connect, Namespace: "/admin"}},
		{"leading zeros in id", `2007["a"]`, Packet{Type: Event, ID: 7, HasID: true, Data: rawMsg(`["a"]`)}},
		{"whitespace before payload", `21 ["a"]`, Packet{Type: Event, ID: 1, HasID: true, Data: rawMsg(` ["a"]`)}},
		{"connect error string", `4"boom"`, Packet{Type: ConnectError, Data: rawMsg(`"boom"`)}},
		{"connect error no payload", `4`, Packet{Type: ConnectError}},
		{"disconnect with id", `1/admin,5`, Packet{Type: Disconnect, Namespace: "/admin", ID: 5, HasID: true}},
		{"ack without id", `3[]`, Packet{Type: Ack, Data: rawMsg(`[]`)}},
		{"binary zero attachments", `50-["a"]`, Packet{Type: Event, Data: rawMsg(`["a"]`)}},
		{"binary ack zero attachments", `60-1[]`, Packet{Type: Ack, ID: 1, HasID: true, Data: rawMsg(`[]`)}},
		{"placeholder lookalike in plain event", `2["a",{"_placeholder":true,"num":5}]`,
			Packet{Type: Event, Data: rawMsg(`["a",{"_placeholder":true,"num":5}]`)}},
		{"namespace with odd chars", `2/a b-c_1.x,["a"]`, Packet{Type: Event, Namespace: "/a b-c_1.x", Data: rawMsg(`["a"]`)}},
		{"unicode event name", `2["héllo ✓"]`, Packet{Type: Event, Data: rawMsg(`["héllo ✓"]`)}},
		{"reserved name as argument", `2["x","connect"]`, Packet{Type: Event, Data: rawMsg(`["x","connect"]`)}},
		{"escaped non-reserved name", `2["connec\u0074ed"]`, Packet{Type: Event, Data: rawMsg(`["connec\u0074ed"]`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := feed(NewDecoder(Limits{}), txt(tt.text))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("got %d packets", len(got))
			}
			mustEqualPacket(t, got[0], tt.want)
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name   string
		frames []frame
		want   error
	}{
		{"empty frame", []frame{txt("")}, ErrUnknownType},
		{"type 7", []frame{txt(`7["a"]`)}, ErrUnknownType},
		{"type letter", []frame{txt(`x`)}, ErrUnknownType},
		{"type minus", []frame{txt(`-1`)}, ErrUnknownType},

		{"namespace missing comma before array", []frame{txt(`2/admin["a"]`)}, ErrBadNamespace},
		{"namespace missing comma before object", []frame{txt(`0/admin{"token":"x"}`)}, ErrBadNamespace},
		{"namespace missing comma before id", []frame{txt(`3/admin13[true]`)}, ErrBadNamespace},
		{"namespace missing comma before string", []frame{txt(`4/admin"no"`)}, ErrBadNamespace},

		{"id overflow", []frame{txt(`218446744073709551616["a"]`)}, ErrBadID},
		{"id huge", []frame{txt(`2` + strings.Repeat("9", 40) + `["a"]`)}, ErrBadID},
		{"id fraction", []frame{txt(`21.5["a"]`)}, ErrBadID},
		{"id exponent", []frame{txt(`21e3["a"]`)}, ErrBadID},
		{"id letters", []frame{txt(`212abc["a"]`)}, ErrBadID},
		{"id then garbage after namespace", []frame{txt(`3/admin,1x[true]`)}, ErrBadID},
		{"non-numeric id", []frame{txt(`2abc["a"]`)}, ErrInvalidJSON},
		{"negative id", []frame{txt(`2-1["a"]`)}, ErrInvalidJSON},

		{"invalid json", []frame{txt(`2["a"`)}, ErrInvalidJSON},
		{"trailing garbage", []frame{txt(`2["a"]x`)}, ErrInvalidJSON},
		{"single quotes", []frame{txt(`2['a']`)}, ErrInvalidJSON},
		{"bad json after namespace", []frame{txt(`2/admin,{`)}, ErrInvalidJSON},

		{"event missing payload", []frame{txt(`2`)}, ErrInvalidPayload},
		{"event missing payload with id", []frame{txt(`21`)}, ErrInvalidPayload},
		{"event namespace only", []frame{txt(`2/admin,`)}, ErrInvalidPayload},
		{"event object", []frame{txt(`2{"a":1}`)}, ErrInvalidPayload},
		{"event string", []frame{txt(`2"a"`)}, ErrInvalidPayload},
		{"event empty array", []frame{txt(`2[]`)}, ErrInvalidPayload},
		{"event bool name", []frame{txt(`2[true]`)}, ErrInvalidPayload},
		{"event object name", []frame{txt(`2[{"a":1}]`)}, ErrInvalidPayload},
		{"event null name", []frame{txt(`2[null,"x"]`)}, ErrInvalidPayload},
		{"event object name", []frame{txt(`2[{"a":1}]`)}, ErrInvalidPayload},
		{"ack missing payload", []frame{txt(`31`)}, ErrInvalidPayload},
		{"ack object", []frame{txt(`31{}`)}, ErrInvalidPayload},
		{"ack string", []frame{txt(`31"x"`)}, ErrInvalidPayload},
		{"connect array", []frame{txt(`0["a"]`)}, ErrInvalidPayload},
		{"connect string", []frame{txt(`0"tok"`)}, ErrInvalidPayload},
		{"connect null", []frame{txt(`0null`)}, ErrInvalidPayload},
		{"disconnect with payload", []frame{txt(`1{}`)}, ErrInvalidPayload},
		{"disconnect admin with payload", []frame{txt(`1/admin,[]`)}, ErrInvalidPayload},
		{"connect error array", []frame{txt(`4["a"]`)}, ErrInvalidPayload},
		{"connect error number", []frame{txt(`4 5`)}, ErrInvalidPayload},
		{"binary event object", []frame{txt(`51-{"_placeholder":true,"num":0}`)}, ErrInvalidPayload},
		{"binary event missing payload", []frame{txt(`51-`)}, ErrInvalidPayload},

		{"reserved connect", []frame{txt(`2["connect"]`)}, ErrReservedEvent},
		{"reserved connect_error", []frame{txt(`2["connect_error",1]`)}, ErrReservedEvent},
		{"reserved disconnect", []frame{txt(`2/admin,["disconnect"]`)}, ErrReservedEvent},
		{"reserved disconnecting", []frame{txt(`21["disconnecting"]`)}, ErrReservedEvent},
		{"reserved newListener", []frame{txt(`2["newListener"]`)}, ErrReservedEvent},
		{"reserved removeListener", []frame{txt(`2["removeListener"]`)}, ErrReservedEvent},
		{"reserved escaped", []frame{txt(`2["\u0063onnect"]`)}, ErrReservedEvent},
		{"reserved binary", []frame{txt(`51-["disconnect",{"_placeholder":true,"num":0}]`)}, ErrReservedEvent},

		{"attachments missing", []frame{txt(`5-["a"]`)}, ErrBadAttachments},
		{"attachments no dash", []frame{txt(`51["a"]`)}, ErrBadAttachments},
		{"attachments not a number", []frame{txt(`5x-["a"]`)}, ErrBadAttachments},
		{"attachments only", []frame{txt(`51`)}, ErrBadAttachments},
		{"type only binary", []frame{txt(`5`)}, ErrBadAttachments},
		{"woooot", []frame{txt(`5woooot`)}, ErrBadAttachments},
		{"attachments too many", []frame{txt(`51001-["a"]`)}, ErrTooManyAttachments},
		{"attachments overflow", []frame{txt(`5` + strings.Repeat("9", 30) + `-["a"]`)}, ErrTooManyAttachments},

		{"placeholder num out of range", []frame{txt(`51-["a",{"_placeholder":true,"num":1}]`)}, ErrBadPlaceholder},
		{"placeholder without attachments", []frame{txt(`50-["a",{"_placeholder":true,"num":0}]`)}, ErrBadPlaceholder},
		{"placeholder negative", []frame{txt(`51-["a",{"_placeholder":true,"num":-1}]`)}, ErrBadPlaceholder},
		{"placeholder fraction", []frame{txt(`52-["a",{"_placeholder":true,"num":0.5}]`)}, ErrBadPlaceholder},
		{"placeholder string num", []frame{txt(`51-["a",{"_placeholder":true,"num":"0"}]`)}, ErrBadPlaceholder},
		{"placeholder missing num", []frame{txt(`51-["a",{"_placeholder":true}]`)}, ErrBadPlaceholder},
		{"placeholder huge num", []frame{txt(`51-["a",{"_placeholder":true,"num":1e400}]`)}, ErrBadPlaceholder},
		{"placeholder nested bad", []frame{txt(`51-["a",{"x":[{"_placeholder":true,"num":3}]}]`)}, ErrBadPlaceholder},
		{"placeholder escaped key", []frame{txt(`51-["a",{"\u005fplaceholder":true,"num":2}]`)}, ErrBadPlaceholder},
		{"placeholder ack", []frame{txt(`61-1[{"_placeholder":true,"num":1}]`)}, ErrBadPlaceholder},

		{"binary frame first", []frame{bin(1, 2)}, ErrUnexpectedBinary},
		{"binary after complete", []frame{txt(`2["a"]`), bin(1)}, ErrUnexpectedBinary},
		{"too many binary frames", []frame{txt(`51-["a",{"_placeholder":true,"num":0}]`), bin(1), bin(2)}, ErrUnexpectedBinary},
		{"binary after zero-attachment packet", []frame{txt(`50-["a"]`), bin(1)}, ErrUnexpectedBinary},
		{"text while awaiting attachment", []frame{txt(`52-["a",{"_placeholder":true,"num":0}]`), bin(1), txt(`2["b"]`)}, ErrUnexpectedText},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := feed(NewDecoder(Limits{}), tt.frames...)
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestDecoderBinarySequence(t *testing.T) {
	d := NewDecoder(Limits{})
	p, done, err := d.AddText([]byte(`52-/admin,3["up",{"_placeholder":true,"num":1},{"x":{"_placeholder":true,"num":0}}]`))
	if err != nil || done || !d.Pending() {
		t.Fatalf("first frame: done=%v pending=%v err=%v", done, d.Pending(), err)
	}
	if _, done, _ = d.AddBinary([]byte{0xaa}); done {
		t.Fatal("complete after one of two attachments")
	}
	p, done, err = d.AddBinary(nil)
	if err != nil || !done || d.Pending() {
		t.Fatalf("second attachment: done=%v err=%v", done, err)
	}
	if p.Type != Event || p.Namespace != "/admin" || !p.HasID || p.ID != 3 || len(p.Attachments) != 2 {
		t.Fatalf("packet = %+v", p)
	}
	if p.Attachments[1] == nil || len(p.Attachments[1]) != 0 {
		t.Errorf("nil frame should become a non-nil empty attachment")
	}
	// The decoder is idle again and takes the next packet.
	if got, err := feed(d, txt(`2["next"]`)); err != nil || len(got) != 1 {
		t.Errorf("after binary packet: %v, %d packets", err, len(got))
	}
}

func TestDecoderRecoversAfterError(t *testing.T) {
	d := NewDecoder(Limits{})
	if _, err := feed(d, txt(`51-["a",{"_placeholder":true,"num":0}]`), txt(`2["x"]`)); !errors.Is(err, ErrUnexpectedText) {
		t.Fatalf("err = %v", err)
	}
	if d.Pending() {
		t.Fatal("error should drop the partial packet")
	}
	if got, err := feed(d, txt(`2["x"]`)); err != nil || len(got) != 1 {
		t.Errorf("decoder unusable after error: %v", err)
	}
	_, _ = feed(d, txt(`51-["a",{"_placeholder":true,"num":0}]`))
	d.Reset()
	if _, err := feed(d, bin(1)); !errors.Is(err, ErrUnexpectedBinary) {
		t.Errorf("Reset did not drop the pending packet: %v", err)
	}
}

// placeholders returns an event's arguments referring to n attachments.
func placeholders(n int) string {
	var b strings.Builder
	b.WriteString(`["a"`)
	for i := range n {
		fmt.Fprintf(&b, `,{"_placeholder":true,"num":%d}`, i)
	}
	b.WriteString(`]`)
	return b.String()
}

func TestDecoderMaxAttachments(t *testing.T) {
	announce := func(d *Decoder, n int) error {
		d.Reset()
		_, _, err := d.AddText(fmt.Appendf(nil, "5%d-%s", n, placeholders(n)))
		return err
	}
	d := NewDecoder(Limits{MaxAttachments: 2})
	if err := announce(d, 2); err != nil {
		t.Errorf("2 attachments with cap 2: %v", err)
	}
	if err := announce(d, 3); !errors.Is(err, ErrTooManyAttachments) {
		t.Errorf("3 attachments with cap 2: %v", err)
	}
	var zero Decoder
	if err := announce(&zero, DefaultMaxAttachments); err != nil {
		t.Errorf("zero Decoder should allow DefaultMaxAttachments: %v", err)
	}
	if err := announce(&zero, DefaultMaxAttachments+1); !errors.Is(err, ErrTooManyAttachments) {
		t.Errorf("zero Decoder over default: %v", err)
	}
}

func TestDecoderMaxAttachmentBytes(t *testing.T) {
	send := func(sizes ...int) ([]Packet, error) {
		frames := []frame{txt(fmt.Sprintf("5%d-%s", len(sizes), placeholders(len(sizes))))}
		for _, n := range sizes {
			frames = append(frames, frame{data: make([]byte, n), binary: true})
		}
		return feed(NewDecoder(Limits{MaxAttachmentBytes: 10}), frames...)
	}
	if got, err := send(4, 6); err != nil || len(got) != 1 || len(got[0].Attachments) != 2 {
		t.Errorf("10 bytes of attachments with a cap of 10: %v (%d packets)", err, len(got))
	}
	if _, err := send(4, 7); !errors.Is(err, ErrAttachmentsTooLarge) {
		t.Errorf("11 bytes of attachments with a cap of 10: %v", err)
	}
	if _, err := send(11); !errors.Is(err, ErrAttachmentsTooLarge) {
		t.Errorf("one 11-byte attachment with a cap of 10: %v", err)
	}
	// Without a cap, only each frame's own bound applies.
	frames := []frame{txt(`51-` + placeholders(1)), {data: make([]byte, 1<<20), binary: true}}
	if got, err := feed(NewDecoder(Limits{}), frames...); err != nil || len(got) != 1 {
		t.Errorf("uncapped decoder: %v", err)
	}
}

func TestDecoderNamespaceInterning(t *testing.T) {
	d := NewDecoder(Limits{})
	a, _, _ := d.AddText([]byte(`2/chat,["a"]`))
	b, _, _ := d.AddText([]byte(`2/chat,["b"]`))
	if a.Namespace != "/chat" || b.Namespace != "/chat" {
		t.Fatalf("namespaces %q %q", a.Namespace, b.Namespace)
	}
	frame := []byte(`2/chat,["b"]`)
	allocs := testing.AllocsPerRun(100, func() {
		_, _, _ = d.AddText(frame)
	})
	if allocs != 0 {
		t.Errorf("decoding a repeated namespace allocates %v times", allocs)
	}
}

// The reference parser accepts a number as the event name.
func TestNumericEventName(t *testing.T) {
	d := NewDecoder(Limits{})
	p, done, err := d.Add([]byte(`2[1,"x"]`), false)
	if err != nil || !done {
		t.Fatal(err)
	}
	if name, err := p.EventName(); err != nil || name != "1" {
		t.Fatalf("name %q, %v", name, err)
	}
	if args, err := p.Args(); err != nil || len(args) != 1 || string(args[0].JSON) != `"x"` {
		t.Fatalf("args %v %v", args, err)
	}
}
