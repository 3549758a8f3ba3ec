package sioproto

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
)

// Binary placeholders follow the reference reconstruction rules: an object
// is a placeholder when its "_placeholder" key (last occurrence wins, as
// with JSON.parse) is the boolean true; its "num" must then be a number
// indexing an attachment, and whatever else it contains is ignored because
// the whole object is replaced by the attachment.

// placeholderWalker validates every placeholder in a JSON value against the
// number of attachments.
type placeholderWalker struct {
	s     []byte
	n     int
	depth int
}

// maxWalkDepth mirrors json.Valid's nesting limit. Decoded payloads never
// reach it; it protects hand-built, unvalidated ones from stack blow-up.
const maxWalkDepth = 10000

// value checks the value at s[i] and returns the index just past it. When
// the value is itself a placeholder, idx is its attachment index, else -1.
func (w *placeholderWalker) value(i int) (end, idx int, err error) {
	if i >= len(w.s) {
		return i, -1, ErrInvalidJSON
	}
	switch w.s[i] {
	case '{', '[':
		if w.depth >= maxWalkDepth {
			return len(w.s), -1, ErrInvalidJSON
		}
		w.depth++
		if w.s[i] == '{' {
			end, idx, err = w.object(i)
		} else {
			end, idx, err = w.array(i)
		}
		w.depth--
		return end, idx, err
	}
	return valueEnd(w.s, i), -1, nil
}

// array checks each element of the array at s[i].
func (w *placeholderWalker) array(i int) (end, idx int, err error) {
	i = skipSpace(w.s, i+1)
	for i < len(w.s) && w.s[i] != ']' {
		start := i
		var verr error
		if i, _, verr = w.value(i); verr != nil && err == nil {
			err = verr
		}
		if i <= start {
			// Only reachable on invalid JSON; never loop in place.
			return len(w.s), -1, ErrInvalidJSON
		}
		i = skipSpace(w.s, i)
		if i < len(w.s) && w.s[i] == ',' {
			i = skipSpace(w.s, i+1)
		}
	}
	return i + 1, -1, err
}

// object checks the object at s[i]. Errors found in its members are only
// reported if the object is not itself a placeholder, because the
// reference discards a placeholder's contents without looking at them;
// deferring the decision keeps the walk single-pass.
func (w *placeholderWalker) object(i int) (end, idx int, err error) {
	isPH := false
	var num []byte
	i = skipSpace(w.s, i+1)
	for i < len(w.s) && w.s[i] == '"' {
		kEnd := stringEnd(w.s, i)
		key := w.s[i:kEnd]
		i = skipSpace(w.s, kEnd)
		if i < len(w.s) && w.s[i] == ':' {
			i = skipSpace(w.s, i+1)
		}
		vStart := i
		var verr error
		if i, _, verr = w.value(i); verr != nil && err == nil {
			err = verr
		}
		switch {
		case keyIs(key, "_placeholder"):
			isPH = string(w.s[vStart:i]) == "true"
		case keyIs(key, "num"):
			num = w.s[vStart:i]
		}
		i = skipSpace(w.s, i)
		if i < len(w.s) && w.s[i] == ',' {
			i = skipSpace(w.s, i+1)
		}
	}
	end = i + 1
	if !isPH {
		return end, -1, err
	}
	idx, ok := placeholderIndex(num, w.n)
	if !ok {
		return end, -1, ErrBadPlaceholder
	}
	return end, idx, nil
}

// keyIs compares a quoted JSON key with name, unescaping only when the key
// contains escapes (a client may write "\u005fplaceholder").
func keyIs(quoted []byte, name string) bool {
	if len(quoted) < 2 {
		return false
	}
	raw := quoted[1 : len(quoted)-1]
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw) == name
	}
	var k string
	return json.Unmarshal(quoted, &k) == nil && k == name
}

// placeholderIndex validates a placeholder's raw num against n attachments.
// Like the reference it accepts any JSON number denoting a valid index
// (so 1.0 and 1e0 are index 1); fractions, negatives and non-numbers fail.
func placeholderIndex(raw []byte, n int) (int, bool) {
	if len(raw) == 0 {
		return 0, false
	}
	// Fast path for the plain integers every real encoder writes; it also
	// spares the string conversion ParseFloat needs.
	if len(raw) <= 9 {
		v, digits := 0, true
		for _, c := range raw {
			if c < '0' || c > '9' {
				digits = false
				break
			}
			v = v*10 + int(c-'0')
		}
		if digits {
			return v, v < n
		}
	}
	if c := raw[0]; c != '-' && (c < '0' || c > '9') {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || f != math.Trunc(f) || f < 0 || f >= float64(n) {
		return 0, false
	}
	return int(f), true
}

// checkPlaceholders validates every placeholder in data against n
// attachments.
func checkPlaceholders(data []byte, n int) error {
	w := placeholderWalker{s: data, n: n}
	_, _, err := w.value(skipSpace(data, 0))
	return err
}
