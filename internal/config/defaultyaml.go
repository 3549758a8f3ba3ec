package config

// DefaultYAML returns a commented YAML config naming every key with its
// default value, for `herald` to print as a starting point. Loading it
// with api_key and token_secret filled in gives herald.DefaultConfig with
// its defaults filled in; tests hold it to that and to listing every key.
func DefaultYAML() string { return defaultYAML }

// defaultYAML spells empty strings as "" rather than leaving them out, so
// that a reader sees the key exists.
const defaultYAML = `# Herald configuration, every key with its default value.
# Environment variables override this file: HERALD_ plus the key path in upper
# case with "_" for "." (limits.max_connections: HERALD_LIMITS_MAX_CONNECTIONS).

# Address herald serve listens on.
addr: ":8080"
# Required: key that authorizes the HTTP server API ("Authorization: apikey KEY").
api_key: ""
# Required unless a public key below is set or allow_anonymous is true: HMAC secret verifying HS256 connection tokens.
token_secret: ""
# PEM file whose RSA public key verifies RS256 connection tokens.
token_rsa_public_key: ""
# PEM file whose ECDSA public key verifies ES256 connection tokens.
token_ecdsa_public_key: ""
# When set, a token's "iss" must match it.
token_issuer: ""
# When set, a token's "aud" must contain it.
token_audience: ""
# Let connections without a token in (off unless set here; dev mode turns it on).
allow_anonymous: false
# Browser origins allowed to connect ("https://example.com", or "*" for any); empty allows the server's own host only.
allowed_origins: []
# Serve a diagnostic WebSocket echo at /echo.
echo: false
# Serve POST /dev/token, which mints a token for any user name; development only.
dev_login: false

# Bounds on what one connection or the node may use.
limits:
  # Largest frame a client may send, in bytes; larger closes the connection with 1009.
  max_message_size: 65536
  # Unsent outbound bytes a connection may queue; a slower consumer is closed with 1013.
  max_queue_bytes: 1048576
  # Connections on the node; more get HTTP 503.
  max_connections: 100000
  # Connections of one user on the node (Socket.IO sockets kept for recovery do not count); more are closed with 1013.
  max_connections_per_user: 100
  # Channels one connection may subscribe to.
  max_subscriptions: 256
  # Sustained commands per second from one connection; excess gets error 429.
  command_rate: 50
  # Commands that may arrive at once before command_rate applies.
  command_burst: 100
  # Largest HTTP API request body, in bytes; larger gets 413.
  max_api_body: 1048576
  # Bytes the node may owe its connections before publishing meets back-pressure (API 503 + Retry-After, client error 503, Go API waits).
  max_node_queue_bytes: 67108864

# Server WebSocket pings.
heartbeat:
  # How long a connection may be silent before it is pinged.
  interval: 25s
  # How long a ping may go unanswered before the connection is closed (1011 "ping timeout").
  timeout: 10s

# Plain HTTP connections (requests, long-polling, keep-alive; not those upgraded to WebSocket).
http:
  # How long a keep-alive connection may wait for its next request.
  idle_timeout: 30s
  # How long a client has to send a request's headers.
  header_timeout: 10s
  # How long a client has, once its headers are in, to send the body; later gets 408.
  body_timeout: 30s
  # Largest request header block, in bytes; larger gets 431.
  max_header_bytes: 65536
  # Plain HTTP connections at once; past it the longest idle or stalled ones are closed to make room.
  max_connections: 10000

# How long a connection may stay unauthenticated when anonymous access is off.
connect_timeout: 10s
# After SIGTERM, how long /readyz answers 503 while everything else is served, before the listener closes.
shutdown_delay: 5s
# How long a graceful shutdown then waits for connections and requests to finish.
shutdown_timeout: 10s
# How long a channel's offsets outlive its last publication.
history_meta_ttl: 24h
# Directory for what survives a restart (history.store: disk). Empty keeps nothing on disk.
data_dir: ""

# Channel streams: their history, and how clients resume them.
history:
  # Where streams live: memory (lost on restart) or disk (in data_dir, kept across restarts).
  store: memory
  # Disk only: "always" acknowledges a publish once it is on disk; a duration (200ms) writes in batches
  # that often, acknowledging at once: a crash can lose that much.
  fsync: 200ms
  # Most publications one resume replays; a client that missed more is told it did not recover.
  recovery_max: 1000

# What publications, streams, presence and the node registry run on: memory (this process alone),
# redis or nats (the local server), or a redis:// or rediss:// URL (?master_set=NAME for Sentinel)
# or a nats:// URL. Nodes on one broker with one cluster.prefix act as one.
broker: memory
# How nodes on a shared broker act as one.
cluster:
  # Starts every key and subject, so clusters can share a Redis or NATS.
  prefix: herald
  # This node's name in /api/info (default: the host name).
  node_name: ""
  # How long a dead node's presence entries outlive it (live nodes refresh every third of it).
  presence_ttl: 30s
  # How long a node that stopped announcing stays listed (nodes announce every third of it).
  node_ttl: 15s
  # Where the other nodes reach this one, scheme://host:port; Socket.IO polling requests for a
  # session held here are forwarded to it (default: http:// and the listen address).
  url: ""
  # How long a question to every node waits; a node that did not answer is left out, and named.
  ask_timeout: 3s

# Policy of channels without a namespace (no ":" in the name).
default_channel:
  # Who may subscribe: anyone, authenticated or nobody.
  subscribe: anyone
  # Who may publish from a client: anyone, authenticated, subscribers or nobody.
  publish: nobody
  # Keep who is subscribed and answer presence requests.
  presence: false
  # Send join and leave notices to subscribers.
  join_leave: false
  # Publications the channel keeps.
  history_size: 0
  # How long kept publications live; 0s keeps them until newer ones push them out.
  history_ttl: 0s

# Channel policies by namespace: channel "chat:lobby" is in namespace "chat".
namespaces:
  # Example: a chat clients may publish to once subscribed, with presence and history.
  chat:
    # Who may subscribe: anyone, authenticated or nobody.
    subscribe: anyone
    # Who may publish from a client: anyone, authenticated, subscribers or nobody.
    publish: subscribers
    # Keep who is subscribed and answer presence requests.
    presence: true
    # Send join and leave notices to subscribers.
    join_leave: true
    # Publications the channel keeps.
    history_size: 100
    # How long kept publications live.
    history_ttl: 1h
  # Example: alerts only the server publishes, for signed-in users.
  alerts:
    # Who may subscribe: anyone, authenticated or nobody.
    subscribe: authenticated
    # Who may publish from a client: anyone, authenticated, subscribers or nobody.
    publish: nobody
    # Keep who is subscribed and answer presence requests.
    presence: false
    # Send join and leave notices to subscribers.
    join_leave: false
    # Publications the channel keeps.
    history_size: 0
    # How long kept publications live; 0s keeps them until newer ones push them out.
    history_ttl: 0s

# The Socket.IO v4 server at /socket.io/ (defaults are the Node reference server's).
socketio:
  # Turn the Socket.IO server off.
  disabled: false
  # Namespaces clients may connect to besides "/".
  namespaces: []
  # Regular expression admitting more namespaces, e.g. ^/tenant-[a-z0-9]+$; empty admits none.
  dynamic_namespaces: ""
  # Prefix of the herald channels each namespace's rooms map to; unlisted: "" for "/", "x:" for "/x".
  channel_prefix: {}
  # How often the server pings each connection.
  ping_interval: 25s
  # How long a ping may go unanswered before the connection is closed.
  ping_timeout: 20s
  # Largest long-polling body or WebSocket message, in bytes.
  max_payload: 1000000
  # Binary attachments one client packet may carry (together at most max_payload bytes); more closes the connection.
  max_attachments: 1000
  # How long a transport upgrade (polling to WebSocket) may take.
  upgrade_timeout: 10s
  # How long a connection may stay without joining a namespace.
  connect_timeout: 45s
  # How long a socket whose transport dropped keeps its id, rooms and missed events; negative turns recovery off.
  recovery_window: 2m
  # Events kept per socket for recovery.
  recovery_events: 1000
  # Send Access-Control-Allow-Credentials to allowed origins on long-polling.
  cors_credentials: false
  # Turn off herald:join, herald:leave and herald:publish (channels without Go code).
  no_builtin_events: false

# Server log.
log:
  # debug, info, warn or error; empty means info.
  level: ""
  # text or json; empty means text.
  format: ""

# Give free heap back to the OS once the process goes quiet after a burst
# (connection storms leave up to twice the live heap mapped): one collection
# per burst. It acts on the whole process; the Go library leaves it off
# unless asked.
release_idle_memory: true
`
