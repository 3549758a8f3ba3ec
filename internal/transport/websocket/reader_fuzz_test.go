package websocket

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// FuzzReader drives the incremental frame reader ((*Conn).onData) with a
// client byte stream cut into reads at points the fuzzer picks, on a Conn
// whose wire records what the server writes instead of touching a socket.
//
// Arguments: stream is what the client sends; cuts decides the reads (each
// byte b, cycled, is a read of b+1 bytes; no cuts means one read); maxSize
// picks MaxMessageSize (1-4096); syncClose makes closing the wire report the
// transport closed at once (the reader then stops at once, and no more reads
// come) instead of only after the last read (the poller reports closes
// asynchronously, so the reader may go on parsing the rest of a read after
// the socket was closed).
//
// It checks that:
//   - nothing panics;
//   - every delivered message is complete and valid: text is UTF-8, none is
//     larger than MaxMessageSize, none arrives once the connection is
//     closing or the reader failed;
//   - once the reader failed, later reads deliver and write nothing, and it
//     holds no buffer;
//   - the handler hears OnClose exactly once, with a code the docs allow;
//     what the server writes is unmasked final frames: pongs, then at most
//     one close frame with a code a server may send, then nothing;
//   - the stream fed in one read and cut into many reads gives the same
//     messages, writes, close code and reason, and counters;
//   - the result matches a straightforward model of RFC 6455 (modelReader
//     below) that parses the whole stream at once;
//   - the reader keeps no reference to a read's buffer after the read (each
//     buffer is scribbled over once onData returns, as the poller reuses it).
func FuzzReader(f *testing.F) {
	for _, s := range readerSeeds() {
		f.Add(s.stream, s.cuts, s.maxSize, s.syncClose)
	}
	f.Fuzz(func(t *testing.T, stream, cuts []byte, maxSize uint16, syncClose bool) {
		limit := 1 + int(maxSize%4096)
		whole := feedReader(t, stream, nil, limit, syncClose)
		split := feedReader(t, stream, cuts, limit, syncClose)
		if d := whole.diff(split); d != "" {
			t.Fatalf("one read and reads cut at %v differ: %s", cuts, d)
		}
		checkAgainstModel(t, whole, modelReader(stream, limit))
	})
}

// readerSeed is one corpus entry.
type readerSeed struct {
	stream    []byte
	cuts      []byte
	maxSize   uint16
	syncClose bool
}

// fuzzMask is the mask seed frames use: fixed, so the corpus is stable.
var fuzzMask = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// clientFrame encodes a frame as a client would send it (masked with
// fuzzMask) or, with masked false, as no client may.
func clientFrame(fin bool, op ws.OpCode, payload []byte, masked bool) []byte {
	h := ws.Header{Fin: fin, OpCode: op, Length: int64(len(payload)), Masked: masked}
	if masked {
		h.Mask = fuzzMask
	}
	return rawFrame(h, payload)
}

// rawFrame encodes h (any flags, any mask) followed by payload, masked with
// h.Mask when h.Masked. The payload may be shorter than h.Length claims.
func rawFrame(h ws.Header, payload []byte) []byte {
	var b bytes.Buffer
	_ = ws.WriteHeader(&b, h)
	p := slices.Clone(payload)
	if h.Masked {
		ws.Cipher(p, h.Mask, 0)
	}
	b.Write(p)
	return b.Bytes()
}

// closePayload is a close frame's body: code then reason.
func closePayload(code uint16, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, code), reason...)
}

func readerSeeds() []readerSeed {
	text := func(s string) []byte { return clientFrame(true, ws.OpText, []byte(s), true) }
	cat := func(frames ...[]byte) []byte { return bytes.Join(frames, nil) }
	long := bytes.Repeat([]byte("x"), 300) // needs a 16-bit length
	len64 := ws.Header{Fin: true, OpCode: ws.OpBinary, Masked: true, Mask: fuzzMask, Length: 70000}
	var encoded64 bytes.Buffer
	_ = ws.WriteHeader(&encoded64, len64) // WriteHeader picks the 64-bit form for this length
	msb := slices.Clone(encoded64.Bytes())
	msb[2] |= 0x80 // a 64-bit length with the most significant bit set
	nonMinimal := append([]byte{0x81, 0x80 | 127, 0, 0, 0, 0, 0, 0, 0, 5}, fuzzMask[:]...)
	nonMinimal = append(nonMinimal, clientFrame(true, ws.OpText, []byte("short"), true)[6:]...)

	streams := []struct {
		stream  []byte
		maxSize uint16
	}{
		{text("hello"), 1024},
		// A fragmented message with a ping between its fragments.
		{cat(clientFrame(false, ws.OpText, []byte("hel"), true),
			clientFrame(true, ws.OpPing, []byte("between"), true),
			clientFrame(true, ws.OpContinuation, []byte("lo"), true)), 1024},
		// Three fragments, a character split across two of them.
		{cat(clientFrame(false, ws.OpText, []byte("a\xc3"), true),
			clientFrame(false, ws.OpContinuation, []byte("\xa9b"), true),
			clientFrame(true, ws.OpContinuation, nil, true)), 1024},
		{clientFrame(true, ws.OpClose, closePayload(1000, "bye"), true), 1024},
		{clientFrame(true, ws.OpClose, closePayload(4321, "application"), true), 1024},
		{clientFrame(true, ws.OpClose, nil, true), 1024},                            // no status: echoed as 1000
		{clientFrame(true, ws.OpClose, []byte{0x03}, true), 1024},                   // 1-byte payload
		{clientFrame(true, ws.OpClose, closePayload(1005, ""), true), 1024},         // a code no peer may send
		{clientFrame(true, ws.OpClose, closePayload(999, ""), true), 1024},          // below the range
		{clientFrame(true, ws.OpClose, closePayload(5000, ""), true), 1024},         // above the range
		{clientFrame(true, ws.OpClose, closePayload(1000, "\xff\xfe"), true), 1024}, // reason not UTF-8
		{cat(text("before"), clientFrame(true, ws.OpClose, closePayload(1001, ""), true), text("after")), 1024},
		// More than a frame's worth after the close: a reader that stops at
		// the close keeps it, until the closed connection is dropped.
		{cat(clientFrame(true, ws.OpClose, closePayload(1000, ""), true),
			text("0123456789"), text("0123456789"), text("0123456789")), 15},
		{cat(clientFrame(true, ws.OpClose, nil, true), clientFrame(true, ws.OpClose, nil, true),
			clientFrame(true, 0x3, nil, true)), 1024}, // a second close, then garbage
		// An oversized length claim: only the header ever arrives.
		{rawFrame(ws.Header{Fin: true, OpCode: ws.OpBinary, Masked: true, Mask: fuzzMask, Length: 1 << 40}, nil), 1024},
		{clientFrame(true, ws.OpBinary, long, true), 100},                                                         // payload over the limit
		{cat(clientFrame(false, ws.OpBinary, long, true), clientFrame(true, ws.OpContinuation, long, true)), 500}, // only the sum is over
		{text("\xff\xfe\xfd"), 1024},                                 // invalid UTF-8
		{cat(text("ok"), text("\xed\xa0\x80"), text("never")), 1024}, // a surrogate, then a message after the error
		{encoded64.Bytes(), 4095},                                    // a 64-bit length header, over the limit
		{msb, 4095},                                                  // a 64-bit length with the top bit set
		{nonMinimal, 1024},                                           // a 64-bit length header for a 5-byte payload
		{cat(clientFrame(true, ws.OpText, []byte("unmasked"), false), text("never")), 1024},
		{clientFrame(true, ws.OpPing, bytes.Repeat([]byte("p"), 125), true), 1024}, // the largest ping
		{clientFrame(true, ws.OpPing, bytes.Repeat([]byte("p"), 126), true), 1024}, // one byte too many
		{clientFrame(false, ws.OpPing, nil, true), 1024},                           // a fragmented control frame
		{cat(clientFrame(true, ws.OpPong, []byte("unsolicited"), true), text("still open")), 1024},
		{rawFrame(ws.Header{Fin: true, Rsv: 4, OpCode: ws.OpText, Masked: true, Mask: fuzzMask, Length: 1}, []byte("a")), 1024},
		{clientFrame(true, 0xB, nil, true), 1024},                                // a reserved control opcode
		{clientFrame(true, ws.OpContinuation, []byte("stray"), true), 1024},      // nothing to continue
		{cat(clientFrame(false, ws.OpText, []byte("a"), true), text("b")), 1024}, // a new message mid-message
		{cat(text("one"), clientFrame(true, ws.OpBinary, []byte{0, 1, 2}, true), text("three")), 1024},
		{clientFrame(true, ws.OpText, long, true), 1024},
	}
	var seeds []readerSeed
	for _, s := range streams {
		seeds = append(seeds,
			readerSeed{s.stream, nil, s.maxSize, false},
			readerSeed{s.stream, []byte{0}, s.maxSize, true}, // one byte per read
			readerSeed{s.stream, []byte{2, 0, 6}, s.maxSize, false},
		)
	}
	// A first read that ends after each byte of 6-, 8- and 14-byte headers
	// in turn, then 256-byte reads.
	for _, stream := range [][]byte{
		text("hi"),
		clientFrame(true, ws.OpText, long, true),
		rawFrame(ws.Header{Fin: true, OpCode: ws.OpBinary, Masked: true, Mask: fuzzMask, Length: 70000}, nil),
		cat(clientFrame(false, ws.OpBinary, long, true), clientFrame(true, ws.OpContinuation, []byte("end"), true)),
	} {
		for cut := range ws.MaxHeaderSize {
			seeds = append(seeds, readerSeed{stream, []byte{byte(cut), 255}, 4095, cut%2 == 0})
		}
	}
	return seeds
}

// readResult is everything observable from one run of the reader.
type readResult struct {
	messages    []fuzzMessage
	written     []byte // what the server sent, in order
	closeCode   int    // what the handler's OnClose was told
	closeReason string
	closeCalls  int
	failed      bool // the reader's failed flag at the end
	protoErrs   int64
	wireCloses  int
	wireShut    bool
}

type fuzzMessage struct {
	text    bool
	payload string
}

func (m fuzzMessage) String() string { return fmt.Sprintf("{text=%v %q}", m.text, m.payload) }

// diff describes how two results differ; "" when they do not.
func (a readResult) diff(b readResult) string {
	var d []string
	if !slices.Equal(a.messages, b.messages) {
		d = append(d, fmt.Sprintf("messages %v vs %v", a.messages, b.messages))
	}
	if !bytes.Equal(a.written, b.written) {
		d = append(d, fmt.Sprintf("written %x vs %x", a.written, b.written))
	}
	if a.closeCode != b.closeCode || a.closeReason != b.closeReason {
		d = append(d, fmt.Sprintf("close %d %q vs %d %q", a.closeCode, a.closeReason, b.closeCode, b.closeReason))
	}
	if a.closeCalls != b.closeCalls || a.failed != b.failed || a.protoErrs != b.protoErrs ||
		a.wireCloses != b.wireCloses || a.wireShut != b.wireShut {
		d = append(d, fmt.Sprintf("OnClose calls %d/%d, failed %v/%v, protocol errors %d/%d, wire closes %d/%d, write shut %v/%v",
			a.closeCalls, b.closeCalls, a.failed, b.failed, a.protoErrs, b.protoErrs,
			a.wireCloses, b.wireCloses, a.wireShut, b.wireShut))
	}
	return strings.Join(d, "; ")
}

// recordWire is a wire that keeps what is written instead of sending it.
// It takes every write whole at once, like a socket with room to spare.
type recordWire struct {
	conn      *Conn
	written   []byte
	closes    int
	shut      bool
	syncClose bool
}

func (w *recordWire) write(_ *Conn, bufs [][]byte, _ int) error {
	for _, b := range bufs {
		w.written = append(w.written, b...)
	}
	return nil
}

func (w *recordWire) shutWrite() { w.shut = true }

func (w *recordWire) close() {
	w.closes++
	if w.syncClose {
		w.conn.onTransportClosed()
	}
}

func (w *recordWire) blocking() bool { return false }

// recordHandler keeps what a connection delivers and checks each message
// as it arrives.
type recordHandler struct {
	t        *testing.T
	limit    int
	messages []fuzzMessage
	code     int
	reason   string
	closes   int
}

func (h *recordHandler) OnMessage(c *Conn, text bool, p []byte) {
	switch {
	case text && !utf8.Valid(p):
		h.t.Fatalf("delivered a text message that is not UTF-8: %q", p)
	case len(p) > h.limit:
		h.t.Fatalf("delivered %d bytes, MaxMessageSize is %d", len(p), h.limit)
	case c.closing() || c.reader.failed:
		h.t.Fatalf("delivered %q after the connection started closing (reader failed: %v)", p, c.reader.failed)
	}
	h.messages = append(h.messages, fuzzMessage{text, string(p)})
}

func (h *recordHandler) OnClose(_ *Conn, code int, reason string) {
	h.closes++
	h.code, h.reason = code, reason
}

func (h *recordHandler) Farewell(int, string) []byte { return nil }

// feedReader runs stream through a fresh connection's reader in the reads
// cuts describes, then reports the transport closed (the peer hung up, or
// the close handshake ended) and returns what happened.
func feedReader(t *testing.T, stream, cuts []byte, limit int, syncClose bool) readResult {
	e := &Engine{cfg: Config{MaxMessageSize: limit, CloseTimeout: time.Hour}.withDefaults()}
	e.conns.init()
	h := &recordHandler{t: t, limit: limit}
	c := newConn(e, h, nil)
	w := &recordWire{conn: c, syncClose: syncClose}
	c.wire = w

	failedAt := -1 // len(written) once the reader failed
	delivered := 0
	// Reads stop once the transport is closed, as a closed socket's do.
	for i, off := 0, 0; off < len(stream) && !c.closed(); i++ {
		n := len(stream) - off
		if len(cuts) > 0 {
			n = min(n, int(cuts[i%len(cuts)])+1)
		}
		// A buffer of the read's own, as the poller's: the reader may
		// unmask in it during the call, but must not keep it.
		buf := slices.Clone(stream[off : off+n])
		off += n
		c.onData(buf)
		for j := range buf {
			buf[j] = 0xa5
		}
		r := &c.reader
		if failedAt >= 0 {
			if len(h.messages) != delivered || len(w.written) != failedAt {
				t.Fatalf("the reader failed, yet a later read delivered %v and wrote %x",
					h.messages[delivered:], w.written[failedAt:])
			}
		} else if r.failed {
			failedAt = len(w.written)
		}
		if r.failed && (r.pending != nil || r.message != nil) {
			t.Fatalf("a failed reader holds %d pending and %d message bytes", len(r.pending), len(r.message))
		}
		// At most one incomplete frame is held, unless the reader stopped
		// because the transport closed (what it keeps then goes with the
		// dropped connection).
		if len(r.pending) > ws.MaxHeaderSize+limit && !c.closed() {
			t.Fatalf("the reader holds %d bytes, more than a frame may have (limit %d)", len(r.pending), limit)
		}
		delivered = len(h.messages)
	}
	c.onTransportClosed()
	if h.closes != 1 {
		t.Fatalf("OnClose called %d times", h.closes)
	}
	return readResult{
		messages:    h.messages,
		written:     w.written,
		closeCode:   h.code,
		closeReason: h.reason,
		closeCalls:  h.closes,
		failed:      c.reader.failed,
		protoErrs:   e.stats.ProtocolErrors.Load(),
		wireCloses:  w.closes,
		wireShut:    w.shut,
	}
}

// modelOutcome is what modelReader expects of a stream.
type modelOutcome struct {
	messages []fuzzMessage
	pongs    []string
	// code is what the handler is told: the peer's close code (1005 for a
	// close frame with no status), the error's code, or 1006 when the
	// stream just ends.
	code int
	// sent is the code of the close frame the server sends; 0 for none.
	sent int
	// reason is the peer's close reason, echoed back.
	reason string
	// failed is set when the stream broke the protocol.
	failed bool
}

// modelReader parses a whole client stream by RFC 6455 §5 with herald's
// limit, independently of the reader: it stops at the first protocol
// error, the peer's close frame, or the first incomplete frame.
func modelReader(in []byte, limit int) (o modelOutcome) {
	o.code = CloseAbnormal
	fail := func(code int) modelOutcome {
		o.code, o.sent, o.failed = code, code, true
		return o
	}
	var message []byte
	var messageOp ws.OpCode // 0: no fragmented message in progress
	for {
		if len(in) < 2 {
			return o
		}
		fin, rsv, op := in[0]&0x80 != 0, in[0]>>4&7, ws.OpCode(in[0]&0x0f)
		masked, length := in[1]&0x80 != 0, int64(in[1]&0x7f)
		headerLen := 2
		switch length {
		case 126:
			headerLen += 2
		case 127:
			headerLen += 8
		}
		if masked {
			headerLen += 4
		}
		if len(in) < headerLen {
			return o
		}
		switch length {
		case 126:
			length = int64(binary.BigEndian.Uint16(in[2:]))
		case 127:
			u := binary.BigEndian.Uint64(in[2:])
			if u>>63 != 0 {
				return fail(CloseProtocolError)
			}
			length = int64(u)
		}
		control := op >= 0x8
		switch {
		case op > ws.OpBinary && op < ws.OpClose || op > ws.OpPong: // reserved opcodes
			return fail(CloseProtocolError)
		case control && (length > 125 || !fin):
			return fail(CloseProtocolError)
		case rsv != 0, !masked: // no extensions; clients must mask
			return fail(CloseProtocolError)
		case messageOp != 0 && !control && op != ws.OpContinuation,
			messageOp == 0 && op == ws.OpContinuation:
			return fail(CloseProtocolError)
		}
		// Over the limit is refused from the header alone.
		if length > int64(limit) || !control && int64(len(message))+length > int64(limit) {
			return fail(CloseMessageTooBig)
		}
		if int64(len(in)-headerLen) < length {
			return o
		}
		payload := slices.Clone(in[headerLen : headerLen+int(length)])
		for i := range payload {
			payload[i] ^= in[headerLen-4+i%4]
		}
		in = in[headerLen+int(length):]

		var complete []byte
		var completeOp ws.OpCode
		switch op {
		case ws.OpText, ws.OpBinary:
			if fin {
				complete, completeOp = payload, op
			} else {
				message, messageOp = payload, op
			}
		case ws.OpContinuation:
			message = append(message, payload...)
			if fin {
				complete, completeOp = message, messageOp
				message, messageOp = nil, 0
			}
		case ws.OpPing:
			o.pongs = append(o.pongs, string(payload))
		case ws.OpClose:
			switch {
			case len(payload) == 0:
				o.code, o.sent = CloseNoStatus, CloseNormal
				return o
			case len(payload) == 1:
				return fail(CloseProtocolError)
			}
			code := int(binary.BigEndian.Uint16(payload))
			reason := string(payload[2:])
			if !peerMaySend(code) || !utf8.ValidString(reason) {
				return fail(CloseProtocolError)
			}
			o.code, o.sent, o.reason = code, code, reason
			return o
		}
		if completeOp != 0 {
			text := completeOp == ws.OpText
			if text && !utf8.Valid(complete) {
				return fail(CloseInvalidPayload)
			}
			o.messages = append(o.messages, fuzzMessage{text, string(complete)})
		}
	}
}

// peerMaySend lists the close codes a peer may put in a close frame:
// RFC 6455 §7.4.1's codes for the wire, IANA's registered 1012-1014, and
// the library and application ranges. (Spelled out on its own, not by
// calling validCloseCode, so the model checks the reader's list.)
func peerMaySend(code int) bool {
	switch code {
	case 1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014:
		return true
	}
	return code >= 3000 && code <= 4999
}

// checkAgainstModel compares a run with the model's expectation and checks
// that the server wrote only pongs and one allowed close frame.
func checkAgainstModel(t *testing.T, got readResult, want modelOutcome) {
	t.Helper()
	peerClosed := want.sent != 0 && !want.failed
	if !slices.Equal(got.messages, want.messages) {
		t.Fatalf("delivered %v, the model expects %v", got.messages, want.messages)
	}
	if got.closeCode != want.code {
		t.Fatalf("OnClose code %d, the model expects %d", got.closeCode, want.code)
	}
	if peerClosed && got.closeReason != want.reason {
		t.Fatalf("OnClose reason %q, the peer's was %q", got.closeReason, want.reason)
	}
	switch c := got.closeCode; {
	case peerMaySend(c), c == CloseNoStatus, c == CloseAbnormal: // the peer's close, or none
	default:
		t.Fatalf("OnClose code %d is not one the docs allow", c)
	}
	switch {
	case got.protoErrs > 1:
		t.Fatalf("one connection counted %d protocol errors", got.protoErrs)
	case want.failed && (got.protoErrs != 1 || !got.failed):
		t.Fatalf("the stream broke the protocol; the reader failed=%v and counted %d errors", got.failed, got.protoErrs)
	case !want.failed && !peerClosed && (got.protoErrs != 0 || got.failed):
		t.Fatalf("a valid stream failed the reader (failed=%v, %d errors counted)", got.failed, got.protoErrs)
	}
	// After the peer's close frame the reader may go on parsing the rest of
	// a read (until the poller reports the socket closed), and may fail on
	// it: that is neither checked nor ruled out here.

	out := bytes.NewReader(got.written)
	var pongs []string
	sent := 0
	for out.Len() > 0 {
		fr, err := ws.ReadFrame(out)
		if err != nil {
			t.Fatalf("the server wrote a broken frame (%v): %x", err, got.written)
		}
		h := fr.Header
		if h.Masked || !h.Fin || h.Rsv != 0 {
			t.Fatalf("the server wrote a frame with header %+v", h)
		}
		if sent != 0 {
			t.Fatalf("the server wrote %v after its close frame", h.OpCode)
		}
		switch h.OpCode {
		case ws.OpPong:
			pongs = append(pongs, string(fr.Payload))
		case ws.OpClose:
			if len(fr.Payload) < 2 || len(fr.Payload) > 125 {
				t.Fatalf("the server's close frame has a %d-byte payload", len(fr.Payload))
			}
			code, reason := ws.ParseCloseFrameData(fr.Payload)
			sent = int(code)
			if !utf8.ValidString(reason) {
				t.Fatalf("the server's close reason is not UTF-8: %q", reason)
			}
			if peerClosed && reason != want.reason {
				t.Fatalf("the server echoed reason %q, the peer's was %q", reason, want.reason)
			}
		default:
			t.Fatalf("the server wrote an unexpected %v frame", h.OpCode)
		}
	}
	if _, err := out.ReadByte(); err != io.EOF {
		t.Fatal("unread output")
	}
	if !slices.Equal(pongs, want.pongs) {
		t.Fatalf("the server ponged %q, the model expects %q", pongs, want.pongs)
	}
	if sent != want.sent {
		t.Fatalf("the server's close frame has code %d, the model expects %d (0: none)", sent, want.sent)
	}
	if sent != 0 && !peerMaySend(sent) {
		t.Fatalf("the server sent close code %d", sent)
	}
}
