package record

import (
	"bytes"
	"testing"
)

// FuzzDecode: no input makes Decode panic, and whatever it accepts
// re-encodes to exactly the bytes it came from.
func FuzzDecode(f *testing.F) {
	for _, p := range samples() {
		b, _ := p.AppendBinary(nil)
		f.Add(b)
	}
	f.Add([]byte{1, 0x0a, 1, 'x', 0x32, 0})
	f.Add([]byte{1, 0x0a, 1, 'x', 0x3a, 3, 0x08, 1, 0x12})
	f.Add([]byte{1, 0x0a, 1, 'x', 0x3a, 6, 0x08, 0x81, 0x80, 0x80, 0x80, 0x10})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Decode(b)
		if err != nil {
			return
		}
		again, err := p.AppendBinary(nil)
		if err != nil {
			t.Fatalf("decoded %+v does not encode: %v", p, err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("%x decoded to %+v, which encodes as %x", b, p, again)
		}
	})
}
