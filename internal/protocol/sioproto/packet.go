package sioproto

import "encoding/json"

// PacketType identifies a Socket.IO packet; on the wire it is one ASCII
// digit.
type PacketType byte

// Packet types defined by Socket.IO v5.
const (
	// Connect asks to join a namespace (client) or grants it (server).
	Connect PacketType = 0
	// Disconnect leaves a namespace.
	Disconnect PacketType = 1
	// Event carries an event name and its arguments.
	Event PacketType = 2
	// Ack answers an Event that carried an ack id.
	Ack PacketType = 3
	// ConnectError refuses a Connect.
	ConnectError PacketType = 4
	// BinaryEvent is an Event with binary attachments.
	BinaryEvent PacketType = 5
	// BinaryAck is an Ack with binary attachments.
	BinaryAck PacketType = 6
)

// packetTypeNames are the reference enum names, for logs.
var packetTypeNames = [...]string{"CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR", "BINARY_EVENT", "BINARY_ACK"}

// String returns the reference name of t ("EVENT", "BINARY_ACK", ...).
func (t PacketType) String() string {
	if t.Valid() {
		return packetTypeNames[t]
	}
	return "UNKNOWN"
}

// Valid reports whether t is one of the seven protocol packet types.
func (t PacketType) Valid() bool { return t <= BinaryAck }

// isBinary reports whether t is one of the types followed by attachments.
func (t PacketType) isBinary() bool { return t == BinaryEvent || t == BinaryAck }

// DefaultNamespace is the main namespace; it is left out of encoded frames.
const DefaultNamespace = "/"

// Packet is one Socket.IO packet.
//
// Like the reference, the decoder reports BINARY_EVENT and BINARY_ACK
// packets as Event and Ack with their Attachments filled in, and the
// encoder turns an Event or Ack that has Attachments back into the binary
// type. Handlers therefore only ever deal with Event and Ack.
type Packet struct {
	// Type is the packet type.
	Type PacketType
	// Namespace is the namespace, e.g. "/admin". "" and "/" both mean the
	// main namespace; the decoder always reports "/".
	Namespace string
	// ID is the acknowledgement id; it is meaningful only when HasID is set.
	ID uint64
	// HasID tells whether the packet carries an acknowledgement id (an
	// Event expecting an Ack, or that Ack).
	HasID bool
	// Data is the JSON payload with binary values as placeholders; nil when
	// the packet has none. A decoded Data aliases the decoded frame.
	Data json.RawMessage
	// Attachments holds the binary values the placeholders in Data refer
	// to, in placeholder-number order.
	Attachments [][]byte
}

// wireType is the type actually written on the wire for p.
func (p *Packet) wireType() PacketType {
	if len(p.Attachments) > 0 {
		switch p.Type {
		case Event:
			return BinaryEvent
		case Ack:
			return BinaryAck
		}
	}
	return p.Type
}
