package websocket

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// reader assembles frames from the bytes a connection reads. Only the
// goroutine that reads the connection touches it.
type reader struct {
	// pending holds the start of a frame whose rest has not arrived yet;
	// nil between complete frames, so an idle connection keeps no buffer.
	pending []byte
	// message holds the fragments of a message split over several frames.
	message []byte
	// messageOp is the opcode of that message; 0 when none is in progress.
	messageOp ws.OpCode
	// failed is set once the peer broke the protocol: the stream can no
	// longer be framed, so everything after is dropped.
	failed bool
}

// errNeedMore says the bytes so far do not hold a whole frame.
var errNeedMore = errors.New("need more bytes")

// closeError is a reason to end the connection with a close code.
type closeError struct {
	code   int
	reason string
}

func (e *closeError) Error() string { return e.reason }

// onData consumes bytes read from the socket: every complete frame is
// handled; an incomplete tail is kept for the next read.
func (c *Conn) onData(data []byte) {
	c.touch()
	r := &c.reader
	if r.failed {
		return
	}
	if len(r.pending) > 0 {
		r.pending = append(r.pending, data...)
		data = r.pending
	}
	for len(data) > 0 && !c.closed() {
		n, err := c.nextFrame(data)
		if err == errNeedMore {
			break
		}
		if err != nil {
			r.failed, r.pending, r.message = true, nil, nil
			c.fail(err)
			return
		}
		data = data[n:]
	}
	r.keep(data)
	c.trackPartial()
}

// trackPartial records whether an incomplete message is being held.
func (c *Conn) trackPartial() {
	r := &c.reader
	switch holding := len(r.pending) > 0 || r.messageOp != 0; {
	case !holding:
		c.partialSince.Store(0)
	case c.partialSince.Load() == 0:
		c.partialSince.Store(time.Now().UnixNano())
	}
}

// keep stores the unconsumed tail, reusing pending's storage when it has it.
func (r *reader) keep(tail []byte) {
	if len(tail) == 0 {
		r.pending = nil
		return
	}
	if cap(r.pending) >= len(tail) && len(r.pending) > 0 {
		r.pending = r.pending[:copy(r.pending, tail)]
		return
	}
	r.pending = append([]byte(nil), tail...)
}

// nextFrame handles the frame at the start of data and says how many bytes
// it took. It returns errNeedMore when the frame is not all there yet.
func (c *Conn) nextFrame(data []byte) (int, error) {
	h, headerLen, err := parseHeader(data)
	if err != nil {
		return 0, err
	}
	if err := c.checkHeader(h); err != nil {
		return 0, err
	}
	total := headerLen + int(h.Length)
	if len(data) < total {
		return 0, errNeedMore
	}
	payload := data[headerLen:total]
	ws.Cipher(payload, h.Mask, 0)
	return total, c.handleFrame(h, payload)
}

// parseHeader reads a frame header from the front of data.
func parseHeader(data []byte) (ws.Header, int, error) {
	br := bytes.NewReader(data)
	h, err := ws.ReadHeader(br)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return h, 0, errNeedMore
	}
	if err != nil {
		return h, 0, &closeError{CloseProtocolError, err.Error()}
	}
	return h, len(data) - br.Len(), nil
}

// checkHeader refuses frames that break RFC 6455 or the size limit before
// their payload is waited for, so a huge length claim costs nothing.
func (c *Conn) checkHeader(h ws.Header) error {
	state := ws.StateServerSide
	if c.reader.messageOp != 0 {
		state = state.Set(ws.StateFragmented)
	}
	if err := ws.CheckHeader(h, state); err != nil {
		return &closeError{CloseProtocolError, err.Error()}
	}
	limit := int64(c.engine.cfg.MaxMessageSize)
	if h.Length > limit || (h.OpCode.IsData() || h.OpCode == ws.OpContinuation) &&
		int64(len(c.reader.message))+h.Length > limit {
		return &closeError{CloseMessageTooBig, "message too big"}
	}
	return nil
}

// handleFrame acts on one complete, unmasked frame.
func (c *Conn) handleFrame(h ws.Header, payload []byte) error {
	r := &c.reader
	switch h.OpCode {
	case ws.OpText, ws.OpBinary:
		if h.Fin {
			return c.deliver(h.OpCode, payload)
		}
		r.messageOp = h.OpCode
		r.message = append(r.message[:0], payload...)
	case ws.OpContinuation:
		r.message = append(r.message, payload...)
		if h.Fin {
			op, msg := r.messageOp, r.message
			r.messageOp, r.message = 0, nil
			return c.deliver(op, msg)
		}
	case ws.OpPing:
		// A pong counts against the outbound budget like data: a peer that
		// floods pings and never reads is a slow consumer, not a way to
		// make the server buffer without bound.
		_ = c.Send(AppendFrame(nil, ws.OpPong, payload))
	case ws.OpClose:
		return c.onCloseFrame(payload)
	}
	return nil
}

// deliver passes a complete message to the handler once it is known valid.
func (c *Conn) deliver(op ws.OpCode, payload []byte) error {
	if op == ws.OpText && !utf8.Valid(payload) {
		return &closeError{CloseInvalidPayload, "invalid UTF-8 in text message"}
	}
	if c.closing() {
		return nil // after a close frame, data is read and dropped (RFC 6455 §5.5.1)
	}
	c.handler.OnMessage(c, op == ws.OpText, payload)
	return nil
}

// onCloseFrame answers the peer's close frame and ends the connection.
func (c *Conn) onCloseFrame(payload []byte) error {
	code, reason := CloseNoStatus, ""
	switch {
	case len(payload) == 1:
		return &closeError{CloseProtocolError, "close frame with a 1-byte payload"}
	case len(payload) >= 2:
		sc, why := ws.ParseCloseFrameData(payload)
		if !validCloseCode(int(sc)) {
			return &closeError{CloseProtocolError, fmt.Sprintf("close code %d is not one a peer may send", sc)}
		}
		if !utf8.ValidString(why) {
			return &closeError{CloseProtocolError, "close reason is not valid UTF-8"}
		}
		code, reason = int(sc), why
	}
	c.peerClosed(code, reason)
	return nil
}

// validCloseCode reports whether a peer may send code in a close frame:
// the codes RFC 6455 defines for use on the wire, those IANA registered
// since (1012-1014, which servers such as herald send), and the ranges for
// libraries and applications (3000-4999).
func validCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}
