package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TokenOptions describe a token minted by [SignHS256].
type TokenOptions struct {
	// User becomes the "sub" claim; it is required because Verify refuses
	// tokens without one.
	User string
	// TTL sets "exp" to now+TTL; 0 means the token never expires.
	TTL time.Duration
	// Channels becomes the "channels" claim. nil omits it (no restriction);
	// an empty non-nil slice is kept and allows no channels.
	Channels []string
	// Info becomes the "info" claim; it must be valid JSON. nil omits it.
	Info json.RawMessage
}

// SignHS256 mints an HS256 token with secret, for the CLI and dev mode.
func SignHS256(secret string, o TokenOptions) (string, error) {
	// Refuse here whatever Verify would refuse later, so a bad token is
	// caught where it is made rather than when a client connects.
	if secret == "" {
		return "", errors.New("auth: HMAC secret is empty")
	}
	if o.User == "" {
		return "", errors.New("auth: token needs a user (sub)")
	}
	if o.TTL < 0 {
		return "", fmt.Errorf("auth: token TTL must not be negative (got %s)", o.TTL)
	}
	if o.Info != nil && !json.Valid(o.Info) {
		return "", errors.New("auth: token info is not valid JSON")
	}

	now := time.Now()
	c := claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:  o.User,
			IssuedAt: jwt.NewNumericDate(now),
		},
		Channels: o.Channels,
		Info:     o.Info,
	}
	if o.TTL > 0 {
		c.ExpiresAt = jwt.NewNumericDate(now.Add(o.TTL))
	}
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, &c).SignedString([]byte(secret))
	if err != nil {
		// jwt's signing errors never include the key.
		return "", fmt.Errorf("auth: signing token: %w", err)
	}
	return token, nil
}
