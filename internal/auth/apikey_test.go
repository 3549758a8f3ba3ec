package auth

import (
	"encoding/base64"
	"testing"
)

func TestCheckAPIKey(t *testing.T) {
	const key = "s3cr3t-key"
	tests := []struct {
		name   string
		header string
		key    string
		want   bool
	}{
		{"right key", "apikey s3cr3t-key", key, true},
		{"scheme upper case", "APIKEY s3cr3t-key", key, true},
		{"scheme mixed case", "ApiKey s3cr3t-key", key, true},
		{"surrounding spaces", "  apikey   s3cr3t-key  ", key, true},
		{"wrong key", "apikey wrong", key, false},
		{"key prefix only", "apikey s3cr3t", key, false},
		{"key with extra suffix", "apikey s3cr3t-keyX", key, false},
		{"key differs in case", "apikey S3CR3T-KEY", key, false},
		{"missing scheme", "s3cr3t-key", key, false},
		{"other scheme", "Bearer s3cr3t-key", key, false},
		{"scheme glued to key", "apikeys3cr3t-key", key, false},
		{"scheme without key", "apikey", key, false},
		{"scheme with blank key", "apikey   ", key, false},
		{"empty header", "", key, false},
		{"empty configured key, empty header", "", "", false},
		{"empty configured key, empty presented key", "apikey ", "", false},
		{"empty configured key, some key", "apikey anything", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CheckAPIKey(tt.header, tt.key); got != tt.want {
				t.Errorf("CheckAPIKey(%q, %q) = %v, want %v", tt.header, tt.key, got, tt.want)
			}
		})
	}
}

func TestGenerateSecret(t *testing.T) {
	for _, n := range []int{1, 16, 32, 33} {
		s := GenerateSecret(n)
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("GenerateSecret(%d) = %q is not unpadded base64url: %v", n, s, err)
		}
		if len(b) != n {
			t.Errorf("GenerateSecret(%d) decodes to %d bytes", n, len(b))
		}
	}
	if GenerateSecret(32) == GenerateSecret(32) {
		t.Error("two 32-byte secrets are equal")
	}
	// The result must work as an API key end to end.
	k := GenerateSecret(32)
	if !CheckAPIKey("apikey "+k, k) {
		t.Error("generated key does not check")
	}
}

func TestGenerateSecretPanicsOnNonPositive(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("GenerateSecret(0) did not panic")
		}
	}()
	GenerateSecret(0)
}
