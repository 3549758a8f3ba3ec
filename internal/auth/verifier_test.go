package auth

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestVerify(t *testing.T) {
	keys := testKeys()
	rsaPubPEM := pkixPEM(t, &keys.rsa.PublicKey)
	rsaFile := writeFile(t, "rsa.pem", rsaPubPEM)
	ecFile := writeFile(t, "ec.pem", pkixPEM(t, &keys.ec.PublicKey))

	hmacOnly := VerifierConfig{HMACSecret: testSecret}
	rsaOnly := VerifierConfig{RSAPublicKeyFile: rsaFile}
	all := VerifierConfig{HMACSecret: testSecret, RSAPublicKeyFile: rsaFile, ECDSAPublicKeyFile: ecFile}
	withIss := VerifierConfig{HMACSecret: testSecret, Issuer: "herald", Audience: "ws"}
	withLeeway := VerifierConfig{HMACSecret: testSecret, Leeway: time.Minute}

	now := time.Now()
	hour := now.Add(time.Hour).Unix()
	hs := func(c jwt.MapClaims) string { return sign(t, jwt.SigningMethodHS256, []byte(testSecret), c) }

	tests := []struct {
		name    string
		cfg     VerifierConfig
		token   string
		wantErr error // nil, ErrTokenExpired, ErrTokenInvalid or ErrTokenNotYetValid
		errHas  string
		check   func(t *testing.T, c Credentials)
	}{
		{
			name:  "valid HS256",
			cfg:   hmacOnly,
			token: hs(jwt.MapClaims{"sub": "alice", "exp": hour}),
			check: func(t *testing.T, c Credentials) {
				if c.User != "alice" || !c.ExpiresAt.Equal(time.Unix(hour, 0)) {
					t.Errorf("got %+v", c)
				}
				if c.Channels != nil || c.Info != nil {
					t.Errorf("absent claims should be nil: %+v", c)
				}
				if !c.AllowsChannel("anything") {
					t.Error("no channels claim should allow everything")
				}
			},
		},
		{
			name:  "HS256 without exp never expires",
			cfg:   all,
			token: hs(jwt.MapClaims{"sub": "alice"}),
			check: func(t *testing.T, c Credentials) {
				if !c.ExpiresAt.IsZero() {
					t.Errorf("ExpiresAt = %v, want zero", c.ExpiresAt)
				}
			},
		},
		{
			name:    "expired",
			cfg:     hmacOnly,
			token:   hs(jwt.MapClaims{"sub": "alice", "exp": now.Add(-time.Minute).Unix()}),
			wantErr: ErrTokenExpired,
		},
		{
			name:  "expired but within leeway",
			cfg:   withLeeway,
			token: hs(jwt.MapClaims{"sub": "alice", "exp": now.Add(-30 * time.Second).Unix()}),
		},
		{
			name:    "expired beyond leeway",
			cfg:     withLeeway,
			token:   hs(jwt.MapClaims{"sub": "alice", "exp": now.Add(-2 * time.Minute).Unix()}),
			wantErr: ErrTokenExpired,
		},
		{
			name:    "not yet valid",
			cfg:     hmacOnly,
			token:   hs(jwt.MapClaims{"sub": "alice", "nbf": hour}),
			wantErr: ErrTokenNotYetValid,
		},
		{
			name:  "nbf within leeway",
			cfg:   withLeeway,
			token: hs(jwt.MapClaims{"sub": "alice", "nbf": now.Add(30 * time.Second).Unix()}),
		},
		{
			name:    "wrong signature",
			cfg:     hmacOnly,
			token:   sign(t, jwt.SigningMethodHS256, []byte("some-other-secret"), jwt.MapClaims{"sub": "alice"}),
			wantErr: ErrTokenInvalid,
			errHas:  "signature is invalid",
		},
		{
			name:    "expired with wrong signature reports invalid, not expired",
			cfg:     hmacOnly,
			token:   sign(t, jwt.SigningMethodHS256, []byte("some-other-secret"), jwt.MapClaims{"sub": "alice", "exp": now.Add(-time.Hour).Unix()}),
			wantErr: ErrTokenInvalid,
		},
		{
			name:    "tampered payload",
			cfg:     hmacOnly,
			token:   swapPayload(hs(jwt.MapClaims{"sub": "alice"}), `{"sub":"admin"}`),
			wantErr: ErrTokenInvalid,
		},
		{
			name:    "alg none, no signature",
			cfg:     all,
			token:   noneToken(`{"sub":"alice"}`),
			wantErr: ErrTokenInvalid,
		},
		{
			name:    "alg none with a bogus signature",
			cfg:     all,
			token:   noneToken(`{"sub":"alice"}`) + b64("sig"),
			wantErr: ErrTokenInvalid,
		},
		{
			name:    "alg NONE upper case",
			cfg:     all,
			token:   b64(`{"alg":"NONE","typ":"JWT"}`) + "." + b64(`{"sub":"alice"}`) + ".",
			wantErr: ErrTokenInvalid,
		},
		{
			name:    "HS256 signed with RSA public key PEM (alg confusion)",
			cfg:     all,
			token:   sign(t, jwt.SigningMethodHS256, rsaPubPEM, jwt.MapClaims{"sub": "alice"}),
			wantErr: ErrTokenInvalid,
		},
		{
			name:    "HS256 signed with RSA public key PEM, RSA-only verifier",
			cfg:     rsaOnly,
			token:   sign(t, jwt.SigningMethodHS256, rsaPubPEM, jwt.MapClaims{"sub": "alice"}),
			wantErr: ErrTokenInvalid,
		},
		{
			name:  "valid RS256",
			cfg:   all,
			token: sign(t, jwt.SigningMethodRS256, keys.rsa, jwt.MapClaims{"sub": "bob", "exp": hour}),
			check: func(t *testing.T, c Credentials) {
				if c.User != "bob" {
					t.Errorf("User = %q", c.User)
				}
			},
		},
		{
			name:    "RS256 signed by another key",
			cfg:     rsaOnly,
			token:   sign(t, jwt.SigningMethodRS256, keys.otherRSA, jwt.MapClaims{"sub": "bob"}),
			wantErr: ErrTokenInvalid,
		},
		{
			name:    "RS256 when only HMAC configured",
			cfg:     hmacOnly,
			token:   sign(t, jwt.SigningMethodRS256, keys.rsa, jwt.MapClaims{"sub": "bob"}),
			wantErr: ErrTokenInvalid,
			errHas:  "RS256",
		},
		{
			name:    "HS256 when only RSA configured",
			cfg:     rsaOnly,
			token:   hs(jwt.MapClaims{"sub": "alice"}),
			wantErr: ErrTokenInvalid,
		},
		{
			name:    "RS512 refused even with the right key",
			cfg:     all,
			token:   sign(t, jwt.SigningMethodRS512, keys.rsa, jwt.MapClaims{"sub": "bob"}),
			wantErr: ErrTokenInvalid,
		},
		{
			name:    "HS384 refused even with the right secret",
			cfg:     all,
			token:   sign(t, jwt.SigningMethodHS384, []byte(testSecret), jwt.MapClaims{"sub": "alice"}),
			wantErr: ErrTokenInvalid,
		},
		{
			name:  "valid ES256",
			cfg:   all,
			token: sign(t, jwt.SigningMethodES256, keys.ec, jwt.MapClaims{"sub": "carol"}),
			check: func(t *testing.T, c Credentials) {
				if c.User != "carol" {
					t.Errorf("User = %q", c.User)
				}
			},
		},
		{
			name:    "ES256 when no ECDSA key configured",
			cfg:     VerifierConfig{HMACSecret: testSecret, RSAPublicKeyFile: rsaFile},
			token:   sign(t, jwt.SigningMethodES256, keys.ec, jwt.MapClaims{"sub": "carol"}),
			wantErr: ErrTokenInvalid,
		},
		{
			name:    "missing sub",
			cfg:     hmacOnly,
			token:   hs(jwt.MapClaims{"exp": hour}),
			wantErr: ErrTokenInvalid,
			errHas:  "sub",
		},
		{
			name:    "empty sub",
			cfg:     hmacOnly,
			token:   hs(jwt.MapClaims{"sub": ""}),
			wantErr: ErrTokenInvalid,
		},
		{
			name:    "missing sub and expired reports invalid",
			cfg:     hmacOnly,
			token:   hs(jwt.MapClaims{"exp": now.Add(-time.Hour).Unix()}),
			wantErr: ErrTokenInvalid,
		},
		{
			name:  "issuer and audience match",
			cfg:   withIss,
			token: hs(jwt.MapClaims{"sub": "alice", "iss": "herald", "aud": []string{"other", "ws"}}),
		},
		{
			name:    "issuer mismatch",
			cfg:     withIss,
			token:   hs(jwt.MapClaims{"sub": "alice", "iss": "evil", "aud": "ws"}),
			wantErr: ErrTokenInvalid,
			errHas:  "issuer",
		},
		{
			name:    "issuer missing",
			cfg:     withIss,
			token:   hs(jwt.MapClaims{"sub": "alice", "aud": "ws"}),
			wantErr: ErrTokenInvalid,
		},
		{
			name:    "audience mismatch",
			cfg:     withIss,
			token:   hs(jwt.MapClaims{"sub": "alice", "iss": "herald", "aud": "api"}),
			wantErr: ErrTokenInvalid,
			errHas:  "audience",
		},
		{
			name:    "wrong issuer and expired reports invalid",
			cfg:     withIss,
			token:   hs(jwt.MapClaims{"sub": "alice", "iss": "evil", "aud": "ws", "exp": now.Add(-time.Hour).Unix()}),
			wantErr: ErrTokenInvalid,
		},
		{
			name:  "issuer not checked when not configured",
			cfg:   hmacOnly,
			token: hs(jwt.MapClaims{"sub": "alice", "iss": "anyone", "aud": "anything"}),
		},
		{
			name:  "channels claim",
			cfg:   hmacOnly,
			token: hs(jwt.MapClaims{"sub": "alice", "channels": []string{"chat:*", "news"}}),
			check: func(t *testing.T, c Credentials) {
				if len(c.Channels) != 2 || c.Channels[0] != "chat:*" || c.Channels[1] != "news" {
					t.Fatalf("Channels = %q", c.Channels)
				}
				for ch, want := range map[string]bool{"chat:lobby": true, "news": true, "news:x": false, "chatroom": false} {
					if got := c.AllowsChannel(ch); got != want {
						t.Errorf("AllowsChannel(%q) = %v, want %v", ch, got, want)
					}
				}
			},
		},
		{
			name:  "empty channels claim allows nothing",
			cfg:   hmacOnly,
			token: hs(jwt.MapClaims{"sub": "alice", "channels": []string{}}),
			check: func(t *testing.T, c Credentials) {
				if c.Channels == nil || c.AllowsChannel("news") {
					t.Errorf("Channels = %#v, should be empty and deny", c.Channels)
				}
			},
		},
		{
			name:    "channels claim of the wrong type",
			cfg:     hmacOnly,
			token:   hs(jwt.MapClaims{"sub": "alice", "channels": "news"}),
			wantErr: ErrTokenInvalid,
		},
		{
			name:  "info claim passed through",
			cfg:   hmacOnly,
			token: hs(jwt.MapClaims{"sub": "alice", "info": map[string]any{"name": "Alice", "avatar": "a.png"}}),
			check: func(t *testing.T, c Credentials) {
				if string(c.Info) != `{"avatar":"a.png","name":"Alice"}` {
					t.Errorf("Info = %s", c.Info)
				}
			},
		},
		{
			name:  "info null is absent",
			cfg:   hmacOnly,
			token: hs(jwt.MapClaims{"sub": "alice", "info": nil}),
			check: func(t *testing.T, c Credentials) {
				if c.Info != nil {
					t.Errorf("Info = %q, want nil", c.Info)
				}
			},
		},
		{name: "empty string", cfg: all, token: "", wantErr: ErrTokenInvalid, errHas: "malformed"},
		{name: "two segments", cfg: all, token: "a.b", wantErr: ErrTokenInvalid, errHas: "malformed"},
		{name: "three junk segments", cfg: all, token: "a.b.c", wantErr: ErrTokenInvalid},
		{name: "garbage", cfg: all, token: "not a jwt at all!", wantErr: ErrTokenInvalid},
		{name: "dots only", cfg: all, token: "..", wantErr: ErrTokenInvalid},
		{name: "four segments", cfg: all, token: hs(jwt.MapClaims{"sub": "alice"}) + ".x", wantErr: ErrTokenInvalid},
		{name: "header not JSON", cfg: all, token: b64("nope") + "." + b64(`{"sub":"a"}`) + ".", wantErr: ErrTokenInvalid},
		{name: "header without alg", cfg: all, token: b64(`{"typ":"JWT"}`) + "." + b64(`{"sub":"a"}`) + ".", wantErr: ErrTokenInvalid},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := NewVerifier(tt.cfg)
			if err != nil {
				t.Fatalf("NewVerifier: %v", err)
			}
			c, err := v.Verify(tt.token)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Verify: unexpected error %v", err)
				}
				if c.User == "" {
					t.Error("accepted token must name a user")
				}
				if tt.check != nil {
					tt.check(t, c)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify error = %v, want %v", err, tt.wantErr)
			}
			// Expired and invalid are exclusive so callers can branch on them.
			if errors.Is(err, ErrTokenExpired) == errors.Is(err, ErrTokenInvalid) {
				t.Errorf("error %q must match exactly one of ErrTokenExpired/ErrTokenInvalid", err)
			}
			if tt.errHas != "" && !strings.Contains(err.Error(), tt.errHas) {
				t.Errorf("error %q does not mention %q", err, tt.errHas)
			}
			if strings.Contains(err.Error(), testSecret) {
				t.Errorf("error leaks the secret: %q", err)
			}
			if c.User != "" || c.Channels != nil || c.Info != nil || !c.ExpiresAt.IsZero() {
				t.Errorf("failed Verify returned non-zero credentials %+v", c)
			}
		})
	}
}

// swapPayload replaces the claims segment, keeping header and signature.
func swapPayload(token, payload string) string {
	parts := strings.Split(token, ".")
	parts[1] = b64(payload)
	return strings.Join(parts, ".")
}

func TestVerifyNotYetValidIsInvalid(t *testing.T) {
	v, err := NewVerifier(VerifierConfig{HMACSecret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	tok := sign(t, jwt.SigningMethodHS256, []byte(testSecret), jwt.MapClaims{"sub": "a", "nbf": time.Now().Add(time.Hour).Unix()})
	_, err = v.Verify(tok)
	if !errors.Is(err, ErrTokenNotYetValid) || !errors.Is(err, ErrTokenInvalid) || errors.Is(err, ErrTokenExpired) {
		t.Fatalf("err = %v; want it to match ErrTokenNotYetValid and ErrTokenInvalid only", err)
	}
}

func TestVerifyErrorWrapsReason(t *testing.T) {
	v, err := NewVerifier(VerifierConfig{HMACSecret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	tok := sign(t, jwt.SigningMethodHS256, []byte("wrong"), jwt.MapClaims{"sub": "a"})
	_, err = v.Verify(tok)
	if !errors.Is(err, jwt.ErrTokenSignatureInvalid) {
		t.Errorf("err = %v; the jwt reason should stay reachable via errors.Is", err)
	}
	if !strings.HasPrefix(err.Error(), "token invalid: ") {
		t.Errorf("err = %q; want the \"token invalid: <reason>\" form", err)
	}
}

func TestVerifyKeyFormats(t *testing.T) {
	keys := testKeys()
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&keys.rsa.PublicKey)})
	tests := []struct {
		name string
		cfg  func(t *testing.T) VerifierConfig
		tok  string
	}{
		{
			name: "RSA PKCS1",
			cfg: func(t *testing.T) VerifierConfig {
				return VerifierConfig{RSAPublicKeyFile: writeFile(t, "k.pem", pkcs1)}
			},
			tok: sign(t, jwt.SigningMethodRS256, keys.rsa, jwt.MapClaims{"sub": "a"}),
		},
		{
			name: "RSA certificate, preceded by junk text",
			cfg: func(t *testing.T) VerifierConfig {
				data := append([]byte("subject=CN=herald\n"), selfSigned(t, keys.rsa.Public(), keys.rsa)...)
				return VerifierConfig{RSAPublicKeyFile: writeFile(t, "cert.pem", data)}
			},
			tok: sign(t, jwt.SigningMethodRS256, keys.rsa, jwt.MapClaims{"sub": "a"}),
		},
		{
			name: "ECDSA certificate",
			cfg: func(t *testing.T) VerifierConfig {
				return VerifierConfig{ECDSAPublicKeyFile: writeFile(t, "cert.pem", selfSigned(t, keys.ec.Public(), keys.ec))}
			},
			tok: sign(t, jwt.SigningMethodES256, keys.ec, jwt.MapClaims{"sub": "a"}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := NewVerifier(tt.cfg(t))
			if err != nil {
				t.Fatalf("NewVerifier: %v", err)
			}
			if _, err := v.Verify(tt.tok); err != nil {
				t.Fatalf("Verify: %v", err)
			}
		})
	}
}

// selfSigned returns a PEM certificate for pub signed by priv.
func selfSigned(t *testing.T, pub, priv any) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "herald-test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestNewVerifierErrors(t *testing.T) {
	keys := testKeys()
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(keys.rsa)
	if err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "does-not-exist.pem")
	notPEM := writeFile(t, "not.pem", []byte("this is not PEM\n"))
	ecFile := writeFile(t, "ec.pem", pkixPEM(t, &keys.ec.PublicKey))
	rsaFile := writeFile(t, "rsa.pem", pkixPEM(t, &keys.rsa.PublicKey))

	tests := []struct {
		name   string
		cfg    VerifierConfig
		errHas []string
	}{
		{"no keys at all", VerifierConfig{Issuer: "herald"}, []string{"no token verification key"}},
		{"missing RSA file", VerifierConfig{RSAPublicKeyFile: missing}, []string{"RSA public key file", missing}},
		{"missing ECDSA file", VerifierConfig{ECDSAPublicKeyFile: missing}, []string{"ECDSA public key file", missing}},
		{"non-PEM RSA file", VerifierConfig{RSAPublicKeyFile: notPEM}, []string{notPEM, "no PEM data"}},
		{"non-PEM ECDSA file", VerifierConfig{ECDSAPublicKeyFile: notPEM}, []string{notPEM, "no PEM data"}},
		{"ECDSA key in RSA file", VerifierConfig{RSAPublicKeyFile: ecFile}, []string{ecFile, "want an RSA key"}},
		{"RSA key in ECDSA file", VerifierConfig{ECDSAPublicKeyFile: rsaFile}, []string{rsaFile, "want an ECDSA key"}},
		{"P-384 key for ES256", VerifierConfig{ECDSAPublicKeyFile: writeFile(t, "p384.pem", pkixPEM(t, &p384.PublicKey))}, []string{"P-256", "P-384"}},
		{"private key instead of public", VerifierConfig{RSAPublicKeyFile: writeFile(t, "priv.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER}))}, []string{"private key"}},
		{"PEM of another type", VerifierConfig{RSAPublicKeyFile: writeFile(t, "csr.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: []byte{1}}))}, []string{"no PUBLIC KEY"}},
		{"corrupt PUBLIC KEY block", VerifierConfig{RSAPublicKeyFile: writeFile(t, "bad.pem", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte("junk")}))}, []string{"PKIX"}},
		{"bad file with a good secret", VerifierConfig{HMACSecret: testSecret, RSAPublicKeyFile: missing}, []string{missing}},
		{"negative leeway", VerifierConfig{HMACSecret: testSecret, Leeway: -time.Second}, []string{"leeway"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := NewVerifier(tt.cfg)
			if err == nil {
				t.Fatalf("NewVerifier succeeded (%v), want error", v)
			}
			for _, s := range tt.errHas {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
			if strings.Contains(err.Error(), testSecret) {
				t.Errorf("error leaks the secret: %q", err)
			}
		})
	}
}

// TestVerifyConcurrent lets -race check that one Verifier can serve many
// connections at once.
func TestVerifyConcurrent(t *testing.T) {
	v, err := NewVerifier(VerifierConfig{HMACSecret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	good := sign(t, jwt.SigningMethodHS256, []byte(testSecret), jwt.MapClaims{"sub": "a", "info": map[string]int{"n": 1}})
	bad := sign(t, jwt.SigningMethodHS256, []byte("x"), jwt.MapClaims{"sub": "a"})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 50 {
				if c, err := v.Verify(good); err != nil || !bytes.Equal(c.Info, []byte(`{"n":1}`)) {
					t.Errorf("goroutine %d: Verify(good) = %+v, %v", i, c, err)
					return
				}
				if _, err := v.Verify(bad); err == nil {
					t.Errorf("goroutine %d: Verify(bad) succeeded", i)
					return
				}
			}
		})
	}
	wg.Wait()
}
