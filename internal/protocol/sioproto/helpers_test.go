package sioproto

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
)

// frame is one Engine.IO message as seen by the Socket.IO layer.
type frame struct {
	data   []byte
	binary bool
}

// txt and bin build frames for tables.
func txt(s string) frame              { return frame{data: []byte(s)} }
func bin(b ...byte) frame             { return frame{data: b, binary: true} }
func rawMsg(s string) json.RawMessage { return json.RawMessage(s) }

// feed pushes frames through d and returns the completed packets.
func feed(d *Decoder, frames ...frame) ([]Packet, error) {
	var out []Packet
	for _, f := range frames {
		p, done, err := d.Add(f.data, f.binary)
		if err != nil {
			return out, err
		}
		if done {
			out = append(out, p)
		}
	}
	return out, nil
}

// samePacket compares packets the way the wire sees them: "" and "/" are
// the same namespace, nil and empty data are the same.
func samePacket(a, b Packet) error {
	nsA, nsB := a.Namespace, b.Namespace
	if nsA == "" {
		nsA = DefaultNamespace
	}
	if nsB == "" {
		nsB = DefaultNamespace
	}
	switch {
	case a.Type != b.Type:
		return fmt.Errorf("type %v != %v", a.Type, b.Type)
	case nsA != nsB:
		return fmt.Errorf("namespace %q != %q", nsA, nsB)
	case a.HasID != b.HasID || (a.HasID && a.ID != b.ID):
		return fmt.Errorf("id %v/%d != %v/%d", a.HasID, a.ID, b.HasID, b.ID)
	case !bytes.Equal(a.Data, b.Data):
		return fmt.Errorf("data %q != %q", a.Data, b.Data)
	case len(a.Attachments) != len(b.Attachments):
		return fmt.Errorf("%d attachments != %d", len(a.Attachments), len(b.Attachments))
	}
	for i := range a.Attachments {
		if !bytes.Equal(a.Attachments[i], b.Attachments[i]) {
			return fmt.Errorf("attachment %d differs", i)
		}
	}
	return nil
}

// mustEqualPacket fails t when the packets differ.
func mustEqualPacket(t *testing.T, got, want Packet) {
	t.Helper()
	if err := samePacket(got, want); err != nil {
		t.Errorf("packet mismatch: %v\n got  %+v\n want %+v", err, got, want)
	}
}
