package bench

import "bytes"

// Socket.IO v4 rides on Engine.IO v4. On a WebSocket every Engine.IO
// packet is one WebSocket message whose first byte is its type: '0' open
// (followed by the handshake JSON), '1' close, '2' ping, '3' pong, '4'
// message, '6' noop. A Socket.IO packet is the payload of a message: its
// type digit ('0' CONNECT, '1' DISCONNECT, '2' EVENT, '3' ACK, '4'
// CONNECT_ERROR), then, when present, the attachment count and '-', the
// namespace (it starts with '/') and ',', the ack id, and the JSON array.
// So an event of namespace "/" arrives as `42["tick",{...}]`, and with
// connection state recovery on the server appends the recovery offset as
// a last argument: `42["tick",{...},"3k"]`.

// The Engine.IO packets the bench client writes or recognises.
var (
	sioPing    = []byte("2")
	sioPong    = []byte("3")
	sioConnect = []byte("40") // CONNECT to namespace "/" with no auth
)

// sioJoinEvent is the built-in herald event that joins a room (the Node
// reference server handles it the same way), sent with ack id 1 so that
// the client knows when the join is done: `421["herald:join","bench"]`.
const sioJoinEvent = "herald:join"

// ParseSIOEvent reads the bench fields out of one WebSocket message that
// carries a Socket.IO EVENT named event on namespace "/", whose first
// argument is {"s":SEQ,"t":UNIX_NANOS,...}: `42["tick",{"s":7,"t":…}]`,
// with or without the recovery offset herald appends (`,"3k"]`) and
// anything else after the first argument. It reports ok=false for any
// other message (pings, acks, other events, other namespaces, events of
// another shape). It does not allocate.
func ParseSIOEvent(msg []byte, event string) (seq, sent int64, ok bool) {
	b, ok := sioEventData(msg, event)
	if !ok {
		return 0, 0, false
	}
	if seq, ok = intAfter(b, keySeq); !ok {
		return 0, 0, false
	}
	if sent, ok = intAfter(b, keyTime); !ok {
		return 0, 0, false
	}
	return seq, sent, true
}

// sioEventData returns the rest of msg from the first argument of a
// Socket.IO EVENT named event on namespace "/", when that argument is an
// object; ok is false for any other message.
func sioEventData(msg []byte, event string) (data []byte, ok bool) {
	if len(msg) < 4 || msg[0] != '4' || msg[1] != '2' {
		return nil, false
	}
	b := msg[2:]
	for len(b) > 0 && b[0] >= '0' && b[0] <= '9' { // an ack id, if the server asks for one
		b = b[1:]
	}
	if len(b) == 0 || b[0] != '[' { // a namespace ("/x,") or an attachment count ("1-") lands here too
		return nil, false
	}
	b = skipSpace(b[1:])
	if len(b) < len(event)+2 || b[0] != '"' || string(b[1:1+len(event)]) != event || b[1+len(event)] != '"' {
		return nil, false
	}
	b = skipSpace(b[len(event)+2:])
	if len(b) == 0 || b[0] != ',' {
		return nil, false
	}
	b = skipSpace(b[1:])
	if len(b) == 0 || b[0] != '{' {
		return nil, false
	}
	return b, true
}

func skipSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\n' || b[0] == '\r') {
		b = b[1:]
	}
	return b
}

// isSIOPing reports whether msg is an Engine.IO ping, which a client must
// answer with a pong within the server's pingTimeout or be disconnected.
func isSIOPing(msg []byte) bool { return bytes.Equal(msg, sioPing) }

// appendSIOJoin appends `421["herald:join",ROOM]` to dst.
func appendSIOJoin(dst []byte, room string) []byte {
	dst = append(dst, `421["`+sioJoinEvent+`",`...)
	dst = appendJSONString(dst, room)
	return append(dst, ']')
}

// appendJSONString appends s as a JSON string (room names are plain, but
// quote what needs quoting anyway).
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}
