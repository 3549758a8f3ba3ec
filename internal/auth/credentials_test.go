package auth

import "testing"

func TestAllowsChannel(t *testing.T) {
	tests := []struct {
		name     string
		channels []string
		ch       string
		want     bool
	}{
		{"nil claim allows all", nil, "anything", true},
		{"nil claim allows empty name", nil, "", true},
		{"empty claim allows nothing", []string{}, "news", false},
		{"exact match", []string{"news"}, "news", true},
		{"exact is not prefix", []string{"news"}, "news:eu", false},
		{"exact is case-sensitive", []string{"news"}, "News", false},
		{"wildcard matches suffix", []string{"chat:*"}, "chat:lobby", true},
		{"wildcard matches bare prefix", []string{"chat:*"}, "chat:", true},
		{"wildcard needs the prefix", []string{"chat:*"}, "chat", false},
		{"wildcard does not match sibling", []string{"chat:*"}, "chatroom", false},
		{"lone star matches all", []string{"*"}, "whatever:x", true},
		{"star in the middle is literal", []string{"a*b"}, "axb", false},
		{"star in the middle exact", []string{"a*b"}, "a*b", true},
		{"second entry matches", []string{"news", "chat:*"}, "chat:x", true},
		{"no entry matches", []string{"news", "chat:*"}, "sports", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Credentials{User: "u", Channels: tt.channels}
			if got := c.AllowsChannel(tt.ch); got != tt.want {
				t.Errorf("AllowsChannel(%q) with %q = %v, want %v", tt.ch, tt.channels, got, tt.want)
			}
		})
	}
}
