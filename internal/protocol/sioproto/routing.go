package sioproto

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/heraldhq/herald/internal/protocol/pbwire"
	"github.com/heraldhq/herald/internal/protocol/record"
	"google.golang.org/protobuf/encoding/protowire"
)

// Routing is Socket.IO's extension of a publication: how a socket renders
// it as an event and which sockets of a room take it. It travels in the
// publication's record (record.ExtSocketIO) and is encoded as in
// docs/record.md.
type Routing struct {
	// Event is the event name; empty means "message".
	Event string
	// Args are the event's arguments when they are not just [Data]:
	// several arguments, or binary ones (placeholders referring to
	// Attachments). The publication's Data then holds the same arguments
	// as JSON for herald-protocol subscribers.
	Args []json.RawMessage
	// Attachments are the binary arguments Args refer to.
	Attachments [][]byte
	// Except lists rooms whose sockets must not receive it.
	Except []string
	// Volatile events may be dropped for sockets not ready for them and
	// are never kept for recovery.
	Volatile bool
	// Channels lists every channel of a broadcast to several rooms (one
	// publication goes to each); a socket in more than one of them takes
	// it from the first it is in, so it gets it once.
	Channels []string
}

// Field numbers of the routing message (docs/record.md).
const (
	fieldEvent       protowire.Number = 1
	fieldArg         protowire.Number = 2
	fieldAttachment  protowire.Number = 3
	fieldExcept      protowire.Number = 4
	fieldVolatile    protowire.Number = 5
	fieldRouteToRoom protowire.Number = 6
)

// ExtensionKind implements record.Extension.
func (r *Routing) ExtensionKind() record.ExtensionKind { return record.ExtSocketIO }

// AppendBinary implements record.Extension. It refuses what
// DecodeRouting would.
func (r *Routing) AppendBinary(b []byte) ([]byte, error) {
	if !utf8.ValidString(r.Event) {
		return nil, errors.New("sioproto: the event name is not valid UTF-8")
	}
	for i, a := range r.Args {
		if !json.Valid(a) {
			return nil, fmt.Errorf("sioproto: argument %d is not valid JSON", i+1)
		}
	}
	b = pbwire.AppendString(b, fieldEvent, r.Event)
	for _, a := range r.Args {
		b = pbwire.AppendElement(b, fieldArg, a)
	}
	for _, a := range r.Attachments {
		b = pbwire.AppendElement(b, fieldAttachment, a)
	}
	for _, room := range r.Except {
		if room == "" {
			return nil, errors.New("sioproto: an excepted room has no name")
		}
		b = pbwire.AppendElement(b, fieldExcept, []byte(room))
	}
	b = pbwire.AppendTrue(b, fieldVolatile, r.Volatile)
	for _, ch := range r.Channels {
		if ch == "" {
			return nil, errors.New("sioproto: a broadcast channel has no name")
		}
		b = pbwire.AppendElement(b, fieldRouteToRoom, []byte(ch))
	}
	return b, nil
}

// DecodeRouting reads what Routing.AppendBinary wrote, and nothing else.
func DecodeRouting(b []byte) (*Routing, error) {
	r := &Routing{}
	rd := pbwire.NewReader(b, fieldArg, fieldAttachment, fieldExcept, fieldRouteToRoom)
	for rd.Next() {
		r.decodeField(rd)
	}
	if err := rd.Err(); err != nil {
		return nil, fmt.Errorf("sioproto: routing: %w", err)
	}
	for i, a := range r.Args {
		if !json.Valid(a) {
			return nil, fmt.Errorf("sioproto: routing: argument %d is not valid JSON", i+1)
		}
	}
	return r, nil
}

func (r *Routing) decodeField(rd *pbwire.Reader) {
	switch rd.Field() {
	case fieldEvent:
		r.Event = rd.String()
	case fieldArg:
		r.Args = append(r.Args, rd.Element())
	case fieldAttachment:
		r.Attachments = append(r.Attachments, rd.Element())
	case fieldExcept:
		r.Except = append(r.Except, rd.Name())
	case fieldVolatile:
		r.Volatile = rd.True()
	case fieldRouteToRoom:
		r.Channels = append(r.Channels, rd.Name())
	default:
		rd.Unknown()
	}
}

// RoutingOf returns the Socket.IO routing a publication carries, decoding
// it if it arrived encoded; nil when it has none (a plain publication is
// sent as event "message" with Data as its one argument).
func RoutingOf(ext record.Extension) (*Routing, error) {
	switch x := ext.(type) {
	case nil:
		return nil, nil
	case *Routing:
		return x, nil
	case record.RawExtension:
		if x.Kind != record.ExtSocketIO {
			return nil, nil
		}
		return DecodeRouting(x.Value)
	}
	return nil, nil // another protocol's extension
}
