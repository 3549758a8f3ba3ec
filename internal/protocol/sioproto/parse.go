package sioproto

import (
	"bytes"
	"encoding/json"
	"math"
)

// isDigit reports an ASCII decimal digit.
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// parseText decodes the text frame of a packet. For binary types it returns
// the announced attachment count and leaves Attachments empty; the type is
// still the wire type.
func (d *Decoder) parseText(s []byte) (p Packet, attachments int, err error) {
	if len(s) == 0 {
		// The reference would read "" as CONNECT through Number(""); no
		// encoder ever sends an empty frame, so refuse it.
		return Packet{}, 0, errEmptyFrame
	}
	if s[0] < '0' || s[0] > '0'+byte(BinaryAck) {
		return Packet{}, 0, ErrUnknownType
	}
	p.Type = PacketType(s[0] - '0')
	i := 1

	if p.Type.isBinary() {
		if attachments, i, err = d.parseAttachments(s, i); err != nil {
			return Packet{}, 0, err
		}
	}

	p.Namespace = DefaultNamespace
	if i < len(s) && s[i] == '/' {
		var ns []byte
		if c := bytes.IndexByte(s[i:], ','); c >= 0 {
			ns, i = s[i:i+c], i+c+1
		} else {
			// Without a comma the reference swallows the rest of the frame
			// into the namespace. That is only sane when nothing follows;
			// JSON punctuation means a payload lost its separator.
			ns, i = s[i:], len(s)
			if bytes.ContainsAny(ns, `[{"`) {
				return Packet{}, 0, ErrBadNamespace
			}
		}
		p.Namespace = d.intern(ns)
	}

	if i < len(s) && isDigit(s[i]) {
		if p.ID, i, err = parseID(s, i); err != nil {
			return Packet{}, 0, err
		}
		p.HasID = true
	}

	if i < len(s) {
		p.Data = s[i:]
	}
	if err := checkPayload(p.Type, p.Data); err != nil {
		return Packet{}, 0, err
	}
	// Checked even for "0-" packets: a packet that calls itself binary
	// but references attachments it does not announce is malformed. The
	// check runs before any attachment is buffered.
	if p.Type.isBinary() {
		if err := checkPlaceholders(p.Data, attachments); err != nil {
			return Packet{}, 0, err
		}
	}
	return p, attachments, nil
}

// parseAttachments reads the "<n>-" prefix of a binary packet at s[i].
func (d *Decoder) parseAttachments(s []byte, i int) (n, next int, err error) {
	limit := int(d.maxAttachments)
	if limit <= 0 {
		limit = DefaultMaxAttachments
	}
	start := i
	for ; i < len(s) && isDigit(s[i]); i++ {
		n = n*10 + int(s[i]-'0')
		// Checking as we go also rules out integer overflow.
		if n > limit {
			return 0, 0, ErrTooManyAttachments
		}
	}
	if i == start || i >= len(s) || s[i] != '-' {
		return 0, 0, ErrBadAttachments
	}
	return n, i + 1, nil
}

// parseID reads the decimal ack id at s[i].
func parseID(s []byte, i int) (id uint64, next int, err error) {
	for ; i < len(s) && isDigit(s[i]); i++ {
		dgt := uint64(s[i] - '0')
		if id > (math.MaxUint64-dgt)/10 {
			return 0, 0, ErrBadID
		}
		id = id*10 + dgt
	}
	// Only the payload may follow the id; anything else means the id was
	// not a plain integer ("1.5", "1e3", "12abc").
	if i < len(s) {
		switch c := s[i]; {
		case c == '[' || c == '{' || c == '"' || isSpace(c):
		default:
			return 0, 0, ErrBadID
		}
	}
	return id, i, nil
}

// intern returns ns as a string, reusing the previous namespace when it is
// the same: a connection usually talks to one or two namespaces, so this
// avoids an allocation per packet.
func (d *Decoder) intern(ns []byte) string {
	if string(ns) == DefaultNamespace {
		return DefaultNamespace
	}
	if string(ns) != d.lastNS {
		d.lastNS = string(ns)
	}
	return d.lastNS
}

// checkPayload applies the reference's per-type payload rules
// (Decoder.isPayloadValid in socket.io-parser), with two deliberate
// tightenings: EVENT and ACK require a payload, and an EVENT name must be
// a string.
func checkPayload(t PacketType, data []byte) error {
	if data == nil {
		switch t {
		case Event, BinaryEvent, Ack, BinaryAck:
			return errMissingPayload
		}
		return nil
	}
	if !json.Valid(data) {
		return ErrInvalidJSON
	}
	switch c := firstByte(data); t {
	case Connect:
		if c != '{' {
			return errNotObject
		}
	case Disconnect:
		return errUnexpectedPayload
	case ConnectError:
		if c != '{' && c != '"' {
			return errNotObjectOrString
		}
	case Ack, BinaryAck:
		if c != '[' {
			return errNotArray
		}
	case Event, BinaryEvent:
		if c != '[' {
			return errNotArray
		}
		name, ok := eventName(data)
		if !ok {
			return errNoEventName
		}
		if name[0] == '"' && isReservedRaw(name) {
			return ErrReservedEvent
		}
	}
	return nil
}

// eventName returns the first element of an EVENT payload: a quoted
// string, or a number, which the reference parser accepts too.
func eventName(data []byte) (name []byte, ok bool) {
	it, ok := newArrayIter(data)
	if !ok {
		return nil, false
	}
	start, end, ok := it.next()
	if !ok {
		return nil, false
	}
	if c := data[start]; c == '-' || c >= '0' && c <= '9' {
		var f float64
		return data[start:end], json.Unmarshal(data[start:end], &f) == nil
	}
	// The length check only matters for unvalidated data handed to
	// Packet.EventName; it keeps the slicing below in bounds.
	if data[start] != '"' || end-start < 2 || data[end-1] != '"' {
		return nil, false
	}
	return data[start:end], true
}

// isReservedRaw checks a quoted event name against the reserved list,
// unescaping only when needed so "\u0063onnect" cannot sneak through.
func isReservedRaw(quoted []byte) bool {
	raw := quoted[1 : len(quoted)-1]
	if bytes.IndexByte(raw, '\\') < 0 {
		return IsReservedEvent(string(raw))
	}
	var name string
	if json.Unmarshal(quoted, &name) != nil {
		return false
	}
	return IsReservedEvent(name)
}
