package auth

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestSignHS256RoundTrip(t *testing.T) {
	v, err := NewVerifier(VerifierConfig{HMACSecret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts TokenOptions
	}{
		{"user only", TokenOptions{User: "alice"}},
		{"with ttl", TokenOptions{User: "alice", TTL: time.Hour}},
		{"with channels", TokenOptions{User: "alice", Channels: []string{"chat:*", "news"}}},
		{"with empty channels", TokenOptions{User: "alice", Channels: []string{}}},
		{"with info", TokenOptions{User: "alice", Info: json.RawMessage(`{"name":"Alice"}`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := time.Now().Truncate(time.Second)
			tok, err := SignHS256(testSecret, tt.opts)
			if err != nil {
				t.Fatalf("SignHS256: %v", err)
			}
			c, err := v.Verify(tok)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if c.User != tt.opts.User {
				t.Errorf("User = %q, want %q", c.User, tt.opts.User)
			}
			if tt.opts.TTL == 0 && !c.ExpiresAt.IsZero() {
				t.Errorf("ExpiresAt = %v, want zero for TTL 0", c.ExpiresAt)
			}
			if tt.opts.TTL > 0 {
				// exp has one-second resolution.
				lo, hi := before.Add(tt.opts.TTL), time.Now().Add(tt.opts.TTL)
				if c.ExpiresAt.Before(lo) || c.ExpiresAt.After(hi) {
					t.Errorf("ExpiresAt = %v, want within [%v, %v]", c.ExpiresAt, lo, hi)
				}
			}
			if (tt.opts.Channels == nil) != (c.Channels == nil) || strings.Join(c.Channels, ",") != strings.Join(tt.opts.Channels, ",") {
				t.Errorf("Channels = %#v, want %#v", c.Channels, tt.opts.Channels)
			}
			if string(c.Info) != string(tt.opts.Info) {
				t.Errorf("Info = %s, want %s", c.Info, tt.opts.Info)
			}
		})
	}
}

func TestSignHS256Errors(t *testing.T) {
	tests := []struct {
		name   string
		secret string
		opts   TokenOptions
	}{
		{"empty secret", "", TokenOptions{User: "alice"}},
		{"empty user", testSecret, TokenOptions{}},
		{"negative ttl", testSecret, TokenOptions{User: "alice", TTL: -time.Second}},
		{"invalid info", testSecret, TokenOptions{User: "alice", Info: json.RawMessage(`{"name":`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := SignHS256(tt.secret, tt.opts)
			if err == nil {
				t.Fatalf("SignHS256 = %q, want error", tok)
			}
			if strings.Contains(err.Error(), testSecret) {
				t.Errorf("error leaks the secret: %q", err)
			}
		})
	}
}

func TestSignHS256OtherSecretRejected(t *testing.T) {
	v, err := NewVerifier(VerifierConfig{HMACSecret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := SignHS256("another-secret", TokenOptions{User: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(tok); err == nil {
		t.Fatal("token signed with another secret was accepted")
	}
}
