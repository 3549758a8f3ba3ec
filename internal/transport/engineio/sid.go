package engineio

import (
	"crypto/rand"
	"encoding/base64"
)

// sidBytes is the entropy in a session id. The sid is the only credential
// a polling request carries, so it must be unguessable: 15 random bytes
// (120 bits) give a 20-character URL-safe id, the same length as the
// reference's base64id.
const sidBytes = 15

// newSID returns a random URL-safe session id after prefix.
func newSID(prefix string) string {
	var b [sidBytes]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (it panics instead)
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}
