package sioproto

import (
	"math"
	"strconv"

	"github.com/heraldhq/herald/internal/protocol/jsonenc"
)

// appendJSONString appends s as JSON.stringify writes it.
func appendJSONString(dst []byte, s string) []byte { return jsonenc.AppendString(dst, s) }

// appendFloat formats f the way JSON.stringify does: shortest round-trip
// digits, exponent form only below 1e-6 or from 1e21 up, and null for NaN
// and infinities (which JSON cannot represent).
func appendFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// Go writes "1e-07"; JavaScript writes "1e-7".
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}
