package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	herald "github.com/heraldhq/herald"
)

// secrets is the least a file needs to pass the production checks.
const secrets = "api_key: k\ntoken_secret: s\n"

// writeFile puts text in a herald.yaml of its own and returns the path.
func writeFile(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "herald.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

type loadCase struct {
	name  string
	file  *string // nil: no file
	env   []string
	flags map[string]string
	// want checks a successful load; wantErr lists substrings the error
	// must contain. Exactly one is set.
	want    func(t *testing.T, c herald.Config)
	wantErr []string
}

func file(text string) *string { return &text }

func runLoad(t *testing.T, load func(Options) (herald.Config, error), cases []loadCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := Options{Env: tc.env, Flags: tc.flags}
			if tc.file != nil {
				o.File = writeFile(t, *tc.file)
			}
			c, err := load(o)
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("no error; want one containing %q", tc.wantErr)
				}
				for _, s := range tc.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not contain %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			tc.want(t, c)
		})
	}
}

func TestLoadSources(t *testing.T) {
	runLoad(t, Load, []loadCase{
		{name: "defaults without a file", want: func(t *testing.T, c herald.Config) {
			if !reflect.DeepEqual(c, herald.DefaultConfig()) {
				t.Errorf("got %+v\nwant %+v", c, herald.DefaultConfig())
			}
		}},
		{name: "a file has only its own namespaces and no anonymous access", file: file(secrets), want: func(t *testing.T, c herald.Config) {
			if c.Namespaces != nil || c.DefaultChannel != (herald.ChannelPolicy{}) {
				t.Errorf("namespaces %v, default channel %+v; want none and zero", c.Namespaces, c.DefaultChannel)
			}
			if c.Addr != ":8080" || c.AllowAnonymous {
				t.Errorf("addr %q, allow_anonymous %v; want :8080 and false", c.Addr, c.AllowAnonymous)
			}
		}},
		{name: "file overrides", file: file(secrets + `
addr: ":9000"
allowed_origins: ["https://a.example", "https://b.example"]
limits:
  max_connections: 5
  command_rate: 2.5
heartbeat:
  interval: 5s
history_meta_ttl: 1h
log: {level: debug, format: json}
`), want: func(t *testing.T, c herald.Config) {
			want := herald.DefaultConfig()
			want.Namespaces, want.DefaultChannel, want.AllowAnonymous = nil, herald.ChannelPolicy{}, false
			want.APIKey, want.TokenSecret, want.Addr = "k", "s", ":9000"
			want.AllowedOrigins = []string{"https://a.example", "https://b.example"}
			want.Limits.MaxConnections, want.Limits.CommandRate = 5, 2.5
			want.Heartbeat.Interval, want.HistoryMetaTTL = 5*time.Second, time.Hour
			want.Log = herald.LogConfig{Level: "debug", Format: "json"}
			if !reflect.DeepEqual(c, want) {
				t.Errorf("got %+v\nwant %+v", c, want)
			}
		}},
		{name: "env beats file", file: file(secrets + "addr: \":1\"\nlimits: {max_connections: 5}\n"),
			env: []string{"HERALD_ADDR=:2", "HERALD_LIMITS_MAX_CONNECTIONS=6", "HERALD_ALLOWED_ORIGINS=https://a.example, https://b.example,",
				"HERALD_HEARTBEAT_INTERVAL=1m", "HERALD_DEFAULT_CHANNEL_PUBLISH=authenticated", "HERALD_ALLOW_ANONYMOUS=false"},
			want: func(t *testing.T, c herald.Config) {
				if c.Addr != ":2" || c.Limits.MaxConnections != 6 || c.Heartbeat.Interval != time.Minute ||
					c.DefaultChannel.Publish != herald.AccessAuthenticated || c.AllowAnonymous {
					t.Errorf("env did not win: %+v", c)
				}
				if want := []string{"https://a.example", "https://b.example"}; !reflect.DeepEqual(c.AllowedOrigins, want) {
					t.Errorf("allowed_origins %q; want %q", c.AllowedOrigins, want)
				}
			}},
		{name: "flags beat env", file: file(secrets + "addr: \":1\"\n"),
			env:   []string{"HERALD_ADDR=:2", "HERALD_API_KEY=from-env"},
			flags: map[string]string{"addr": ":3", "limits.max_connections": "7", "allow_anonymous": "false"},
			want: func(t *testing.T, c herald.Config) {
				if c.Addr != ":3" || c.Limits.MaxConnections != 7 || c.AllowAnonymous || c.APIKey != "from-env" {
					t.Errorf("flags did not win: %+v", c)
				}
			}},
		{name: "env without a file", env: []string{"HERALD_ECHO=yes", "HERALD_TOKEN_SECRET=s"},
			want: func(t *testing.T, c herald.Config) {
				if !c.Echo || c.TokenSecret != "s" || len(c.Namespaces) != 2 {
					t.Errorf("got %+v", c)
				}
			}},
		{name: "only HERALD_ variables are read, HERALD_CONFIG is the CLI's",
			env: []string{"HERALD_CONFIG=/etc/herald.yaml", "HOME=/root", "HERALDX=1", "NOEQUALS"},
			want: func(t *testing.T, c herald.Config) {
				if !reflect.DeepEqual(c, herald.DefaultConfig()) {
					t.Errorf("got %+v", c)
				}
			}},
		{name: "an empty list variable clears the file's list", file: file(secrets + "allowed_origins: ['*']\n"),
			env: []string{"HERALD_ALLOWED_ORIGINS="},
			want: func(t *testing.T, c herald.Config) {
				if c.AllowedOrigins != nil {
					t.Errorf("allowed_origins %q; want nil", c.AllowedOrigins)
				}
			}},
	})
}

func TestLoadNamespaces(t *testing.T) {
	runLoad(t, Load, []loadCase{
		{name: "parsed from the file", file: file(secrets + `
default_channel: {publish: authenticated}
namespaces:
  chat:
    subscribe: authenticated
    publish: subscribers
    presence: true
    join_leave: true
    history_size: 50
    history_ttl: 30m
  ops: {}
`), want: func(t *testing.T, c herald.Config) {
			want := map[string]herald.ChannelPolicy{
				"chat": {Subscribe: herald.AccessAuthenticated, Publish: herald.AccessSubscribers,
					Presence: true, JoinLeave: true, HistorySize: 50, HistoryTTL: 30 * time.Minute},
				"ops": {},
			}
			if !reflect.DeepEqual(c.Namespaces, want) {
				t.Errorf("namespaces %+v; want %+v", c.Namespaces, want)
			}
			if c.DefaultChannel != (herald.ChannelPolicy{Publish: herald.AccessAuthenticated}) {
				t.Errorf("default_channel %+v", c.DefaultChannel)
			}
		}},
		{name: "invalid access", file: file(secrets + "namespaces:\n  chat:\n    publish: everyone\n"),
			wantErr: []string{"namespaces.chat.publish", `"everyone"`}},
		{name: "bad history_size", file: file(secrets + "namespaces:\n  chat: {history_size: lots}\n"),
			wantErr: []string{"herald.yaml:4:", `namespaces.chat.history_size: cannot use "lots" as an integer`}},
		{name: "unknown policy key", file: file(secrets + "namespaces:\n  chat:\n    publsh: anyone\n"),
			wantErr: []string{"herald.yaml:5:", "namespaces.chat.publsh: unknown key", "did you mean publish?"}},
		{name: "not settable from env", env: []string{"HERALD_NAMESPACES_CHAT_PUBLISH=anyone"},
			wantErr: []string{"HERALD_NAMESPACES_CHAT_PUBLISH", "namespaces can only be set in a config file"}},
	})
}

func TestLoadErrors(t *testing.T) {
	runLoad(t, Load, []loadCase{
		{name: "unknown file key", file: file(secrets + "limits:\n  max_conections: 5\n"),
			wantErr: []string{"herald.yaml:4:", "limits.max_conections: unknown key", "did you mean max_connections?"}},
		{name: "unknown top-level key in camelCase", file: file(secrets + "allowAnonymous: true\n"),
			wantErr: []string{"herald.yaml:3:", "allowAnonymous: unknown key", "did you mean allow_anonymous?"}},
		{name: "every bad key is reported", file: file(secrets + "foo: 1\nlimits: {max_connections: many, max_subscriptions: lots}\n"),
			wantErr: []string{"herald.yaml:3: foo: unknown key", `limits.max_connections: cannot use "many"`, `limits.max_subscriptions: cannot use "lots"`}},
		{name: "key set twice", file: file(secrets + "addr: a\naddr: b\n"),
			wantErr: []string{"herald.yaml:4:", "addr: set twice (first at line 3)"}},
		{name: "syntax error", file: file(secrets + "limits: [\n"), wantErr: []string{"herald.yaml:"}},
		{name: "scalar for a section", file: file(secrets + "limits: 5\n"),
			wantErr: []string{`limits: cannot use "5" as a mapping of keys`}},
		{name: "mapping for a list", file: file(secrets + "allowed_origins: {a: b}\n"),
			wantErr: []string{"allowed_origins: cannot use a mapping as a list"}},
		{name: "list for the document", file: file("- a\n"),
			wantErr: []string{"herald.yaml:1: top level: cannot use a list as a mapping of keys"}},
		{name: "long value is quoted whole", file: file(secrets + "limits:\n  max_api_body: a-very-long-value\n"),
			wantErr: []string{`limits.max_api_body: cannot use "a-very-long-value" as an integer`}},
		{name: "unknown env variable", env: []string{"HERALD_LIMITS_MAX_CONECTIONS=5"},
			wantErr: []string{"HERALD_LIMITS_MAX_CONECTIONS: not a config setting", "did you mean HERALD_LIMITS_MAX_CONNECTIONS?"}},
		{name: "unknown flag", flags: map[string]string{"limits.max_conn": "5"},
			wantErr: []string{"flag limits.max_conn: not a config setting"}},
		{name: "invalid value caught by Validate", env: []string{"HERALD_LOG_LEVEL=loud"},
			wantErr: []string{"log.level", `"loud"`}},
		{name: "negative value caught by Validate", flags: map[string]string{"limits.max_connections": "-1"},
			wantErr: []string{"limits.max_connections: must not be negative"}},
	})
}

func TestMissingFile(t *testing.T) {
	_, err := Load(Options{File: filepath.Join(t.TempDir(), "nope.yaml")})
	if err == nil || !strings.Contains(err.Error(), "nope.yaml") {
		t.Fatalf("error %v; want one naming the file", err)
	}
}

func TestBadValues(t *testing.T) {
	type bad struct{ key, value, want string }
	values := []bad{
		{"limits.max_connections", "many", `cannot use "many" as an integer`},
		{"allow_anonymous", "maybe", `cannot use "maybe" as a boolean (true or false)`},
		{"heartbeat.interval", "25", `cannot use "25" as a duration such as "25s" or "1h"`},
	}
	var cases []loadCase
	for _, b := range values {
		// Nest the key path as YAML: "a.b" becomes "a:\n  b: v".
		parts := strings.Split(b.key, ".")
		var y strings.Builder
		for i, p := range parts[:len(parts)-1] {
			y.WriteString(strings.Repeat("  ", i) + p + ":\n")
		}
		y.WriteString(strings.Repeat("  ", len(parts)-1) + parts[len(parts)-1] + ": " + b.value + "\n")
		line := len(parts) + 2 // after the two lines of secrets
		cases = append(cases,
			loadCase{name: "file " + b.key, file: file(secrets + y.String()),
				wantErr: []string{"herald.yaml:" + strconv.Itoa(line) + ": " + b.key + ": " + b.want}},
			loadCase{name: "env " + b.key, env: []string{envName(b.key) + "=" + b.value},
				wantErr: []string{envName(b.key) + ": " + b.want}},
			loadCase{name: "flag " + b.key, flags: map[string]string{b.key: b.value},
				wantErr: []string{"flag " + b.key + ": " + b.want}},
		)
	}
	cases = append(cases,
		loadCase{name: "env float NaN", env: []string{"HERALD_LIMITS_COMMAND_RATE=NaN"},
			wantErr: []string{`HERALD_LIMITS_COMMAND_RATE: cannot use "NaN" as a finite number`}},
		loadCase{name: "env int out of range", env: []string{"HERALD_LIMITS_MAX_API_BODY=99999999999999999999"},
			wantErr: []string{"HERALD_LIMITS_MAX_API_BODY: ", "out of range"}},
		loadCase{name: "every bad variable is reported", env: []string{"HERALD_ECHO=x", "HERALD_NOPE=1"},
			wantErr: []string{"HERALD_ECHO: ", "HERALD_NOPE: "}},
	)
	runLoad(t, Load, cases)
}

func TestSecrets(t *testing.T) {
	pass := func(*testing.T, herald.Config) {}
	cases := []loadCase{
		{name: "file without api_key", file: file("token_secret: s\n"),
			wantErr: []string{"herald.yaml: api_key: missing"}},
		{name: "blank api_key", file: file("api_key: '  '\ntoken_secret: s\n"), wantErr: []string{"api_key: missing"}},
		{name: "empty file", file: file("# nothing yet\n"), wantErr: []string{"api_key: missing"}},
		{name: "no token key and anonymous off", file: file("api_key: k\nallow_anonymous: false\n"),
			wantErr: []string{"herald.yaml: token_secret: missing"}},
		{name: "both missing are both named", file: file("allow_anonymous: false\n"),
			wantErr: []string{"api_key: missing", "token_secret: missing"}},
		{name: "anonymous without a token key passes", file: file("api_key: k\nallow_anonymous: true\n"), want: pass},
		{name: "an RSA key is a token key", file: file("api_key: k\nallow_anonymous: false\ntoken_rsa_public_key: /k.pem\n"), want: pass},
		{name: "secrets may come from env", file: file("allow_anonymous: false\n"),
			env: []string{"HERALD_API_KEY=k", "HERALD_TOKEN_SECRET=s"}, want: pass},
		{name: "no file, no secrets needed", want: pass},
	}
	runLoad(t, Load, cases)

	t.Run("Check", func(t *testing.T) {
		runLoad(t, Check, []loadCase{
			{name: "without a file still needs api_key", wantErr: []string{"api_key: missing"}},
			{name: "secrets from env", env: []string{"HERALD_API_KEY=k"}, want: pass},
			{name: "same as Load with a file", file: file("token_secret: s\n"), wantErr: []string{"herald.yaml: api_key: missing"}},
		})
	})
}
