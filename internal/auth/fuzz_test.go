package auth

import (
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// FuzzVerify checks that Verify never panics and that its result is always
// one of: credentials with a user, ErrTokenExpired, or ErrTokenInvalid.
func FuzzVerify(f *testing.F) {
	keys := testKeys()
	v, err := NewVerifier(VerifierConfig{
		HMACSecret:         testSecret,
		RSAPublicKeyFile:   writeFile(f, "rsa.pem", pkixPEM(f, &keys.rsa.PublicKey)),
		ECDSAPublicKeyFile: writeFile(f, "ec.pem", pkixPEM(f, &keys.ec.PublicKey)),
		Issuer:             "herald",
		Leeway:             time.Second,
	})
	if err != nil {
		f.Fatal(err)
	}
	full := jwt.MapClaims{
		"sub": "alice", "iss": "herald", "exp": time.Now().Add(time.Hour).Unix(),
		"channels": []string{"chat:*"}, "info": map[string]string{"name": "Alice"},
	}
	for _, seed := range []string{
		sign(f, jwt.SigningMethodHS256, []byte(testSecret), full),
		sign(f, jwt.SigningMethodRS256, keys.rsa, full),
		sign(f, jwt.SigningMethodES256, keys.ec, full),
		sign(f, jwt.SigningMethodHS256, []byte(testSecret), jwt.MapClaims{"sub": "a", "iss": "herald", "exp": 1}),
		sign(f, jwt.SigningMethodHS256, []byte(testSecret), jwt.MapClaims{"sub": "a", "iss": "herald", "exp": 1e300, "nbf": -1e300}),
		noneToken(`{"sub":"alice","iss":"herald"}`),
		"", ".", "..", "a.b", "a.b.c", "garbage",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, token string) {
		c, err := v.Verify(token)
		if err == nil {
			if c.User == "" {
				t.Fatalf("accepted %q without a user", token)
			}
			return
		}
		if !errors.Is(err, ErrTokenInvalid) && !errors.Is(err, ErrTokenExpired) {
			t.Fatalf("Verify(%q) error %v matches neither sentinel", token, err)
		}
	})
}
