package eioproto

import "github.com/heraldhq/herald/internal/protocol/jsonenc"

// appendJSONString appends s as JSON.stringify writes it, so bodies match
// the reference byte for byte.
func appendJSONString(dst []byte, s string) []byte { return jsonenc.AppendString(dst, s) }
