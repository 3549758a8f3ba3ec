package auth

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Errors returned by [Verifier.Verify]. They are sentinels for errors.Is; the
// returned error usually wraps one of them together with the reason.
var (
	// ErrTokenExpired means the token was valid but its "exp" has passed;
	// the client should fetch a fresh token and reconnect.
	ErrTokenExpired = errors.New("token expired")
	// ErrTokenInvalid means the token must not be accepted: malformed, bad
	// signature, refused algorithm, missing "sub", wrong issuer or audience,
	// or not yet valid.
	ErrTokenInvalid = errors.New("token invalid")
	// ErrTokenNotYetValid means the token's "nbf" lies in the future. Errors
	// that match it also match ErrTokenInvalid, so callers that only know
	// about ErrTokenInvalid treat it correctly.
	ErrTokenNotYetValid = errors.New("token not yet valid")
)

// Algorithms Herald accepts. Anything else (including "none" and the other
// HMAC/RSA/ECDSA hash sizes) is refused outright.
const (
	algHS256 = "HS256"
	algRS256 = "RS256"
	algES256 = "ES256"
)

// VerifierConfig says which keys a [Verifier] trusts and which claims it
// insists on.
type VerifierConfig struct {
	// HMACSecret is the HS256 shared secret; "" means HS256 tokens are
	// refused.
	HMACSecret string
	// RSAPublicKeyFile is a PEM file with an RSA public key (PKIX or PKCS#1,
	// or a certificate) for RS256; "" means RS256 tokens are refused.
	RSAPublicKeyFile string
	// ECDSAPublicKeyFile is a PEM file with an ECDSA P-256 public key (PKIX
	// or a certificate) for ES256; "" means ES256 tokens are refused.
	ECDSAPublicKeyFile string
	// Issuer, when non-empty, must equal the token's "iss".
	Issuer string
	// Audience, when non-empty, must appear in the token's "aud".
	Audience string
	// Leeway is the clock skew allowed when checking "exp" and "nbf".
	Leeway time.Duration
}

// Verifier checks JWTs presented by clients. It is safe for concurrent use.
type Verifier struct {
	// Each key is stored in the concrete type its algorithm needs, so the
	// key function can never hand an RSA key to the HMAC code as bytes.
	hmacKey []byte
	rsaKey  *rsa.PublicKey
	ecKey   *ecdsa.PublicKey
	parser  *jwt.Parser
}

// NewVerifier builds a Verifier from cfg. The error names the offending file
// or setting. At least one key must be configured.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	if cfg.Leeway < 0 {
		return nil, fmt.Errorf("auth: leeway must not be negative (got %s)", cfg.Leeway)
	}
	v := &Verifier{}
	var methods []string
	if cfg.HMACSecret != "" {
		v.hmacKey = []byte(cfg.HMACSecret)
		methods = append(methods, algHS256)
	}
	if cfg.RSAPublicKeyFile != "" {
		key, err := loadRSAPublicKey(cfg.RSAPublicKeyFile)
		if err != nil {
			return nil, err
		}
		v.rsaKey = key
		methods = append(methods, algRS256)
	}
	if cfg.ECDSAPublicKeyFile != "" {
		key, err := loadECDSAPublicKey(cfg.ECDSAPublicKeyFile)
		if err != nil {
			return nil, err
		}
		v.ecKey = key
		methods = append(methods, algES256)
	}
	if len(methods) == 0 {
		return nil, errors.New("auth: no token verification key configured: set an HMAC secret, an RSA public key file or an ECDSA public key file")
	}

	opts := []jwt.ParserOption{
		// Only algorithms we hold a key for get as far as the key function.
		jwt.WithValidMethods(methods),
		jwt.WithLeeway(cfg.Leeway),
		// Reject non-canonical base64 so one token has exactly one encoding.
		jwt.WithStrictDecoding(),
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	// The parser is read-only after construction, so one instance can be
	// shared by all connections.
	v.parser = jwt.NewParser(opts...)
	return v, nil
}

// Verify checks token and returns who it identifies. Errors match
// [ErrTokenExpired] or [ErrTokenInvalid] (and possibly [ErrTokenNotYetValid])
// under errors.Is, and say why; they never contain key material.
func (v *Verifier) Verify(token string) (Credentials, error) {
	var c claims
	if _, err := v.parser.ParseWithClaims(token, &c, v.keyFor); err != nil {
		return Credentials{}, classify(err)
	}

	creds := Credentials{
		User:     c.Subject,
		Channels: c.Channels,
	}
	if c.ExpiresAt != nil {
		creds.ExpiresAt = c.ExpiresAt.Time
	}
	// encoding/json hands "info": null to RawMessage as the literal null;
	// report it as absent so callers only have one "no info" case.
	if len(c.Info) > 0 && !bytes.Equal(c.Info, []byte("null")) {
		creds.Info = c.Info
	}
	return creds, nil
}

// keyFor is the jwt key function. It selects the key from the token's alg
// and also checks the method's concrete type, so that a token claiming HS256
// can only ever be checked against the HMAC secret (the classic RS/HS
// confusion attack relies on the RSA public key being used as an HMAC key).
func (v *Verifier) keyFor(t *jwt.Token) (any, error) {
	switch t.Method.Alg() {
	case algHS256:
		if _, ok := t.Method.(*jwt.SigningMethodHMAC); ok && v.hmacKey != nil {
			return v.hmacKey, nil
		}
	case algRS256:
		if _, ok := t.Method.(*jwt.SigningMethodRSA); ok && v.rsaKey != nil {
			return v.rsaKey, nil
		}
	case algES256:
		if _, ok := t.Method.(*jwt.SigningMethodECDSA); ok && v.ecKey != nil {
			return v.ecKey, nil
		}
	}
	// Unreachable while WithValidMethods matches the configured keys; kept
	// so that a future change there fails closed.
	return nil, fmt.Errorf("signing method %s not accepted", t.Method.Alg())
}

// classify maps a jwt error onto our sentinels. Claim failures are only
// reported once the signature has been verified, and problems that a token
// refresh cannot fix (issuer, audience, sub, nbf) win over expiry so that
// clients are not told to retry something that will fail again.
func classify(err error) error {
	if !errors.Is(err, jwt.ErrTokenInvalidClaims) {
		// Malformed, unverifiable, refused alg or bad signature.
		return fmt.Errorf("%w: %w", ErrTokenInvalid, err)
	}
	switch {
	case errors.Is(err, errMissingSubject),
		errors.Is(err, jwt.ErrTokenInvalidIssuer),
		errors.Is(err, jwt.ErrTokenInvalidAudience),
		errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return fmt.Errorf("%w: %w", ErrTokenInvalid, err)
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return fmt.Errorf("%w: %w", ErrTokenInvalid, ErrTokenNotYetValid)
	case errors.Is(err, jwt.ErrTokenExpired):
		return ErrTokenExpired
	default:
		return fmt.Errorf("%w: %w", ErrTokenInvalid, err)
	}
}
