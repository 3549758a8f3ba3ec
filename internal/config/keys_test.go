package config

import (
	"reflect"
	"strings"
	"testing"
	"time"

	herald "github.com/heraldhq/herald"
)

func TestEveryFieldIsSettable(t *testing.T) {
	k := keys()
	if len(k.unsupported) > 0 {
		t.Errorf("fields of a type the environment cannot set: %v; teach parseValue the type", k.unsupported)
	}
	if len(k.collisions) > 0 {
		t.Errorf("keys sharing an environment variable: %v", k.collisions)
	}
	if !reflect.DeepEqual(k.fileOnly, []string{"namespaces", "socketio.channel_prefix"}) {
		t.Errorf("file-only keys %v; want [namespaces socketio.channel_prefix]", k.fileOnly)
	}
	for _, name := range []string{"HERALD_ADDR", "HERALD_API_KEY", "HERALD_TOKEN_SECRET", "HERALD_ALLOW_ANONYMOUS",
		"HERALD_LIMITS_MAX_MESSAGE_SIZE", "HERALD_HEARTBEAT_INTERVAL", "HERALD_DEFAULT_CHANNEL_PUBLISH",
		"HERALD_ALLOWED_ORIGINS", "HERALD_LIMITS_COMMAND_RATE", "HERALD_LOG_FORMAT", "HERALD_HISTORY_META_TTL"} {
		if _, ok := k.byEnv[name]; !ok {
			t.Errorf("%s is not settable", name)
		}
	}
}

// TestEnvAndFlagsReachEveryKey sets each key through both routes and
// reads the field back, so the reflection paths are exercised for all.
func TestEnvAndFlagsReachEveryKey(t *testing.T) {
	samples := map[reflect.Kind]struct {
		text string
		want any
	}{
		reflect.String: {"x", "x"}, reflect.Bool: {"true", true}, reflect.Int: {"7", 7},
		reflect.Float64: {"2.5", 2.5}, reflect.Slice: {"a,b", []string{"a", "b"}},
	}
	for key, s := range keys().byKey {
		text, want := samples[s.typ.Kind()].text, samples[s.typ.Kind()].want
		if s.typ == durationType {
			text, want = "3s", 3*time.Second
		}
		if text == "" {
			t.Errorf("%s: no sample for %s", key, s.typ)
			continue
		}
		for _, route := range []string{"env", "flag"} {
			var c herald.Config
			var err error
			if route == "env" {
				err = applyEnv(&c, []string{s.env + "=" + text})
			} else {
				err = applyFlags(&c, map[string]string{key: text})
			}
			if err != nil {
				t.Errorf("%s %s: %v", route, key, err)
				continue
			}
			got := reflect.ValueOf(c).FieldByIndex(s.index)
			if !reflect.DeepEqual(got.Interface(), reflect.ValueOf(want).Convert(s.typ).Interface()) {
				t.Errorf("%s %s=%q set %v", route, key, text, got)
			}
		}
	}
}

func TestParseBoolSpellings(t *testing.T) {
	for text, want := range map[string]bool{"true": true, "1": true, "Yes": true, "on": true,
		"false": false, "0": false, "NO": false, "off": false, " true ": true} {
		v, err := parseValue(reflect.TypeFor[bool](), text)
		if err != nil || v.Bool() != want {
			t.Errorf("%q: got %v, %v; want %v", text, v, err, want)
		}
	}
}

func TestSuggest(t *testing.T) {
	names := []string{"max_connections", "max_connections_per_user", "max_subscriptions", "log", "addr"}
	for in, want := range map[string]string{
		"max_conections": "max_connections", "maxConnections": "max_connections",
		"max-subscriptions": "max_subscriptions", "something_else": "", "max_conn": "", "foo": "", "adr": "addr",
	} {
		if got := suggest(in, names); got != want {
			t.Errorf("suggest(%q) = %q; want %q", in, got, want)
		}
	}
	if !strings.Contains(keys().unknown("HERALD_NAMESPACES", envName, nil), "config file") {
		t.Error("HERALD_NAMESPACES is not pointed at the config file")
	}
}
