package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
)

// readPublicKey loads the first public key found in a PEM file. It accepts
// PKIX "PUBLIC KEY", PKCS#1 "RSA PUBLIC KEY" and "CERTIFICATE" blocks, and
// skips anything else (comments, chain certificates after the first, ...).
// Private keys are refused rather than converted: the server only needs the
// public half, and quietly accepting a private key would encourage deploying
// signing keys where they do not belong.
func readPublicKey(what, path string) (any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		// os errors already carry the path.
		return nil, fmt.Errorf("auth: reading %s: %w", what, err)
	}
	sawPEM := false
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		sawPEM = true
		switch block.Type {
		case "PUBLIC KEY":
			key, err := x509.ParsePKIXPublicKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("auth: %s %q: parsing PKIX public key: %w", what, path, err)
			}
			return key, nil
		case "RSA PUBLIC KEY":
			key, err := x509.ParsePKCS1PublicKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("auth: %s %q: parsing PKCS#1 public key: %w", what, path, err)
			}
			return key, nil
		case "CERTIFICATE":
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("auth: %s %q: parsing certificate: %w", what, path, err)
			}
			return cert.PublicKey, nil
		case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY":
			return nil, fmt.Errorf("auth: %s %q holds a private key; configure the public key instead", what, path)
		}
	}
	if !sawPEM {
		return nil, fmt.Errorf("auth: %s %q: no PEM data found", what, path)
	}
	return nil, fmt.Errorf("auth: %s %q: no PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE block found", what, path)
}

// loadRSAPublicKey reads an RSA public key for RS256.
func loadRSAPublicKey(path string) (*rsa.PublicKey, error) {
	const what = "RSA public key file"
	key, err := readPublicKey(what, path)
	if err != nil {
		return nil, err
	}
	rsaKey, ok := key.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("auth: %s %q: want an RSA key, got %T", what, path, key)
	}
	return rsaKey, nil
}

// loadECDSAPublicKey reads an ECDSA key and insists on P-256, because ES256
// is defined over that curve only; the jwt library does not check the curve
// itself.
func loadECDSAPublicKey(path string) (*ecdsa.PublicKey, error) {
	const what = "ECDSA public key file"
	key, err := readPublicKey(what, path)
	if err != nil {
		return nil, err
	}
	ecKey, ok := key.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("auth: %s %q: want an ECDSA key, got %T", what, path, key)
	}
	if ecKey.Curve != elliptic.P256() {
		return nil, fmt.Errorf("auth: %s %q: ES256 needs a P-256 key, got %s", what, path, ecKey.Curve.Params().Name)
	}
	return ecKey, nil
}
