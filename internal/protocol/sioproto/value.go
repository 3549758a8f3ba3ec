package sioproto

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
)

// maxValueDepth bounds recursion over caller-supplied trees, which may be
// cyclic ([]any containing itself); it matches encoding/json's nesting limit.
const maxValueDepth = 10000

// errValueTooDeep reports a value nested beyond maxValueDepth.
var errValueTooDeep = errors.New("socketio: value nested too deeply (cyclic?)")

// appendValue encodes v, extracting []byte into attachments. The common
// scalar and tree types are handled directly, both for speed and so that
// binary data can be found inside them.
func (a *Args) appendValue(dst []byte, v any, depth int) ([]byte, error) {
	if depth > maxValueDepth {
		return dst, errValueTooDeep
	}
	switch v := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case []byte:
		return a.appendPlaceholder(dst, v), nil
	case string:
		return appendJSONString(dst, v), nil
	case bool:
		return strconv.AppendBool(dst, v), nil
	case float64:
		return appendFloat(dst, v), nil
	case float32:
		return appendFloat(dst, float64(v)), nil
	case int:
		return strconv.AppendInt(dst, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(dst, v, 10), nil
	case int32:
		return strconv.AppendInt(dst, int64(v), 10), nil
	case uint:
		return strconv.AppendUint(dst, uint64(v), 10), nil
	case uint64:
		return strconv.AppendUint(dst, v, 10), nil
	case uint32:
		return strconv.AppendUint(dst, uint64(v), 10), nil
	case json.RawMessage:
		return appendRaw(dst, v), nil
	case json.Number:
		if v == "" {
			return append(dst, '0'), nil
		}
		return append(dst, v...), nil
	case []any:
		dst = append(dst, '[')
		for i, e := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = a.appendValue(dst, e, depth+1); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	case map[string]any:
		// Sorted keys make the output deterministic, as encoding/json does.
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(appendJSONString(dst, k), ':')
			var err error
			if dst, err = a.appendValue(dst, v[k], depth+1); err != nil {
				return dst, err
			}
		}
		return append(dst, '}'), nil
	}
	return appendMarshal(dst, v)
}

// appendMarshal falls back to encoding/json, with HTML escaping off to
// stay closer to JSON.stringify.
func appendMarshal(dst []byte, v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return dst, err
	}
	return append(dst, bytes.TrimSuffix(b.Bytes(), []byte("\n"))...), nil
}
