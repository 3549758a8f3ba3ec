// Package record is the form a publication takes once it is accepted: a
// protocol-neutral record that a broker, a history store or another node
// can carry unchanged, with a versioned binary encoding (docs/record.md).
//
// What only one protocol needs rides in a typed Extension that the
// protocol's own layer defines and decodes; the rest of herald passes it
// on without looking inside.
package record

import "encoding/json"

// ClientInfo says who a connection is. It travels with the publications
// the connection makes and with presence, so receivers can tell who spoke.
type ClientInfo struct {
	// Client is the connection's id, unique within the cluster.
	Client string `json:"client"`
	// User is the authenticated user; empty for anonymous connections.
	User string `json:"user,omitempty"`
	// Info is public JSON from the connection's credentials.
	Info json.RawMessage `json:"info,omitempty"`
}

// Publication is one message on one channel. Once the broker has given it
// its offset it is not changed again: fan-out shares it between every
// subscriber and every wire format.
type Publication struct {
	// Channel is where it was published.
	Channel string
	// Offset is its position in the channel's stream, starting at 1.
	Offset uint64
	// Epoch names the stream instance; offsets of different epochs
	// cannot be compared.
	Epoch string
	// Time is when it was accepted, in unix milliseconds.
	Time int64
	// Data is the JSON payload.
	Data json.RawMessage
	// Info names the publishing connection; nil when the server published.
	Info *ClientInfo
	// Ext carries what one protocol needs to route and render it; nil
	// when none does.
	Ext Extension
}

// Extension is protocol-specific routing carried by a publication. The
// protocol that owns it decodes it from a RawExtension.
type Extension interface {
	// ExtensionKind names the owner of the extension.
	ExtensionKind() ExtensionKind
	// AppendBinary appends the extension's encoding.
	AppendBinary(dst []byte) ([]byte, error)
}

// ExtensionKind names the protocol an extension belongs to.
type ExtensionKind uint32

// Extension kinds.
const (
	// ExtSocketIO is Socket.IO's routing: event name, arguments, binary
	// attachments, excepted rooms, volatility, multi-room dedupe.
	ExtSocketIO ExtensionKind = 1
)

// RawExtension is an extension as it was decoded: its owner parses Value.
type RawExtension struct {
	Kind  ExtensionKind
	Value []byte
}

// ExtensionKind implements Extension.
func (r RawExtension) ExtensionKind() ExtensionKind { return r.Kind }

// AppendBinary implements Extension: the value goes out as it came.
func (r RawExtension) AppendBinary(dst []byte) ([]byte, error) { return append(dst, r.Value...), nil }

// Push is an event for every connection of one user.
type Push struct {
	// User is who it is for.
	User string
	// Event names it.
	Event string
	// Data is the JSON payload.
	Data json.RawMessage
}
