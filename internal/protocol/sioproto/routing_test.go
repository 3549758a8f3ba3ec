package sioproto

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/heraldhq/herald/internal/protocol/record"
)

func routingSamples() []*Routing {
	return []*Routing{
		{},
		{Event: "chat"},
		{Event: "file", Args: []json.RawMessage{json.RawMessage(`{"_placeholder":true,"num":0}`), json.RawMessage(`"name"`)},
			Attachments: [][]byte{{1, 2, 3}, {}}},
		{Except: []string{"socket-id", "muted"}, Volatile: true},
		{Channels: []string{"chat:a", "chat:b"}, Except: []string{"\xff room"}},
	}
}

// A publication with routing survives the whole record's round trip and
// comes back as the same routing.
func TestRoutingRoundTripsInsideARecord(t *testing.T) {
	for _, rt := range routingSamples() {
		pub := &record.Publication{Channel: "chat:a", Offset: 1, Data: json.RawMessage(`1`), Ext: rt}
		b, err := pub.AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		back, err := record.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		got, err := RoutingOf(back.Ext)
		if err != nil {
			t.Fatal(err)
		}
		want := *rt
		if want.Attachments != nil && len(want.Attachments[len(want.Attachments)-1]) == 0 {
			want.Attachments[len(want.Attachments)-1] = []byte{}
		}
		if !reflect.DeepEqual(got, &want) {
			t.Fatalf("got %+v, want %+v", got, &want)
		}
		again, _ := back.AppendBinary(nil)
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoded record differs")
		}
	}
}

func TestRoutingOfIgnoresOtherProtocols(t *testing.T) {
	if r, err := RoutingOf(record.RawExtension{Kind: 99, Value: []byte{0xff}}); r != nil || err != nil {
		t.Fatalf("another kind: %v %v", r, err)
	}
	if r, err := RoutingOf(nil); r != nil || err != nil {
		t.Fatalf("none: %v %v", r, err)
	}
	if _, err := RoutingOf(record.RawExtension{Kind: record.ExtSocketIO, Value: []byte{0x12, 1, '{'}}); err == nil {
		t.Fatal("an argument that is not JSON decoded")
	}
}

func FuzzDecodeRouting(f *testing.F) {
	for _, r := range routingSamples() {
		b, _ := r.AppendBinary(nil)
		f.Add(b)
	}
	f.Add([]byte{0x28, 2})
	f.Add([]byte{0x12, 0, 0x0a, 1, 'x'})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeRouting(b)
		if err != nil {
			return
		}
		again, err := r.AppendBinary(nil)
		if err != nil {
			t.Fatalf("decoded %+v does not encode: %v", r, err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("%x decoded to %+v, which encodes as %x", b, r, again)
		}
	})
}
