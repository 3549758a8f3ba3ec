package engineio

import (
	"bytes"
	"errors"
	"sync"

	eio "github.com/heraldhq/herald/internal/protocol/eioproto"
	"github.com/heraldhq/herald/internal/transport/websocket"
)

// Send errors.
var (
	// ErrClosed is returned when sending on a session that is closing or
	// closed.
	ErrClosed = errors.New("engineio: session closed")
	// ErrSlowConsumer is returned when a packet would push a session's
	// unsent bytes past the limit; the session is then closed with
	// "transport error".
	ErrSlowConsumer = errors.New("engineio: outbound buffer full (slow consumer)")
	// ErrSeparator is returned for text that contains the record separator
	// 0x1e, which cannot travel in a polling payload (it would split the
	// packet on the client). JSON never contains it unescaped.
	ErrSeparator = errors.New("engineio: text contains the record separator 0x1e")
)

// Frames shared by every session.
var (
	pingFrame      = websocket.TextFrame([]byte("2"))
	pongProbeFrame = websocket.TextFrame([]byte("3probe"))
)

// TextMessageFrame returns the WebSocket text frame carrying the message
// packet "4"+text: the frame argument of Session.Enqueue. Build it once per
// publication and share it across sessions.
func TextMessageFrame(text []byte) []byte {
	payload := make([]byte, 1+len(text))
	payload[0] = '4'
	copy(payload[1:], text)
	return websocket.TextFrame(payload)
}

// SendText sends one message packet ("4"+data) and flushes it. data is
// the Socket.IO packet text; it is copied.
func (s *Session) SendText(data []byte) error {
	_, err := s.enqueue(eio.Message, data, false, nil)
	// Flush even when this call did not make the queue need it: "send"
	// means now, including anything an Enqueue caller left unflushed.
	s.Flush()
	return err
}

// SendBinary sends one binary message packet and flushes it: a binary
// frame on WebSocket, "b"+base64 on polling. data is copied.
func (s *Session) SendBinary(data []byte) error {
	_, err := s.enqueue(eio.Message, data, true, nil)
	s.Flush()
	return err
}

// Enqueue queues one message packet without writing it, for fan-out: text
// is the message payload (without the "4") used on polling, frame the same
// packet pre-framed for WebSocket (see TextMessageFrame; nil builds one).
// Both may be shared by many sessions and must not change afterwards.
//
// It reports whether the caller must call Flush: true for the call that
// made a flush necessary, so a publisher can enqueue to many sessions and
// then flush each once, and each client gets everything in one write.
func (s *Session) Enqueue(text []byte, frame []byte) (needsFlush bool, err error) {
	return s.enqueue(eio.Message, text, false, frame)
}

// EnqueueBinary is Enqueue for a binary message packet: data is sent as a
// binary frame on WebSocket (frame, when given, is data pre-framed as one)
// and as "b"+base64 on polling.
func (s *Session) EnqueueBinary(data []byte, frame []byte) (needsFlush bool, err error) {
	return s.enqueue(eio.Message, data, true, frame)
}

// Writable reports whether a packet sent now would leave at once: on
// WebSocket when nothing is waiting to be written, on polling when a GET
// is waiting and nothing is buffered. The reference drops volatile
// packets when its transport is not writable; this is that test.
func (s *Session) Writable() bool {
	if c := s.ws.Load(); c != nil {
		return !c.Backlogged()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.poll != nil && len(s.buf) == 0
}

// Flush writes what Enqueue queued: on WebSocket it hands the queue to the
// socket in one write; on polling it releases the waiting GET, if any,
// which answers with everything buffered.
func (s *Session) Flush() {
	if c := s.ws.Load(); c != nil {
		c.Flush()
		return
	}
	s.mu.Lock()
	if c := s.ws.Load(); c != nil {
		s.mu.Unlock()
		c.Flush()
		return
	}
	if len(s.buf) > 0 {
		s.wakeLocked()
	}
	s.mu.Unlock()
}

// enqueue queues one packet on whichever transport carries the session.
// frame is the packet's WebSocket frame when the caller has one.
func (s *Session) enqueue(t eio.PacketType, data []byte, binary bool, frame []byte) (bool, error) {
	if c := s.ws.Load(); c != nil {
		return s.enqueueWS(c, t, data, binary, frame)
	}
	s.mu.Lock()
	if c := s.ws.Load(); c != nil {
		// The upgrade completed while we waited; mu ordered us after the
		// packets it moved to the WebSocket.
		s.mu.Unlock()
		return s.enqueueWS(c, t, data, binary, frame)
	}
	if s.state.Load() != stateOpen {
		s.mu.Unlock()
		return false, ErrClosed
	}
	p := eio.Packet{Type: t, Data: data, Binary: binary}
	if !binary && bytes.IndexByte(data, eio.Separator) >= 0 {
		s.mu.Unlock()
		return false, ErrSeparator
	}
	// Only data counts against the limit: a ping must not be refused
	// because messages are backed up.
	if t == eio.Message && len(s.buf)+1+eio.EncodedLen(p) > s.srv.cfg.MaxBufferedBytes {
		s.mu.Unlock()
		s.srv.stats.Polling.SlowConsumers.Add(1)
		s.finish(ReasonTransportError, eio.Close, websocket.CloseNormal)
		return false, ErrSlowConsumer
	}
	wasEmpty := len(s.buf) == 0
	s.setBufLocked(appendPacket(s.buf, p))
	needsFlush := wasEmpty && s.poll != nil && !s.poll.signaled
	s.mu.Unlock()
	return needsFlush, nil
}

// enqueueWS queues one packet on the session's WebSocket.
func (s *Session) enqueueWS(c *websocket.Conn, t eio.PacketType, data []byte, binary bool, frame []byte) (bool, error) {
	if s.state.Load() != stateOpen {
		return false, ErrClosed
	}
	if frame == nil {
		frame = packetFrame(eio.Packet{Type: t, Data: data, Binary: binary})
	}
	needsFlush, err := c.Enqueue(frame)
	switch {
	case errors.Is(err, websocket.ErrSlowConsumer):
		// The connection already closes itself with 1013; the reference
		// reports a failed write as "transport error".
		s.finish(ReasonTransportError, eio.Close, websocket.CloseTryAgainLater)
		return false, ErrSlowConsumer
	case err != nil:
		return false, ErrClosed
	}
	return needsFlush, nil
}

// setBufLocked replaces the polling buffer, keeping the node's backlog
// count in step: buffered bytes are owed to the client until a GET takes
// them, the WebSocket the session upgrades to queues them, or the session
// ends. s.mu held.
func (s *Session) setBufLocked(b []byte) {
	s.srv.cfg.Backlog.Add(s.id[0], len(b)-len(s.buf))
	s.buf = b
}

// packetFrame builds the WebSocket frame for p: binary data as is, text as
// the type digit followed by the data.
func packetFrame(p eio.Packet) []byte {
	payload, binary, err := eio.AppendPacket(make([]byte, 0, 1+len(p.Data)), p)
	if err != nil {
		return nil // unreachable: callers only build valid packets
	}
	if binary {
		return websocket.BinaryFrame(payload)
	}
	return websocket.TextFrame(payload)
}

// appendPacket appends p to a polling payload, separated from what is
// already there. p has been validated by the caller.
func appendPacket(buf []byte, p eio.Packet) []byte {
	if buf == nil {
		buf = getBuf()
	}
	n := len(buf)
	if n > 0 {
		buf = append(buf, eio.Separator)
	}
	out, err := eio.AppendPayload(buf, p)
	if err != nil {
		return buf[:n] // unreachable: validated above
	}
	return out
}

// payloadPool recycles polling payload buffers: a session holds one only
// while packets wait for a GET, so idle sessions hold none.
var payloadPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// maxPooledPayload keeps rare large payloads from pinning memory.
const maxPooledPayload = 64 << 10

func getBuf() []byte { return (*payloadPool.Get().(*[]byte))[:0] }

func putBuf(b []byte) {
	if cap(b) == 0 || cap(b) > maxPooledPayload {
		return
	}
	b = b[:0]
	payloadPool.Put(&b)
}
