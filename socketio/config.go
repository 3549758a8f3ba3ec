package socketio

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/core"
	"github.com/heraldhq/herald/internal/protocol/sioproto"
)

// Config sets the Socket.IO server: it is the socketio section of
// herald's configuration (herald.Config.SocketIO). Zero values mean the
// defaults given, which are the Node reference server's.
type Config struct {
	// Disabled turns the Socket.IO server off.
	Disabled bool `yaml:"disabled"`
	// Namespaces lists the namespaces clients may connect to besides "/".
	// Namespaces given handlers in code are added automatically.
	Namespaces []string `yaml:"namespaces"`
	// DynamicNamespaces is a regular expression; namespaces matching it
	// are admitted too (for example ^/tenant-[a-z0-9]+$).
	DynamicNamespaces string `yaml:"dynamic_namespaces"`
	// ChannelPrefix maps a namespace to the prefix of the herald channels
	// its rooms map to: room R of namespace N is channel ChannelPrefix[N]+R.
	// A namespace not listed uses "" for "/" and "x:" for "/x", so room
	// "lobby" of "/chat" is channel "chat:lobby" and room "news" of "/" is
	// channel "news".
	ChannelPrefix map[string]string `yaml:"channel_prefix"`
	// PingInterval is how often the server pings. Zero means 25s.
	PingInterval time.Duration `yaml:"ping_interval"`
	// PingTimeout is how long a ping may go unanswered. Zero means 20s.
	PingTimeout time.Duration `yaml:"ping_timeout"`
	// MaxPayload is the largest HTTP long-polling body, and the largest
	// WebSocket message, in bytes. Zero means 1000000.
	MaxPayload int `yaml:"max_payload"`
	// MaxAttachments caps the binary attachments of one packet a client
	// sends; their bytes together are capped at MaxPayload. A packet over
	// either closes the connection, as a malformed one does. Zero means
	// 1000 (the reference has no cap).
	MaxAttachments int `yaml:"max_attachments"`
	// UpgradeTimeout bounds a transport upgrade. Zero means 10s.
	UpgradeTimeout time.Duration `yaml:"upgrade_timeout"`
	// ConnectTimeout closes a connection that joins no namespace in time.
	// Zero means 45s.
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	// RecoveryWindow is how long a socket whose transport dropped keeps
	// its id, rooms and the events sent to it, so a client reconnecting in
	// time gets them back. Zero means 2m; negative turns recovery off.
	RecoveryWindow time.Duration `yaml:"recovery_window"`
	// RecoveryEvents bounds the events kept per socket for recovery: what
	// it was sent while connected and, while it is away, what no channel
	// stream keeps for it (emits to it alone, broadcasts to rooms whose
	// channel keeps no history). Zero means 1000.
	RecoveryEvents int `yaml:"recovery_events"`
	// CORSCredentials sends Access-Control-Allow-Credentials with
	// long-polling responses to allowed origins.
	CORSCredentials bool `yaml:"cors_credentials"`
	// NoBuiltinEvents turns off herald:join, herald:leave and
	// herald:publish, which let clients use channels without Go code.
	NoBuiltinEvents bool `yaml:"no_builtin_events"`
}

func (c Config) withDefaults() Config {
	setDur(&c.PingInterval, 25*time.Second)
	setDur(&c.PingTimeout, 20*time.Second)
	if c.MaxPayload <= 0 {
		c.MaxPayload = 1000000
	}
	if c.MaxAttachments <= 0 {
		c.MaxAttachments = sioproto.DefaultMaxAttachments
	}
	setDur(&c.UpgradeTimeout, 10*time.Second)
	setDur(&c.ConnectTimeout, 45*time.Second)
	setDur(&c.RecoveryWindow, 2*time.Minute)
	if c.RecoveryEvents <= 0 {
		c.RecoveryEvents = 1000
	}
	return c
}

func setDur(v *time.Duration, def time.Duration) {
	if *v == 0 {
		*v = def
	}
}

// Validate checks the configuration and names the first bad key, as it
// is spelled in herald's configuration file.
func (c Config) Validate() error {
	for i, ns := range c.Namespaces {
		if !strings.HasPrefix(ns, "/") {
			return fmt.Errorf("socketio.namespaces[%d]: %q must start with /", i, ns)
		}
	}
	if c.DynamicNamespaces != "" {
		if _, err := regexp.Compile(c.DynamicNamespaces); err != nil {
			return fmt.Errorf("socketio.dynamic_namespaces: %v", err)
		}
	}
	for ns, prefix := range c.ChannelPrefix {
		if !strings.HasPrefix(ns, "/") {
			return fmt.Errorf("socketio.channel_prefix: namespace %q must start with /", ns)
		}
		if prefix != "" {
			if err := core.ValidateChannel(prefix + "x"); err != nil {
				return fmt.Errorf("socketio.channel_prefix.%s: %v", ns, err)
			}
		}
	}
	durs := map[string]time.Duration{"socketio.ping_interval": c.PingInterval, "socketio.ping_timeout": c.PingTimeout,
		"socketio.upgrade_timeout": c.UpgradeTimeout, "socketio.connect_timeout": c.ConnectTimeout}
	for key, v := range durs {
		if v < 0 {
			return fmt.Errorf("%s: must not be negative (got %v)", key, v)
		}
	}
	if c.MaxPayload < 0 || c.RecoveryEvents < 0 || c.MaxAttachments < 0 {
		return fmt.Errorf("socketio.max_payload, socketio.max_attachments and socketio.recovery_events must not be negative")
	}
	return nil
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
