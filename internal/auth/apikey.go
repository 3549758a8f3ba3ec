package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strings"
)

// apiKeyScheme is the Authorization scheme for server API keys, compared
// case-insensitively as HTTP auth schemes are.
const apiKeyScheme = "apikey"

// CheckAPIKey reports whether the Authorization header value carries key
// ("apikey <key>", scheme case-insensitive). It compares in constant time,
// also when lengths differ. An empty configured key never matches.
func CheckAPIKey(authorizationHeader, key string) bool {
	// An unset key must not turn into "an empty header is fine".
	if key == "" {
		return false
	}
	scheme, presented, ok := strings.Cut(strings.TrimSpace(authorizationHeader), " ")
	if !ok || !strings.EqualFold(scheme, apiKeyScheme) {
		return false
	}
	presented = strings.TrimSpace(presented)
	if presented == "" {
		return false
	}
	// subtle.ConstantTimeCompare returns early on a length mismatch, which
	// would leak the key's length; comparing fixed-size digests does not.
	got := sha256.Sum256([]byte(presented))
	want := sha256.Sum256([]byte(key))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// GenerateSecret returns n random bytes from crypto/rand, encoded as URL-safe
// base64 without padding, for dev-mode API keys and HMAC secrets. It panics
// if n < 1, since an empty secret is never what the caller wants.
func GenerateSecret(n int) string {
	if n < 1 {
		panic("auth: GenerateSecret needs n >= 1")
	}
	b := make([]byte, n)
	// Since Go 1.24 crypto/rand.Read never fails (it crashes the program
	// instead), so there is no error to hand back.
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
