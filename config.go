package herald

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/core"
	"github.com/heraldhq/herald/socketio"
)

// Config is everything a Node can be told. Zero values mean the defaults
// named on each field; DefaultConfig returns a ready-to-run development
// setup. Field tags give the YAML keys; environment variables are
// HERALD_ plus the key path in upper case (HERALD_LIMITS_MAX_MESSAGE_SIZE).
type Config struct {
	// Addr is where `herald serve` listens. Zero means ":8080".
	Addr string `yaml:"addr"`
	// APIKey authorizes the HTTP server API ("Authorization: apikey KEY").
	// Empty disables the API.
	APIKey string `yaml:"api_key"`
	// TokenSecret verifies HS256 connection tokens.
	TokenSecret string `yaml:"token_secret"`
	// TokenRSAPublicKey is a PEM file whose key verifies RS256 tokens.
	TokenRSAPublicKey string `yaml:"token_rsa_public_key"`
	// TokenECDSAPublicKey is a PEM file whose key verifies ES256 tokens.
	TokenECDSAPublicKey string `yaml:"token_ecdsa_public_key"`
	// TokenIssuer, when set, must match a token's "iss".
	TokenIssuer string `yaml:"token_issuer"`
	// TokenAudience, when set, must be in a token's "aud".
	TokenAudience string `yaml:"token_audience"`
	// AllowAnonymous lets connections without a token in.
	AllowAnonymous bool `yaml:"allow_anonymous"`
	// AllowedOrigins lists browser origins allowed to connect
	// ("https://example.com"); "*" allows any. Empty means the request's
	// own host only.
	AllowedOrigins []string `yaml:"allowed_origins"`
	// Echo serves a diagnostic WebSocket echo at /echo.
	Echo bool `yaml:"echo"`
	// DevLogin serves POST /dev/token, which mints a token for any user
	// name. Only for development; `herald serve` turns it on in dev mode.
	DevLogin bool `yaml:"dev_login"`

	// Limits bound what one connection or the node may use.
	Limits Limits `yaml:"limits"`
	// Heartbeat sets the server's WebSocket pings.
	Heartbeat Heartbeat `yaml:"heartbeat"`
	// HTTP bounds the plain HTTP connections of the server Node.Serve
	// runs; its BodyTimeout also applies to the node's handlers.
	HTTP HTTP `yaml:"http"`
	// ConnectTimeout is how long a connection may stay unauthenticated
	// when anonymous access is off. Zero means 10s.
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	// ShutdownDelay is how long a shutdown keeps serving, with /readyz
	// answering 503, before it stops accepting connections: time for a
	// load balancer's health checks to take the node out of rotation.
	// Zero means none; DefaultConfig, and so `herald serve`, uses 5s.
	ShutdownDelay time.Duration `yaml:"shutdown_delay"`
	// ShutdownTimeout is how long a graceful shutdown waits, after the
	// delay, for connections and requests to finish. Zero means 10s.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// HistoryMetaTTL is how long a channel's offsets outlive its last
	// publication. Zero means 24h.
	HistoryMetaTTL time.Duration `yaml:"history_meta_ttl"`
	// DataDir is where the node keeps what survives a restart, with
	// History.Store "disk": the channel streams, and at a graceful
	// shutdown the Socket.IO sockets kept for recovery. Empty keeps
	// nothing.
	DataDir string `yaml:"data_dir"`
	// History sets where channel streams live and how clients resume them.
	History History `yaml:"history"`
	// Broker is what the node's publications, channel streams, presence
	// and node registry run on: "memory" (this process alone), "redis"
	// or "nats" (the local server on its standard port), or a URL:
	// redis://[user:pass@]host:port[/db], rediss://… (TLS), with
	// ?master_set=NAME for Sentinel (a Redis Cluster is found by itself;
	// ?addr=host:port adds seeds), or nats://host:port[,nats://…]. Nodes
	// on one broker, with one Cluster.Prefix, act as one. Zero means
	// "memory".
	Broker string `yaml:"broker"`
	// Cluster sets how the nodes on a shared broker find one another.
	Cluster Cluster `yaml:"cluster"`

	// DefaultChannel is the policy of channels without a namespace.
	DefaultChannel ChannelPolicy `yaml:"default_channel"`
	// Namespaces maps a namespace name to the policy of its channels:
	// channel "chat:lobby" is in namespace "chat".
	Namespaces map[string]ChannelPolicy `yaml:"namespaces"`

	// SocketIO sets the Socket.IO v4 server at /socket.io/.
	SocketIO socketio.Config `yaml:"socketio"`

	// Log sets the server log.
	Log LogConfig `yaml:"log"`

	// ReleaseIdleMemory gives free heap back to the OS when the process
	// goes quiet after a burst (a connection storm, a reconnect wave): Go
	// otherwise keeps up to twice the live heap mapped. It costs one
	// collection per burst, once allocation has all but stopped. It acts
	// on the whole process, so it is off for an embedding program unless
	// set; DefaultConfig, and so `herald serve`, turns it on.
	ReleaseIdleMemory bool `yaml:"release_idle_memory"`
}

// Limits bound resources. Zero values mean the defaults given.
type Limits struct {
	// MaxMessageSize is the largest frame a client may send, in bytes;
	// larger closes the connection with 1009. Zero means 65536.
	MaxMessageSize int `yaml:"max_message_size"`
	// MaxQueueBytes bounds a connection's unsent outbound bytes; a slow
	// consumer past it is closed with 1013. Zero means 1048576.
	MaxQueueBytes int `yaml:"max_queue_bytes"`
	// MaxConnections caps connections on the node; more get HTTP 503.
	// Zero means 100000.
	MaxConnections int `yaml:"max_connections"`
	// MaxConnectionsPerUser caps one user's connections on the node; more
	// are closed with 1013. Zero means 100.
	MaxConnectionsPerUser int `yaml:"max_connections_per_user"`
	// MaxSubscriptions caps channels per connection. Zero means 256.
	MaxSubscriptions int `yaml:"max_subscriptions"`
	// CommandRate is the sustained commands per second one connection may
	// send; excess gets error 429. Zero means 50.
	CommandRate float64 `yaml:"command_rate"`
	// CommandBurst is how many commands may arrive at once before the rate
	// applies; this many refused in a row closes the connection with
	// 1008. Zero means 100.
	CommandBurst int `yaml:"command_burst"`
	// MaxAPIBody is the largest HTTP API request body, in bytes; larger
	// gets 413. Zero means 1048576.
	MaxAPIBody int `yaml:"max_api_body"`
	// MaxNodeQueueBytes bounds the node's fan-out backlog: the bytes
	// queued for every connection and not yet taken by the kernel, plus
	// the publications waiting for fan-out. Past it, publishing meets
	// back-pressure: the HTTP API answers 503 with Retry-After, client
	// publishes get error 503, and the Go API waits while its context
	// allows. It is what keeps a publish flood from growing memory and
	// from cutting subscribers that read at normal speed. Zero means
	// 67108864 (64 MiB).
	MaxNodeQueueBytes int `yaml:"max_node_queue_bytes"`
}

// History sets where channel streams (offsets, epochs and kept
// publications) live and how clients resume them. Zero values mean the
// defaults given.
type History struct {
	// Store is "memory" (streams are lost on restart) or "disk" (kept in
	// DataDir across restarts). Zero means "memory".
	Store string `yaml:"store"`
	// Fsync is, for the disk store, "always" (a publish is acknowledged,
	// and delivered, once it is on disk) or a duration: publishes are
	// acknowledged at once and written in batches that often, so a crash
	// loses at most that much. Zero means "200ms".
	Fsync string `yaml:"fsync"`
	// RecoveryMax is the most publications one resume replays; a client
	// that missed more is told it did not recover. Zero means 1000.
	RecoveryMax int `yaml:"recovery_max"`
}

// Cluster sets how nodes on a shared broker (Config.Broker redis or nats)
// act as one. Zero values mean the defaults given.
type Cluster struct {
	// Prefix starts every key and subject the nodes use, so several
	// clusters can share one Redis or NATS. Zero means "herald".
	Prefix string `yaml:"prefix"`
	// NodeName names this node in /api/info's nodes. Zero means the
	// host name.
	NodeName string `yaml:"node_name"`
	// PresenceTTL is how long a presence entry outlives the node that
	// made it, if that node dies: live nodes refresh theirs every third
	// of it. Zero means 30s.
	PresenceTTL time.Duration `yaml:"presence_ttl"`
	// NodeTTL is how long a node that stopped announcing itself stays
	// in the registry; nodes announce every third of it. Zero means 15s.
	NodeTTL time.Duration `yaml:"node_ttl"`
	// URL is where the other nodes reach this node's HTTP server, as
	// scheme://host:port: a Socket.IO long-polling request that reaches
	// a node which does not hold its session is forwarded there. Zero
	// means http:// and the address Serve listens on, with the host name
	// for an unspecified address (0.0.0.0, ::); set it for TLS, or when
	// the nodes know each other by another name.
	URL string `yaml:"url"`
	// AskTimeout bounds a question to every node (a cluster-wide
	// disconnect, Socket.IO's fetchSockets): a node that has not
	// answered by then is left out, and named. Zero means 3s.
	AskTimeout time.Duration `yaml:"ask_timeout"`
}

// Brokers.
const (
	BrokerMemory = "memory"
	BrokerRedis  = "redis"
	BrokerNATS   = "nats"
)

// History stores.
const (
	StoreMemory = "memory"
	StoreDisk   = "disk"
)

// FsyncAlways is the History.Fsync that acknowledges a publish once it
// is on disk.
const FsyncAlways = "always"

// Heartbeat sets server pings. Zero values mean the defaults given.
type Heartbeat struct {
	// Interval is how long a connection may be silent before it is
	// pinged. Zero means 25s.
	Interval time.Duration `yaml:"interval"`
	// Timeout is how long a ping may go unanswered before the connection
	// is dropped. Zero means 10s.
	Timeout time.Duration `yaml:"timeout"`
}

// HTTP bounds plain HTTP connections: those carrying requests,
// long-polling and keep-alive, not those upgraded to WebSocket (which
// Limits.MaxConnections bounds). Zero values mean the defaults given.
type HTTP struct {
	// IdleTimeout is how long a keep-alive connection may wait for its
	// next request before it is closed. Zero means 30s.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// HeaderTimeout is how long a client has to send a request's headers;
	// a connection that takes longer is closed. Zero means 10s.
	HeaderTimeout time.Duration `yaml:"header_timeout"`
	// BodyTimeout is how long a client has, once its headers are in, to
	// send the request's body; later gets 408 and the connection closes.
	// Requests without a body (long-polls, upgrades) are not bounded by
	// it. Zero means 30s.
	BodyTimeout time.Duration `yaml:"body_timeout"`
	// MaxHeaderBytes bounds a request's header block; larger gets 431.
	// Zero means 65536.
	MaxHeaderBytes int `yaml:"max_header_bytes"`
	// MaxConnections caps plain HTTP connections at once. A connection
	// arriving at the cap closes, to make room, the longest-idle one, else
	// the one longest in its headers, else the one longest in its body;
	// when every one is serving a request the newcomer is closed. Zero
	// means 10000.
	MaxConnections int `yaml:"max_connections"`
}

// LogConfig sets the server log.
type LogConfig struct {
	// Level is debug, info, warn or error. Empty means info.
	Level string `yaml:"level"`
	// Format is text or json. Empty means text.
	Format string `yaml:"format"`
}

// Access says who may do something on a channel.
type Access string

// Access levels.
const (
	// AccessAnyone allows every connection, anonymous ones included.
	AccessAnyone Access = "anyone"
	// AccessAuthenticated allows connections with a user.
	AccessAuthenticated Access = "authenticated"
	// AccessSubscribers allows connections subscribed to the channel
	// (publish only).
	AccessSubscribers Access = "subscribers"
	// AccessNobody allows no client; the server API and Go API still can.
	AccessNobody Access = "nobody"
)

// ChannelPolicy is what clients may do on the channels of a namespace.
type ChannelPolicy struct {
	// Subscribe is who may subscribe: anyone, authenticated or nobody.
	// Empty means anyone.
	Subscribe Access `yaml:"subscribe"`
	// Publish is who may publish from a client: anyone, authenticated,
	// subscribers or nobody. Empty means nobody.
	Publish Access `yaml:"publish"`
	// Presence keeps who is subscribed and answers presence requests.
	Presence bool `yaml:"presence"`
	// JoinLeave sends join and leave notices to subscribers.
	JoinLeave bool `yaml:"join_leave"`
	// HistorySize is how many publications the channel keeps.
	HistorySize int `yaml:"history_size"`
	// HistoryTTL is how long kept publications live; zero keeps them
	// until newer ones push them out.
	HistoryTTL time.Duration `yaml:"history_ttl"`
}

// DefaultConfig is the development setup `herald serve` runs without a
// config file: anonymous clients welcome, a "chat" namespace clients may
// publish to with presence and history, and a server-only "alerts"
// namespace.
func DefaultConfig() Config {
	return Config{
		Addr:              ":8080",
		AllowAnonymous:    true,
		ReleaseIdleMemory: true,
		ShutdownDelay:     5 * time.Second,
		DefaultChannel:    ChannelPolicy{Subscribe: AccessAnyone, Publish: AccessNobody},
		Namespaces: map[string]ChannelPolicy{
			"chat": {Subscribe: AccessAnyone, Publish: AccessSubscribers, Presence: true,
				JoinLeave: true, HistorySize: 100, HistoryTTL: time.Hour},
			"alerts": {Subscribe: AccessAuthenticated, Publish: AccessNobody},
		},
	}
}

// withDefaults fills zero values.
func (c Config) withDefaults() Config {
	setStr(&c.Addr, ":8080")
	l := &c.Limits
	setInt(&l.MaxMessageSize, 64<<10)
	setInt(&l.MaxQueueBytes, 1<<20)
	setInt(&l.MaxConnections, 100000)
	setInt(&l.MaxConnectionsPerUser, 100)
	setInt(&l.MaxSubscriptions, 256)
	if l.CommandRate <= 0 {
		l.CommandRate = 50
	}
	setInt(&l.CommandBurst, 100)
	setInt(&l.MaxAPIBody, 1<<20)
	setInt(&l.MaxNodeQueueBytes, 64<<20)
	setDur(&c.Heartbeat.Interval, 25*time.Second)
	setDur(&c.Heartbeat.Timeout, 10*time.Second)
	setDur(&c.ConnectTimeout, 10*time.Second)
	setDur(&c.ShutdownTimeout, 10*time.Second)
	h := &c.HTTP
	setDur(&h.IdleTimeout, 30*time.Second)
	setDur(&h.HeaderTimeout, 10*time.Second)
	setDur(&h.BodyTimeout, 30*time.Second)
	setInt(&h.MaxHeaderBytes, 64<<10)
	setInt(&h.MaxConnections, 10000)
	setDur(&c.HistoryMetaTTL, 24*time.Hour)
	setStr(&c.History.Store, StoreMemory)
	setStr(&c.History.Fsync, "200ms")
	setInt(&c.History.RecoveryMax, 1000)
	setStr(&c.Broker, BrokerMemory)
	cl := &c.Cluster
	setStr(&cl.Prefix, "herald")
	setDur(&cl.PresenceTTL, 30*time.Second)
	setDur(&cl.NodeTTL, 15*time.Second)
	setDur(&cl.AskTimeout, 3*time.Second)
	c.DefaultChannel = c.DefaultChannel.withDefaults()
	ns := make(map[string]ChannelPolicy, len(c.Namespaces))
	for name, p := range c.Namespaces {
		ns[name] = p.withDefaults()
	}
	c.Namespaces = ns
	return c
}

func (p ChannelPolicy) withDefaults() ChannelPolicy {
	if p.Subscribe == "" {
		p.Subscribe = AccessAnyone
	}
	if p.Publish == "" {
		p.Publish = AccessNobody
	}
	return p
}

func setStr(v *string, def string) {
	if *v == "" {
		*v = def
	}
}

func setInt(v *int, def int) {
	if *v == 0 {
		*v = def
	}
}

func setDur(v *time.Duration, def time.Duration) {
	if *v == 0 {
		*v = def
	}
}

var namespaceName = regexp.MustCompile(`^[A-Za-z0-9_.\-]{1,64}$`)

// Validate checks the configuration and names the first bad key.
func (c Config) Validate() error {
	for _, check := range []func() error{c.validateLimits, c.validatePolicies, c.validateLog, c.validateOrigins,
		c.validateHistory, c.validateBroker, c.validateSocketIO} {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func (c Config) validateLimits() error {
	ints := map[string]int{
		"limits.max_message_size": c.Limits.MaxMessageSize, "limits.max_queue_bytes": c.Limits.MaxQueueBytes,
		"limits.max_connections": c.Limits.MaxConnections, "limits.max_connections_per_user": c.Limits.MaxConnectionsPerUser,
		"limits.max_subscriptions": c.Limits.MaxSubscriptions, "limits.command_burst": c.Limits.CommandBurst,
		"limits.max_api_body": c.Limits.MaxAPIBody, "limits.max_node_queue_bytes": c.Limits.MaxNodeQueueBytes,
		"http.max_header_bytes": c.HTTP.MaxHeaderBytes, "http.max_connections": c.HTTP.MaxConnections,
		"history.recovery_max": c.History.RecoveryMax,
	}
	for key, v := range ints {
		if v < 0 {
			return fmt.Errorf("%s: must not be negative (got %d)", key, v)
		}
	}
	if c.Limits.CommandRate < 0 {
		return fmt.Errorf("limits.command_rate: must not be negative (got %v)", c.Limits.CommandRate)
	}
	durs := map[string]time.Duration{
		"heartbeat.interval": c.Heartbeat.Interval, "heartbeat.timeout": c.Heartbeat.Timeout,
		"connect_timeout": c.ConnectTimeout, "shutdown_timeout": c.ShutdownTimeout, "history_meta_ttl": c.HistoryMetaTTL,
		"shutdown_delay": c.ShutdownDelay, "http.idle_timeout": c.HTTP.IdleTimeout,
		"http.header_timeout": c.HTTP.HeaderTimeout, "http.body_timeout": c.HTTP.BodyTimeout,
		"cluster.presence_ttl": c.Cluster.PresenceTTL, "cluster.node_ttl": c.Cluster.NodeTTL,
		"cluster.ask_timeout": c.Cluster.AskTimeout,
	}
	for key, v := range durs {
		if v < 0 {
			return fmt.Errorf("%s: must not be negative (got %v)", key, v)
		}
	}
	return nil
}

func (c Config) validatePolicies() error {
	if err := c.DefaultChannel.validate("default_channel"); err != nil {
		return err
	}
	for name, p := range c.Namespaces {
		if !namespaceName.MatchString(name) {
			return fmt.Errorf("namespaces.%s: a namespace name is 1-64 letters, digits, '_', '-' or '.'", name)
		}
		if err := p.validate("namespaces." + name); err != nil {
			return err
		}
	}
	return nil
}

func (p ChannelPolicy) validate(key string) error {
	switch p.Subscribe {
	case "", AccessAnyone, AccessAuthenticated, AccessNobody:
	default:
		return fmt.Errorf("%s.subscribe: %q is not one of anyone, authenticated, nobody", key, p.Subscribe)
	}
	switch p.Publish {
	case "", AccessAnyone, AccessAuthenticated, AccessSubscribers, AccessNobody:
	default:
		return fmt.Errorf("%s.publish: %q is not one of anyone, authenticated, subscribers, nobody", key, p.Publish)
	}
	if p.HistorySize < 0 {
		return fmt.Errorf("%s.history_size: must not be negative (got %d)", key, p.HistorySize)
	}
	if p.HistoryTTL < 0 {
		return fmt.Errorf("%s.history_ttl: must not be negative (got %v)", key, p.HistoryTTL)
	}
	return nil
}

func (c Config) validateLog() error {
	switch strings.ToLower(c.Log.Level) {
	case "", "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log.level: %q is not one of debug, info, warn, error", c.Log.Level)
	}
	switch strings.ToLower(c.Log.Format) {
	case "", "text", "json":
	default:
		return fmt.Errorf("log.format: %q is not one of text, json", c.Log.Format)
	}
	return nil
}

func (c Config) validateOrigins() error {
	for i, o := range c.AllowedOrigins {
		if o != "*" && !strings.Contains(o, "://") {
			return fmt.Errorf("allowed_origins[%d]: %q is not an origin like https://example.com (or \"*\")", i, o)
		}
	}
	return nil
}

func (c Config) validateSocketIO() error { return c.SocketIO.Validate() }

func (c Config) validateHistory() error {
	switch c.History.Store {
	case "", StoreMemory:
	case StoreDisk:
		if c.DataDir == "" {
			return fmt.Errorf("history.store: %q keeps streams in data_dir, which is not set", StoreDisk)
		}
	default:
		return fmt.Errorf("history.store: %q is not one of memory, disk", c.History.Store)
	}
	if _, err := c.History.fsyncInterval(); err != nil {
		return err
	}
	return nil
}

// clusterPrefix is what both a NATS subject token and a Redis key part
// take as they are.
var clusterPrefix = regexp.MustCompile(`^[A-Za-z0-9_\-]{1,64}$`)

func (c Config) validateBroker() error {
	kind, _, err := c.brokerURL()
	if err != nil {
		return err
	}
	if kind != BrokerMemory && c.History.Store == StoreDisk {
		return fmt.Errorf("history.store: %q keeps one node's streams on its disk; with broker %q the streams live in the broker, shared by every node", StoreDisk, kind)
	}
	if c.Cluster.Prefix != "" && !clusterPrefix.MatchString(c.Cluster.Prefix) {
		return fmt.Errorf("cluster.prefix: %q must be 1-64 letters, digits, '_' or '-'", c.Cluster.Prefix)
	}
	return validateNodeURL(c.Cluster.URL)
}

// validateNodeURL checks cluster.url: a node's root, over HTTP or HTTPS.
func validateNodeURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" ||
		u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.User != nil {
		return fmt.Errorf("cluster.url: %q is not an http:// or https:// URL of the form scheme://host:port", s)
	}
	return nil
}

// brokerURL is Config.Broker as a kind and the URL to dial ("" for
// memory).
func (c Config) brokerURL() (kind, url string, err error) {
	switch b := c.Broker; {
	case b == "" || b == BrokerMemory:
		return BrokerMemory, "", nil
	case b == BrokerRedis:
		return BrokerRedis, broker.LocalRedis, nil
	case b == BrokerNATS:
		return BrokerNATS, broker.LocalNATS, nil
	case hasScheme(b, "redis", "rediss"):
		return BrokerRedis, b, nil
	case hasScheme(b, "nats", "tls"):
		return BrokerNATS, b, nil
	}
	return "", "", fmt.Errorf("broker: %q is not memory, redis, nats or a redis://, rediss:// or nats:// URL", c.Broker)
}

func hasScheme(url string, schemes ...string) bool {
	for _, s := range schemes {
		if strings.HasPrefix(url, s+"://") {
			return true
		}
	}
	return false
}

// fsyncInterval is History.Fsync as the disk store takes it: 0 for
// "always", else the batch interval.
func (h History) fsyncInterval() (time.Duration, error) {
	switch h.Fsync {
	case FsyncAlways:
		return 0, nil
	case "":
		return 200 * time.Millisecond, nil
	}
	d, err := time.ParseDuration(h.Fsync)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("history.fsync: %q is neither %q nor a positive duration such as 200ms", h.Fsync, FsyncAlways)
	}
	return d, nil
}

// coreConfig is what the core enforces, from the configuration with its
// defaults filled in.
func (c Config) coreConfig() core.Config {
	ns := make(map[string]core.Policy, len(c.Namespaces))
	for name, p := range c.Namespaces {
		ns[name] = p.corePolicy()
	}
	l := c.Limits
	return core.Config{
		AllowAnonymous: c.AllowAnonymous,
		AllowedOrigins: c.AllowedOrigins,
		Limits: core.Limits{MaxConnections: l.MaxConnections, MaxConnectionsPerUser: l.MaxConnectionsPerUser,
			MaxSubscriptions: l.MaxSubscriptions, CommandRate: l.CommandRate, CommandBurst: l.CommandBurst,
			MaxNodeQueueBytes: int64(l.MaxNodeQueueBytes)},
		DefaultChannel: c.DefaultChannel.corePolicy(),
		Namespaces:     ns,
		HistoryMetaTTL: c.HistoryMetaTTL,
		RecoveryMax:    c.History.RecoveryMax,
		MaxReplayBytes: l.MaxQueueBytes / 2,
	}
}

func (p ChannelPolicy) corePolicy() core.Policy {
	return core.Policy{Subscribe: p.Subscribe.core(), Publish: p.Publish.core(), Presence: p.Presence,
		JoinLeave: p.JoinLeave, HistorySize: p.HistorySize, HistoryTTL: p.HistoryTTL}
}

// core is the access level as the core checks it; Validate has refused
// anything else.
func (a Access) core() core.Access {
	switch a {
	case AccessAnyone:
		return core.AccessAnyone
	case AccessAuthenticated:
		return core.AccessAuthenticated
	case AccessSubscribers:
		return core.AccessSubscribers
	}
	return core.AccessNobody
}
