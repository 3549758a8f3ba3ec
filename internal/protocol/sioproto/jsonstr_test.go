package sioproto

import "testing"

func TestAppendJSONStringLikeJSONStringify(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", `"plain"`},
		{"q\"b\\", `"q\"b\\"`},
		{"\b\f\n\r\t", `"\b\f\n\r\t"`},
		{"\x00\x01\x1e\x1f", `"\u0000\u0001\u001e\u001f"`},
		{"<&>\x7f", "\"<&>\x7f\""},
		{"\u2028\u2029é✓😀", "\"\u2028\u2029é✓😀\""},
		{"bad\xffutf8\xc3", `"bad\ufffdutf8\ufffd"`},
		{"", `""`},
	}
	for _, tt := range tests {
		if got := string(appendJSONString(nil, tt.in)); got != tt.want {
			t.Errorf("appendJSONString(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
