package sioproto

import (
	"encoding/json"
	"fmt"
	"math"
)

// Arg is one top-level argument of a decoded EVENT or ACK.
type Arg struct {
	// JSON is the argument's JSON text; for a binary argument, the
	// placeholder. It aliases the packet's Data.
	JSON json.RawMessage
	// Binary is the attachment when the argument itself is a binary value,
	// nil otherwise. Binary values nested deeper are available via
	// Packet.Values.
	Binary []byte
}

// IsBinary reports whether the argument is a binary value.
func (a Arg) IsBinary() bool { return a.Binary != nil }

// EventName returns the name of an Event packet (the first payload
// element), unescaped; a numeric name is returned as its JSON text, as
// JavaScript's event emitters key it.
func (p *Packet) EventName() (string, error) {
	if p.Type != Event && p.Type != BinaryEvent {
		return "", fmt.Errorf("%w: %s has no event name", ErrInvalidPayload, p.Type)
	}
	quoted, ok := eventName(p.Data)
	if !ok {
		return "", errNoEventName
	}
	if quoted[0] != '"' {
		return string(quoted), nil
	}
	raw := quoted[1 : len(quoted)-1]
	for _, c := range raw {
		if c == '\\' {
			var name string
			if err := json.Unmarshal(quoted, &name); err != nil {
				return "", ErrInvalidJSON
			}
			return name, nil
		}
	}
	return string(raw), nil
}

// Args returns the arguments of an Event (after the event name) or an Ack
// (all elements), with top-level placeholders resolved to their
// attachments. Placeholders are only interpreted when the packet has
// attachments, matching the reference, which never reconstructs plain
// EVENT or ACK packets.
func (p *Packet) Args() ([]Arg, error) {
	skip := 0
	switch p.Type {
	case Event, BinaryEvent:
		skip = 1
	case Ack, BinaryAck:
	default:
		return nil, fmt.Errorf("%w: %s has no arguments", ErrInvalidPayload, p.Type)
	}
	it, ok := newArrayIter(p.Data)
	if !ok {
		return nil, errNotArray
	}
	var args []Arg
	w := placeholderWalker{s: p.Data, n: len(p.Attachments)}
	for i := 0; ; i++ {
		start, end, ok := it.next()
		if !ok {
			return args, nil
		}
		if i < skip {
			continue
		}
		arg := Arg{JSON: json.RawMessage(p.Data[start:end])}
		if len(p.Attachments) > 0 && p.Data[start] == '{' {
			if _, idx, err := w.value(start); err != nil {
				return nil, err
			} else if idx >= 0 {
				arg.Binary = p.Attachments[idx]
			}
		}
		args = append(args, arg)
	}
}

// Values decodes the same arguments as Args into generic Go values
// (map[string]any, []any, string, float64, bool, nil) with every
// placeholder, however deeply nested, replaced by its attachment as
// []byte. It is the equivalent of what a JavaScript handler receives, and
// its result can be fed back to Args.Value.
func (p *Packet) Values() ([]any, error) {
	skip := 0
	switch p.Type {
	case Event, BinaryEvent:
		skip = 1
	case Ack, BinaryAck:
	default:
		return nil, fmt.Errorf("%w: %s has no arguments", ErrInvalidPayload, p.Type)
	}
	var all []any
	if err := json.Unmarshal(p.Data, &all); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidJSON, err)
	}
	if len(all) < skip {
		return nil, errNoEventName
	}
	vals := all[skip:]
	if len(p.Attachments) == 0 {
		return vals, nil
	}
	for i, v := range vals {
		r, err := reconstruct(v, p.Attachments)
		if err != nil {
			return nil, err
		}
		vals[i] = r
	}
	return vals, nil
}

// reconstruct replaces placeholders in v by attachments, in place where
// possible. Recursion depth is bounded by json.Unmarshal's nesting limit.
func reconstruct(v any, bins [][]byte) (any, error) {
	switch v := v.(type) {
	case []any:
		for i, e := range v {
			r, err := reconstruct(e, bins)
			if err != nil {
				return nil, err
			}
			v[i] = r
		}
	case map[string]any:
		if ph, _ := v["_placeholder"].(bool); ph {
			num, ok := v["num"].(float64)
			if !ok || num != math.Trunc(num) || num < 0 || num >= float64(len(bins)) {
				return nil, ErrBadPlaceholder
			}
			return bins[int(num)], nil
		}
		for k, e := range v {
			r, err := reconstruct(e, bins)
			if err != nil {
				return nil, err
			}
			v[k] = r
		}
	}
	return v, nil
}
