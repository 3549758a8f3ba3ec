package auth

import (
	"encoding/json"
	"strings"
	"time"
)

// Credentials say who a connection is.
type Credentials struct {
	// User is the JWT "sub" claim; "" means anonymous.
	User string
	// ExpiresAt comes from the "exp" claim; zero means the token never
	// expires.
	ExpiresAt time.Time
	// Channels is the optional "channels" claim: the only channels this token
	// may subscribe to. nil means no restriction, while an empty non-nil
	// slice allows nothing. Entries ending in "*" are prefix wildcards
	// ("chat:*").
	Channels []string
	// Info is the optional "info" claim: public JSON shown to other clients
	// in presence. It is nil when the claim is absent or null.
	Info json.RawMessage
}

// AllowsChannel reports whether the token's channel claim lets it subscribe
// to ch (true when Channels is nil).
func (c Credentials) AllowsChannel(ch string) bool {
	// nil and empty differ on purpose: a token minted with "channels": []
	// must not be silently upgraded to "everything".
	if c.Channels == nil {
		return true
	}
	for _, pattern := range c.Channels {
		if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
			if strings.HasPrefix(ch, prefix) {
				return true
			}
			continue
		}
		if pattern == ch {
			return true
		}
	}
	return false
}
