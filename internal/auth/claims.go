package auth

import (
	"encoding/json"
	"errors"

	"github.com/golang-jwt/jwt/v5"
)

// claims is the JWT payload Herald reads and writes. One type serves both
// directions so the claim names cannot drift apart between SignHS256 and
// Verify.
type claims struct {
	jwt.RegisteredClaims
	// omitzero (not omitempty) keeps an empty non-nil slice on the wire:
	// "channels": [] means "no channels", which is not the same as absent.
	Channels []string        `json:"channels,omitzero"`
	Info     json.RawMessage `json:"info,omitzero"`
}

// errMissingSubject is reported through the jwt validator so that it is
// joined with any other claim failures and classified alongside them.
var errMissingSubject = errors.New("token has no sub claim")

// Validate implements jwt.ClaimsValidator. The library runs it after the
// signature has been checked, together with its own exp/nbf/iss/aud checks.
func (c *claims) Validate() error {
	if c.Subject == "" {
		return errMissingSubject
	}
	return nil
}
