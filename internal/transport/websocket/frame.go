package websocket

import (
	"bytes"
	"encoding/binary"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// Close codes herald sends, from RFC 6455 §7.4.1.
const (
	CloseNormal          = 1000
	CloseGoingAway       = 1001
	CloseProtocolError   = 1002
	CloseNoStatus        = 1005
	CloseAbnormal        = 1006
	CloseInvalidPayload  = 1007
	ClosePolicyViolation = 1008
	CloseMessageTooBig   = 1009
	CloseInternalError   = 1011
	CloseTryAgainLater   = 1013
)

// maxCloseReason keeps a close frame within the 125-byte control payload.
const maxCloseReason = 123

// AppendFrame appends one unmasked, final WebSocket frame carrying payload
// to dst. Server frames are never masked, so the bytes can be shared by
// every connection that sends them.
func AppendFrame(dst []byte, op ws.OpCode, payload []byte) []byte {
	h := ws.Header{Fin: true, OpCode: op, Length: int64(len(payload))}
	buf := bytes.NewBuffer(dst)
	buf.Grow(ws.HeaderSize(h) + len(payload))
	_ = ws.WriteHeader(buf, h) // writes to a bytes.Buffer cannot fail
	buf.Write(payload)
	return buf.Bytes()
}

// TextFrame returns payload framed as one text message.
func TextFrame(payload []byte) []byte {
	return AppendFrame(nil, ws.OpText, payload)
}

// BinaryFrame returns payload framed as one binary message.
func BinaryFrame(payload []byte) []byte {
	return AppendFrame(nil, ws.OpBinary, payload)
}

// closeFrame builds a close frame with code and a reason cut to fit.
func closeFrame(code int, reason string) []byte {
	if len(reason) > maxCloseReason {
		// Cut on a character boundary: a peer fails a close frame whose
		// reason is not valid UTF-8 (1006), losing the code.
		cut := maxCloseReason
		for cut > 0 && !utf8.RuneStart(reason[cut]) {
			cut--
		}
		reason = reason[:cut]
	}
	body := make([]byte, 2+len(reason))
	binary.BigEndian.PutUint16(body, uint16(code))
	copy(body[2:], reason)
	return AppendFrame(nil, ws.OpClose, body)
}

// pingFrame is shared by every heartbeat; it carries no payload.
var pingFrame = AppendFrame(nil, ws.OpPing, nil)
