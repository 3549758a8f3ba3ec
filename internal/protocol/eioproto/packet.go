package eioproto

// PacketType identifies an Engine.IO packet. On the wire it is a single
// ASCII digit, so the numeric values are fixed by the protocol.
type PacketType byte

// Packet types defined by Engine.IO v4.
const (
	// Open carries the handshake payload from server to client.
	Open PacketType = 0
	// Close asks the other side to close the transport.
	Close PacketType = 1
	// Ping is sent by the server (and with "probe" by an upgrading client).
	Ping PacketType = 2
	// Pong answers a Ping.
	Pong PacketType = 3
	// Message carries application data (Socket.IO packets).
	Message PacketType = 4
	// Upgrade completes a transport upgrade.
	Upgrade PacketType = 5
	// Noop releases a pending polling request during an upgrade.
	Noop PacketType = 6
)

// packetTypeNames are the names the reference parser uses, handy in logs.
var packetTypeNames = [...]string{"open", "close", "ping", "pong", "message", "upgrade", "noop"}

// String returns the reference name of t ("open", "message", ...).
func (t PacketType) String() string {
	if t.Valid() {
		return packetTypeNames[t]
	}
	return "unknown"
}

// Valid reports whether t is one of the seven protocol packet types.
func (t PacketType) Valid() bool { return t <= Noop }

// digit is the wire form of t; only meaningful when t.Valid().
func (t PacketType) digit() byte { return '0' + byte(t) }

// Packet is one Engine.IO packet.
//
// Data aliases the buffer it was decoded from (except for base64-decoded
// binary data, which is freshly allocated), so callers that recycle their
// read buffers must copy it before reusing them.
type Packet struct {
	// Type is the packet type.
	Type PacketType
	// Data is the payload, possibly empty. For text packets it is UTF-8
	// text; for binary packets it is raw bytes.
	Data []byte
	// Binary marks raw binary data. Only Message packets can be binary:
	// the protocol has no way to put another type in a binary frame.
	Binary bool
}
