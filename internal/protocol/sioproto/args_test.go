package sioproto

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
)

func TestArgsScalars(t *testing.T) {
	var a Args
	if string(a.JSON()) != "[]" || a.Len() != 0 || a.Attachments() != nil {
		t.Fatalf("zero Args = %s", a.JSON())
	}
	a.String("ev")
	a.Int(-5)
	a.Uint(18446744073709551615)
	a.Bool(true)
	a.Null()
	a.Raw(nil)
	a.Raw(rawMsg(`{"k":[1]}`))
	want := `["ev",-5,18446744073709551615,true,null,null,{"k":[1]}]`
	if got := string(a.JSON()); got != want {
		t.Errorf("JSON = %s, want %s", got, want)
	}
	if a.Len() != 7 {
		t.Errorf("Len = %d", a.Len())
	}
	a.Reset()
	a.String("again")
	if got := string(a.JSON()); got != `["again"]` {
		t.Errorf("after Reset = %s", got)
	}
}

func TestArgsFloatLikeJavaScript(t *testing.T) {
	tests := []struct {
		f    float64
		want string
	}{
		{0, "0"}, {1, "1"}, {-1.5, "-1.5"}, {0.1, "0.1"}, {1e20, "100000000000000000000"},
		{1e21, "1e+21"}, {1.5e-7, "1.5e-7"}, {0.000001, "0.000001"}, {123456789.125, "123456789.125"},
		{math.NaN(), "null"}, {math.Inf(1), "null"}, {math.Inf(-1), "null"},
	}
	for _, tt := range tests {
		var a Args
		a.Float(tt.f)
		if got := string(a.JSON()); got != "["+tt.want+"]" {
			t.Errorf("Float(%v) = %s, want [%s]", tt.f, got, tt.want)
		}
	}
}

func TestArgsBinary(t *testing.T) {
	var a Args
	a.String("bin")
	a.Bytes([]byte{1, 2, 3, 4})
	p := a.Packet(Event, "/")
	text, atts, err := Encode(p)
	if err != nil {
		t.Fatal(err)
	}
	if string(text) != `51-["bin",{"_placeholder":true,"num":0}]` {
		t.Errorf("text = %s", text)
	}
	if len(atts) != 1 || !bytes.Equal(atts[0], []byte{1, 2, 3, 4}) {
		t.Errorf("attachments = %v", atts)
	}
}

func TestArgsValueNestedBinary(t *testing.T) {
	var a Args
	a.String("upload")
	err := a.Value(map[string]any{
		"name":  "f.bin",
		"parts": []any{[]byte{1}, []byte{2, 3}},
		"meta":  map[string]any{"size": 3, "ok": true, "nil": nil},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Value([]byte{}); err != nil {
		t.Fatal(err)
	}
	want := `["upload",{"meta":{"nil":null,"ok":true,"size":3},"name":"f.bin","parts":[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]},{"_placeholder":true,"num":2}]`
	if got := string(a.JSON()); got != want {
		t.Errorf("JSON = %s\nwant   %s", got, want)
	}
	if n := len(a.Attachments()); n != 3 {
		t.Fatalf("%d attachments, want 3", n)
	}
	if a.Attachments()[2] == nil {
		t.Error("empty attachment should be non-nil")
	}
}

func TestArgsValueFallbackAndTypes(t *testing.T) {
	type point struct {
		X, Y int
		Tag  string `json:"tag"`
	}
	var a Args
	for _, v := range []any{
		nil, "s", false, 1.25, float32(0.5), 1, int64(-2), int32(3), uint(4), uint64(5), uint32(6),
		json.RawMessage(`[1]`), json.Number("7.5"), point{1, 2, "<b>"},
	} {
		if err := a.Value(v); err != nil {
			t.Fatalf("Value(%#v): %v", v, err)
		}
	}
	want := `[null,"s",false,1.25,0.5,1,-2,3,4,5,6,[1],7.5,{"X":1,"Y":2,"tag":"<b>"}]`
	if got := string(a.JSON()); got != want {
		t.Errorf("JSON = %s\nwant   %s", got, want)
	}
}

func TestArgsValueErrorLeavesBuilderUnchanged(t *testing.T) {
	var a Args
	a.String("x")
	a.Bytes([]byte{1})
	before := string(a.JSON())
	bad := []any{[]byte{9}, make(chan int)}
	if err := a.Value(bad); err == nil {
		t.Fatal("expected an error for a channel")
	}
	if string(a.JSON()) != before || len(a.Attachments()) != 1 || a.Len() != 2 {
		t.Errorf("builder changed on error: %s, %d attachments, len %d", a.JSON(), len(a.Attachments()), a.Len())
	}
	var empty Args
	if err := empty.Value(make(chan int)); err == nil || string(empty.JSON()) != "[]" || empty.Len() != 0 {
		t.Errorf("empty builder changed on error: %s", empty.JSON())
	}
	cyclic := []any{nil}
	cyclic[0] = cyclic
	if err := empty.Value(cyclic); err == nil {
		t.Error("expected an error for a cyclic value")
	}
}

func TestArgsRoundTripThroughDecoder(t *testing.T) {
	var a Args
	a.String("mixed")
	_ = a.Value([]any{"a", []byte{7, 8}, map[string]any{"deep": []byte{9}}})
	a.Bytes([]byte{1, 2})
	p := a.Packet(Event, "/room")
	p.ID, p.HasID = 42, true
	text, atts, err := Encode(p)
	if err != nil {
		t.Fatal(err)
	}
	frames := []frame{txt(string(text))}
	for _, b := range atts {
		frames = append(frames, bin(b...))
	}
	got, err := feed(NewDecoder(Limits{}), frames...)
	if err != nil || len(got) != 1 {
		t.Fatalf("decode: %v, %d packets", err, len(got))
	}
	mustEqualPacket(t, got[0], p)
	vals, err := got[0].Values()
	if err != nil {
		t.Fatal(err)
	}
	var again Args
	again.String("mixed")
	for _, v := range vals {
		if err := again.Value(v); err != nil {
			t.Fatal(err)
		}
	}
	if string(again.JSON()) != string(p.Data) || len(again.Attachments()) != len(p.Attachments) {
		t.Errorf("Values -> Args = %s, want %s", again.JSON(), p.Data)
	}
}
