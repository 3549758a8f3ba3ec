package sioproto

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

// decodeOne decodes a single packet from frames or fails the test.
func decodeOne(t *testing.T, frames ...frame) Packet {
	t.Helper()
	got, err := feed(NewDecoder(Limits{}), frames...)
	if err != nil || len(got) != 1 {
		t.Fatalf("decode: %v, %d packets", err, len(got))
	}
	return got[0]
}

func TestEventName(t *testing.T) {
	tests := []struct{ text, want string }{
		{`2["hello",1]`, "hello"},
		{`2/admin,5[ "spaced" ]`, "spaced"},
		{`2["a\"b\u00e9"]`, "a\"bé"},
		{`2["héllo"]`, "héllo"},
	}
	for _, tt := range tests {
		p := decodeOne(t, txt(tt.text))
		if got, err := p.EventName(); err != nil || got != tt.want {
			t.Errorf("EventName(%s) = %q, %v; want %q", tt.text, got, err, tt.want)
		}
	}
	ack := decodeOne(t, txt(`31["x"]`))
	if _, err := ack.EventName(); !errors.Is(err, ErrInvalidPayload) {
		t.Errorf("EventName on ACK: %v", err)
	}
}

func TestArgs(t *testing.T) {
	p := decodeOne(t,
		txt(`52-["up",1,{"_placeholder":true,"num":1},{"f":{"_placeholder":true,"num":0}},{"_placeholder":true,"num":0}]`),
		bin(0xa), bin(0xb))
	args, err := p.Args()
	if err != nil {
		t.Fatal(err)
	}
	if len(args) != 4 {
		t.Fatalf("%d args, want 4", len(args))
	}
	if string(args[0].JSON) != "1" || args[0].IsBinary() {
		t.Errorf("arg 0 = %+v", args[0])
	}
	if !bytes.Equal(args[1].Binary, []byte{0xb}) {
		t.Errorf("arg 1 = %+v, want attachment 1", args[1])
	}
	if args[2].IsBinary() || string(args[2].JSON) != `{"f":{"_placeholder":true,"num":0}}` {
		t.Errorf("arg 2 = %+v (nested binary is left to Values)", args[2])
	}
	if !bytes.Equal(args[3].Binary, []byte{0xa}) {
		t.Errorf("arg 3 = %+v, want attachment 0", args[3])
	}

	ack := decodeOne(t, txt(`3/admin,13[true,"x"]`))
	args, err = ack.Args()
	if err != nil || len(args) != 2 || string(args[0].JSON) != "true" || string(args[1].JSON) != `"x"` {
		t.Errorf("ack args = %+v, %v", args, err)
	}
	empty := decodeOne(t, txt(`312[]`))
	if args, err := empty.Args(); err != nil || len(args) != 0 {
		t.Errorf("empty ack args = %+v, %v", args, err)
	}
	// Without attachments a placeholder lookalike is just an object.
	plain := decodeOne(t, txt(`2["a",{"_placeholder":true,"num":0}]`))
	if args, err := plain.Args(); err != nil || args[0].IsBinary() {
		t.Errorf("plain event args = %+v, %v", args, err)
	}
	conn := decodeOne(t, txt(`0{}`))
	if _, err := conn.Args(); !errors.Is(err, ErrInvalidPayload) {
		t.Errorf("Args on CONNECT: %v", err)
	}
}

func TestValues(t *testing.T) {
	p := decodeOne(t,
		txt(`62-7[{"a":[{"_placeholder":true,"num":1}],"n":1.5},{"_placeholder":true,"num":0},null,"s"]`),
		bin(1), bin(2, 3))
	got, err := p.Values()
	if err != nil {
		t.Fatal(err)
	}
	want := []any{
		map[string]any{"a": []any{[]byte{2, 3}}, "n": 1.5},
		[]byte{1},
		nil,
		"s",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Values = %#v\nwant     %#v", got, want)
	}

	ev := decodeOne(t, txt(`2["x",{"_placeholder":true,"num":0}]`))
	vals, err := ev.Values()
	if err != nil || !reflect.DeepEqual(vals, []any{map[string]any{"_placeholder": true, "num": 0.0}}) {
		t.Errorf("plain event Values = %#v, %v", vals, err)
	}

	bad := Packet{Type: Event, Data: rawMsg(`["x",{"_placeholder":true,"num":4}]`), Attachments: [][]byte{{1}}}
	if _, err := bad.Values(); !errors.Is(err, ErrBadPlaceholder) {
		t.Errorf("hand-built bad placeholder: %v", err)
	}
	broken := Packet{Type: Ack, Data: rawMsg(`[`)}
	if _, err := broken.Values(); !errors.Is(err, ErrInvalidJSON) {
		t.Errorf("broken JSON: %v", err)
	}
}

func TestAccessorsOnUnvalidatedData(t *testing.T) {
	deep := bytes.Repeat([]byte(`{"a":`), 20000)
	for _, data := range [][]byte{[]byte(`["a",}`), []byte(`[}`), []byte(`["`), append([]byte(`["x",`), deep...)} {
		p := Packet{Type: Event, Data: data, Attachments: [][]byte{{1}}}
		_, _ = p.EventName()
		_, _ = p.Args()
		_, _ = p.Values()
	}
}
