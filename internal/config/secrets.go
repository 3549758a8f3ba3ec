package config

import (
	"errors"
	"strings"

	herald "github.com/heraldhq/herald"
)

// requireSecrets reports, by key, every secret c lacks that a production
// node needs: without an API key the server API is off, and without a
// token key no client can prove who it is. Messages start with where,
// the file's name, when there is one.
func requireSecrets(c herald.Config, where string) error {
	var errs []error
	if where != "" {
		where += ": "
	}
	if blank(c.APIKey) {
		errs = append(errs, errors.New(where+
			"api_key: missing; a production config needs the key that authorizes the HTTP server API (or set HERALD_API_KEY)"))
	}
	if !c.AllowAnonymous && blank(c.TokenSecret) && blank(c.TokenRSAPublicKey) && blank(c.TokenECDSAPublicKey) {
		errs = append(errs, errors.New(where+
			"token_secret: missing; set token_secret, token_rsa_public_key or token_ecdsa_public_key to verify connection tokens, or allow_anonymous: true"))
	}
	return errors.Join(errs...)
}

// blank treats a whitespace-only secret as missing: it is a placeholder,
// not a key.
func blank(s string) bool { return strings.TrimSpace(s) == "" }
