package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

const testSecret = "test-hmac-secret-do-not-leak-0123456789"

// Key generation (RSA-2048 especially) is slow under -race, so every test
// shares one set of keys.
var testKeys = sync.OnceValue(func() keySet {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	otherRSA, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return keySet{rsa: rsaKey, otherRSA: otherRSA, ec: ecKey}
})

type keySet struct {
	rsa, otherRSA *rsa.PrivateKey
	ec            *ecdsa.PrivateKey
}

// pkixPEM encodes pub as a PKIX "PUBLIC KEY" PEM block.
func pkixPEM(t testing.TB, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// writeFile writes data into a fresh temp dir and returns the path.
func writeFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// sign builds a token with the jwt library itself, so the tests do not
// depend on SignHS256 for anything but its own test.
func sign(t testing.TB, m jwt.SigningMethod, key any, c jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, c).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// b64 is the unpadded base64url encoding JWTs use.
func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// noneToken hand-crafts an unsigned alg=none token, as an attacker would.
func noneToken(payload string) string {
	return b64(`{"alg":"none","typ":"JWT"}`) + "." + b64(payload) + "."
}
