package bench

import (
	"bytes"
	"strconv"
)

// The soak sends two kinds of message, each numbered per stream: a
// publication to channel soak-K (stream K of the publications) and a push
// to user soak-uK (stream K of the pushes). Both carry the same data,
// {"k":K,"s":SEQ,"t":UNIX_NANOS,"p":"xx…"}, where SEQ counts from 1 in
// each stream and t is stamped just before the HTTP request leaves.
const (
	kindPub  = 0
	kindPush = 1
	kinds    = 2
)

// The names the soak gives its channels, users and Socket.IO events.
const (
	soakPubEvent  = "soak"     // event of the publications (Socket.IO sockets receive it)
	soakPushEvent = "soakpush" // event of the pushes
)

func soakChannel(k int) string { return "soak-" + strconv.Itoa(k) }
func soakUser(k int) string    { return "soak-u" + strconv.Itoa(k) }

var (
	keyStream    = []byte(`"k":`)
	keyTypePush  = []byte(`"type":"push"`)
	keyTypePubl  = []byte(`"type":"publication"`)
	prefixPushed = []byte(`{"type":"push",`)
)

// soakMsg is what a soak message says about itself.
type soakMsg struct {
	kind         int
	stream       int64
	seq, sentNs  int64
	unrecognised bool // not a soak message: a reply, a notice, anything else
}

// parseSoakHerald reads one herald-protocol line: a publication or a push
// whose data has the soak's fields. It does not decode the JSON.
func parseSoakHerald(line []byte) soakMsg {
	d := bytes.Index(line, keyData)
	if d < 0 {
		return soakMsg{unrecognised: true}
	}
	head := line[:d]
	kind := kindPub
	switch {
	case bytes.HasPrefix(line, prefixPub) || bytes.Contains(head, keyTypePubl):
	case bytes.HasPrefix(line, prefixPushed) || bytes.Contains(head, keyTypePush):
		kind = kindPush
	default:
		return soakMsg{unrecognised: true}
	}
	return soakFields(line[d+len(keyData):], kind)
}

// parseSoakSIO reads one Socket.IO message: a soak or soakpush event whose
// first argument has the soak's fields.
func parseSoakSIO(msg []byte) soakMsg {
	if data, ok := sioEventData(msg, soakPubEvent); ok {
		return soakFields(data, kindPub)
	}
	if data, ok := sioEventData(msg, soakPushEvent); ok {
		return soakFields(data, kindPush)
	}
	return soakMsg{unrecognised: true}
}

func soakFields(data []byte, kind int) soakMsg {
	k, ok1 := intAfter(data, keyStream)
	s, ok2 := intAfter(data, keySeq)
	t, ok3 := intAfter(data, keyTime)
	if !ok1 || !ok2 || !ok3 {
		return soakMsg{unrecognised: true}
	}
	return soakMsg{kind: kind, stream: k, seq: s, sentNs: t}
}

// appendSoakBody appends the body of a POST /api/publish (kindPub) or
// POST /api/push (kindPush) request for seq of stream k, sent at sentNs,
// with data padded to size bytes (or as short as it can be).
func appendSoakBody(dst []byte, kind, k int, seq, sentNs int64, size int) []byte {
	if kind == kindPush {
		dst = append(dst, `{"user":`...)
		dst = strconv.AppendQuote(dst, soakUser(k))
		dst = append(dst, `,"event":"`+soakPushEvent+`","data":`...)
	} else {
		dst = append(dst, `{"channel":`...)
		dst = strconv.AppendQuote(dst, soakChannel(k))
		dst = append(dst, `,"event":"`+soakPubEvent+`","data":`...)
	}
	start := len(dst)
	dst = append(dst, `{"k":`...)
	dst = strconv.AppendInt(dst, int64(k), 10)
	dst = append(dst, `,"s":`...)
	dst = strconv.AppendInt(dst, seq, 10)
	dst = append(dst, `,"t":`...)
	dst = strconv.AppendInt(dst, sentNs, 10)
	dst = append(dst, `,"p":"`...)
	for range max(size-(len(dst)-start)-len(`"}`), 0) {
		dst = append(dst, 'x')
	}
	return append(dst, `"}}`...)
}
