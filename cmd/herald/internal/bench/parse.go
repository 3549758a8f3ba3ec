package bench

import (
	"bytes"
	"strconv"
)

var (
	prefixPub = []byte(`{"type":"publication",`)
	keyType   = []byte(`"type":"publication"`)
	keyData   = []byte(`"data":`)
	keySeq    = []byte(`"s":`)
	keyTime   = []byte(`"t":`)
)

// ParsePublication reads the bench fields out of one herald protocol
// message (one line) without decoding it: a publication whose data is
// {"s":SEQ,"t":UNIX_NANOS,...}. It reports ok=false for anything else
// (replies, other server messages, publications of other shapes). It does
// not allocate.
func ParsePublication(msg []byte) (seq, sent int64, ok bool) {
	d := bytes.Index(msg, keyData)
	if d < 0 || (!bytes.HasPrefix(msg, prefixPub) && bytes.Index(msg[:d], keyType) < 0) {
		return 0, 0, false
	}
	data := msg[d+len(keyData):]
	seq, ok = intAfter(data, keySeq)
	if !ok {
		return 0, 0, false
	}
	sent, ok = intAfter(data, keyTime)
	if !ok {
		return 0, 0, false
	}
	return seq, sent, true
}

// intAfter parses the integer that follows the first key in b, allowing
// spaces after the colon.
func intAfter(b, key []byte) (int64, bool) {
	i := bytes.Index(b, key)
	if i < 0 {
		return 0, false
	}
	b = b[i+len(key):]
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	return parseInt(b)
}

// parseInt parses a decimal integer at the start of b up to the first
// byte that is not a digit, as strconv.ParseInt would parse that prefix,
// without converting b to a string.
func parseInt(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg = true
		b = b[1:]
	}
	n := 0
	for n < len(b) && b[n] >= '0' && b[n] <= '9' {
		n++
	}
	if n == 0 || n > 19 {
		return 0, false
	}
	var v uint64
	for _, c := range b[:n] {
		v = v*10 + uint64(c-'0')
	}
	if v > 1<<63-1 {
		return 0, false
	}
	if neg {
		return -int64(v), true
	}
	return int64(v), true
}

// AppendPublishBody appends the body of a POST /api/publish request for
// the fan-out bench: channel ch, data {"s":seq,"t":sent,"p":"..."} padded
// with 'x' so that data is size bytes long (or as short as it can be).
func AppendPublishBody(dst []byte, ch string, seq, sent int64, size int) []byte {
	return AppendPublishBodyEvent(dst, ch, "", seq, sent, size)
}

// AppendPublishBodyEvent is AppendPublishBody with an event name (what
// Socket.IO clients receive the publication as; "" leaves it out).
func AppendPublishBodyEvent(dst []byte, ch, event string, seq, sent int64, size int) []byte {
	dst = append(dst, `{"channel":`...)
	dst = strconv.AppendQuote(dst, ch)
	if event != "" {
		dst = append(dst, `,"event":`...)
		dst = strconv.AppendQuote(dst, event)
	}
	dst = append(dst, `,"data":`...)
	start := len(dst)
	dst = append(dst, `{"s":`...)
	dst = strconv.AppendInt(dst, seq, 10)
	dst = append(dst, `,"t":`...)
	dst = strconv.AppendInt(dst, sent, 10)
	dst = append(dst, `,"p":"`...)
	pad := size - (len(dst) - start) - len(`"}`)
	for range max(pad, 0) {
		dst = append(dst, 'x')
	}
	dst = append(dst, `"}}`...)
	return dst
}
