package sioproto

// Helpers that walk JSON text already accepted by json.Valid. Relying on
// that prior validation keeps them small: they only need to find value
// boundaries, never to diagnose syntax. They still bounds-check every
// access so that misuse yields a wrong answer rather than a panic.

// isSpace reports JSON insignificant whitespace.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipSpace returns the index of the first non-space byte at or after i.
func skipSpace(s []byte, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

// firstByte returns the first significant byte of s, or 0 if none.
func firstByte(s []byte) byte {
	if i := skipSpace(s, 0); i < len(s) {
		return s[i]
	}
	return 0
}

// stringEnd returns the index just past the string literal starting at
// s[i] == '"'.
func stringEnd(s []byte, i int) int {
	for i++; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(s)
}

// scalarEnd returns the index just past the number or literal at s[i].
func scalarEnd(s []byte, i int) int {
	for i < len(s) {
		switch c := s[i]; {
		case c == ',' || c == ']' || c == '}' || isSpace(c):
			return i
		}
		i++
	}
	return i
}

// valueEnd returns the index just past the value starting at s[i]. It is
// iterative so its cost does not depend on nesting depth.
func valueEnd(s []byte, i int) int {
	if i >= len(s) {
		return i
	}
	switch s[i] {
	case '"':
		return stringEnd(s, i)
	case '[', '{':
	default:
		return scalarEnd(s, i)
	}
	depth := 0
	for i < len(s) {
		switch s[i] {
		case '"':
			i = stringEnd(s, i)
			continue
		case '[', '{':
			depth++
		case ']', '}':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
		i++
	}
	return i
}

// arrayIter walks the elements of a JSON array.
type arrayIter struct {
	s []byte
	i int
}

// newArrayIter positions an iterator on the array in s; ok is false if s
// is not an array.
func newArrayIter(s []byte) (it arrayIter, ok bool) {
	i := skipSpace(s, 0)
	if i >= len(s) || s[i] != '[' {
		return arrayIter{}, false
	}
	return arrayIter{s: s, i: i + 1}, true
}

// next returns the bounds [start, end) of the next element, or ok false at
// the end of the array.
func (it *arrayIter) next() (start, end int, ok bool) {
	i := skipSpace(it.s, it.i)
	if i < len(it.s) && it.s[i] == ',' {
		i = skipSpace(it.s, i+1)
	}
	if i >= len(it.s) || it.s[i] == ']' {
		it.i = len(it.s)
		return 0, 0, false
	}
	end = valueEnd(it.s, i)
	if end <= i {
		// Only reachable on invalid JSON (a stray '}'); stop rather than
		// spin forever.
		it.i = len(it.s)
		return 0, 0, false
	}
	it.i = end
	return i, end, true
}
