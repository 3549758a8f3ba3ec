package eioproto

import "strconv"

// OpenPayload is the JSON body of the handshake Open packet.
//
// The json tags let clients and tests decode it with encoding/json;
// encoding goes through MarshalJSON so the output matches the reference
// exactly (key order, "upgrades":[] rather than null, no HTML escaping).
type OpenPayload struct {
	// SID is the session id the client must echo in every request.
	SID string `json:"sid"`
	// Upgrades lists the transports the client may upgrade to, e.g.
	// ["websocket"] for a polling session, empty for a WebSocket one.
	Upgrades []string `json:"upgrades"`
	// PingInterval is the heartbeat period in milliseconds.
	PingInterval int `json:"pingInterval"`
	// PingTimeout is how long, in milliseconds, the server waits for a pong.
	PingTimeout int `json:"pingTimeout"`
	// MaxPayload is the largest payload in bytes the server accepts; the
	// client uses it to batch packets.
	MaxPayload int `json:"maxPayload"`
}

// AppendJSON appends the JSON encoding of o to dst, byte-identical to the
// reference's JSON.stringify output.
func (o OpenPayload) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"sid":`...)
	dst = appendJSONString(dst, o.SID)
	dst = append(dst, `,"upgrades":[`...)
	for i, u := range o.Upgrades {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, u)
	}
	dst = append(dst, `],"pingInterval":`...)
	dst = strconv.AppendInt(dst, int64(o.PingInterval), 10)
	dst = append(dst, `,"pingTimeout":`...)
	dst = strconv.AppendInt(dst, int64(o.PingTimeout), 10)
	dst = append(dst, `,"maxPayload":`...)
	dst = strconv.AppendInt(dst, int64(o.MaxPayload), 10)
	return append(dst, '}')
}

// MarshalJSON implements json.Marshaler with the reference layout. Note
// that json.Marshal HTML-escapes whatever a Marshaler returns; use
// AppendJSON or Packet when the exact reference bytes matter.
func (o OpenPayload) MarshalJSON() ([]byte, error) {
	return o.AppendJSON(make([]byte, 0, 128)), nil
}

// Packet returns the Open packet carrying o, ready for AppendPacket or a
// PayloadBuilder.
func (o OpenPayload) Packet() Packet {
	return Packet{Type: Open, Data: o.AppendJSON(make([]byte, 0, 128))}
}
