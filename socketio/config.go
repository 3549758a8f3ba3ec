package socketio

import (
	"regexp"
	"strings"
	"time"
)

// Config tunes the Socket.IO server. Zero values mean the defaults given.
type Config struct {
	// Namespaces lists the namespaces clients may connect to besides "/".
	// Namespaces given handlers in code are added automatically.
	Namespaces []string
	// DynamicNamespaces, when set, also admits any namespace whose name
	// matches it (for example ^/tenant-[a-z0-9]+$).
	DynamicNamespaces *regexp.Regexp
	// ChannelPrefix maps a namespace to the prefix of the herald channels
	// its rooms map to: room R of namespace N is channel ChannelPrefix[N]+R.
	// A namespace not listed uses "" for "/" and "x:" for "/x", so room
	// "lobby" of "/chat" is channel "chat:lobby" and room "news" of "/" is
	// channel "news".
	ChannelPrefix map[string]string
	// ConnectTimeout closes a connection that joins no namespace in time.
	// Zero means 45s.
	ConnectTimeout time.Duration
	// RecoveryWindow is how long a socket whose transport dropped keeps
	// its id, rooms and the events sent to it, so a client reconnecting in
	// time gets them back. Zero means 2 minutes; negative turns recovery off.
	RecoveryWindow time.Duration
	// RecoveryEvents bounds the events kept per socket for recovery, sent
	// or missed. Zero means 1000.
	RecoveryEvents int
	// NoBuiltinEvents turns off the herald:join, herald:leave and
	// herald:publish events that let clients use channels without Go code.
	NoBuiltinEvents bool
}

func (c Config) withDefaults() Config {
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = 45 * time.Second
	}
	if c.RecoveryWindow == 0 {
		c.RecoveryWindow = 2 * time.Minute
	}
	if c.RecoveryEvents <= 0 {
		c.RecoveryEvents = 1000
	}
	return c
}

// prefixFor returns the channel prefix of namespace nsp.
func (c Config) prefixFor(nsp string) string {
	if p, ok := c.ChannelPrefix[nsp]; ok {
		return p
	}
	if nsp == "/" {
		return ""
	}
	return strings.TrimPrefix(nsp, "/") + ":"
}
