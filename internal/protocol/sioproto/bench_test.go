package sioproto

import (
	"encoding/json"
	"testing"
)

var benchArg = json.RawMessage(`{"room":"general","text":"hello there","ts":1700000000000}`)

func BenchmarkAppendEvent(b *testing.B) {
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		buf, err = AppendEvent(buf[:0], "/chat", "message", benchArg)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkEncodeEventArgs(b *testing.B) {
	var a Args
	buf := make([]byte, 0, 256)
	blob := make([]byte, 1024)
	b.ReportAllocs()
	for b.Loop() {
		a.Reset()
		a.String("upload")
		a.Raw(benchArg)
		a.Bytes(blob)
		var err error
		buf, err = AppendPacket(buf[:0], a.Packet(Event, "/"))
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeEvent(b *testing.B) {
	frame := []byte(`2/chat,12["message",{"room":"general","text":"hello there","ts":1700000000000}]`)
	d := NewDecoder(Limits{})
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		if _, done, err := d.AddText(frame); err != nil || !done {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeBinaryEvent(b *testing.B) {
	frame := []byte(`51-["upload",{"name":"f"},{"_placeholder":true,"num":0}]`)
	blob := make([]byte, 1024)
	d := NewDecoder(Limits{})
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := d.AddText(frame); err != nil {
			b.Fatal(err)
		}
		if _, done, err := d.AddBinary(blob); err != nil || !done {
			b.Fatal(err)
		}
	}
}
