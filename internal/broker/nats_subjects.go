package broker

import (
	"encoding/base64"
	"strings"
)

// natsToken turns any name (spaces, dots, '*', '>', any unicode) into one
// subject token and one KV key token: unpadded base64url uses only
// letters, digits, '-' and '_'. An empty name, which base64 would make
// empty, is "=", which base64url without padding never produces.
func natsToken(name string) string {
	if name == "" {
		return "="
	}
	return base64.RawURLEncoding.EncodeToString([]byte(name))
}

// natsName reverses natsToken.
func natsName(token string) (string, error) {
	if token == "=" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	return string(b), err
}

// natsSubjects builds the subjects of one prefix (see NATSBroker).
type natsSubjects struct{ prefix string }

func (s natsSubjects) history(ch string) string { return s.prefix + ".h." + natsToken(ch) }
func (s natsSubjects) historyAll() string       { return s.prefix + ".h.*" }
func (s natsSubjects) channel(ch string) string { return s.prefix + ".c." + natsToken(ch) }
func (s natsSubjects) user(u string) string     { return s.prefix + ".u." + natsToken(u) }
func (s natsSubjects) node(id string) string    { return s.prefix + ".n." + natsToken(id) }
func (s natsSubjects) all() string              { return s.prefix + ".all" }

// republished is where the stream sends each publication it stored.
func (s natsSubjects) republished() string { return s.prefix + ".c.{{wildcard(1)}}" }

// natsSubjectKind says what a subject carries: 'c' (channel), 'u'
// (user), 'n' or 'a' (control), with the name's token.
func (s natsSubjects) kind(subject string) (byte, string) {
	rest, ok := strings.CutPrefix(subject, s.prefix+".")
	if !ok || rest == "" {
		return 0, ""
	}
	if rest == "all" {
		return 'a', ""
	}
	if len(rest) < 3 || rest[1] != '.' {
		return 0, ""
	}
	return rest[0], rest[2:]
}

func (s natsSubjects) streamName() string { return s.prefix + "_history" }
func (s natsSubjects) presenceBucket() string {
	return s.prefix + "_presence"
}
func (s natsSubjects) registryBucket() string { return s.prefix + "_nodes" }
func (s natsSubjects) sessionsBucket() string { return s.prefix + "_sessions" }
