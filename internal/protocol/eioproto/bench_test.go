package eioproto

import (
	"strings"
	"testing"
)

// benchBody is a typical busy polling POST: a batch of Socket.IO events
// plus one binary attachment.
var benchBody = []byte(strings.Repeat("42[\"chat\",{\"room\":\"general\",\"text\":\"hello there\"}]\x1e", 15) +
	"451-[\"upload\",{\"_placeholder\":true,\"num\":0}]\x1ebAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")

func BenchmarkDecodePayload(b *testing.B) {
	dst := make([]Packet, 0, 32)
	b.SetBytes(int64(len(benchBody)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		dst, err = DecodePayloadTo(dst[:0], benchBody, 1e6)
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPayloadBuilder(b *testing.B) {
	msg := Packet{Type: Message, Data: []byte(`2["chat",{"room":"general","text":"hello there"}]`)}
	var pb PayloadBuilder
	b.ReportAllocs()
	for b.Loop() {
		pb.Reset()
		for range 16 {
			if err := pb.Add(msg); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.SetBytes(int64(pb.Len()))
}
