package config

import (
	"context"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"testing"

	herald "github.com/heraldhq/herald"
	"gopkg.in/yaml.v3"
)

// effectiveDefaults is DefaultConfig as a node fills it in. It asks a real
// node because the defaults live unexported in package herald; comparing
// against them catches DefaultYAML drifting from the server.
func effectiveDefaults(t *testing.T) herald.Config {
	t.Helper()
	cfg := herald.DefaultConfig()
	cfg.AllowAnonymous = false // the template is for deployments: anonymous access is opt-in
	cfg.TokenSecret = "s"
	n, err := herald.New(cfg, herald.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // nothing to wait for: skip the shutdown delay
		_ = n.Shutdown(ctx)
	}()
	return n.Config()
}

func TestDefaultYAMLRoundTrips(t *testing.T) {
	text := DefaultYAML()
	for _, s := range []string{`api_key: ""`, `token_secret: ""`} {
		if strings.Count(text, "\n"+s+"\n") != 1 {
			t.Fatalf("DefaultYAML lacks a line %s", s)
		}
	}
	text = strings.Replace(text, `api_key: ""`, `api_key: "k"`, 1)
	text = strings.Replace(text, `token_secret: ""`, `token_secret: "s"`, 1)
	got, err := Load(Options{File: writeFile(t, text)})
	if err != nil {
		t.Fatal(err)
	}
	want := effectiveDefaults(t)
	want.APIKey, want.TokenSecret = "k", "s"
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load(DefaultYAML) =\n%+v\nwant\n%+v", got, want)
	}
}

func TestDefaultYAMLSaysSecretsAreRequired(t *testing.T) {
	_, err := Load(Options{File: writeFile(t, DefaultYAML())})
	if err == nil || !strings.Contains(err.Error(), "api_key") {
		t.Errorf("Load(DefaultYAML) error %v; want one naming api_key", err)
	}
	for _, key := range []string{"api_key", "token_secret"} {
		if comment := headComments(t)[key]; !strings.Contains(comment, "Required") {
			t.Errorf("comment of %s is %q; want it to say Required", key, comment)
		}
	}
}

func TestDefaultYAMLParsesWithKnownFields(t *testing.T) {
	dec := yaml.NewDecoder(strings.NewReader(DefaultYAML()))
	dec.KnownFields(true)
	var c herald.Config
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
}

// TestDefaultYAMLListsEveryKey makes adding a field to herald.Config
// without documenting it here a test failure.
func TestDefaultYAMLListsEveryKey(t *testing.T) {
	comments := headComments(t)
	var want []string
	for key := range keys().byKey {
		want = append(want, key)
	}
	for _, key := range keys().fileOnly {
		if key != "namespaces" { // listed below with its example entries
			want = append(want, key)
		}
	}
	policy := reflect.TypeFor[herald.ChannelPolicy]()
	for _, ns := range []string{"chat", "alerts"} {
		want = append(want, "namespaces."+ns)
		for _, k := range childNames(policy) {
			want = append(want, "namespaces."+ns+"."+k)
		}
	}
	// Every section key leading to them is listed too.
	for _, key := range slices.Clone(want) {
		for i := strings.LastIndex(key, "."); i > 0; i = strings.LastIndex(key[:i], ".") {
			want = append(want, key[:i])
		}
	}
	slices.Sort(want)
	want = slices.Compact(want)
	var got []string
	for key, comment := range comments {
		got = append(got, key)
		if strings.TrimSpace(comment) == "" || strings.Count(strings.TrimSpace(comment), "\n") > 0 {
			t.Errorf("key %s has comment %q; want exactly one line", key, comment)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("DefaultYAML keys\n%q\nwant\n%q", got, want)
	}
}

// headComments maps each key path in DefaultYAML to the comment on the
// line above it, the last line only when a section header comes first.
func headComments(t *testing.T) map[string]string {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(DefaultYAML()), &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	var walk func(n *yaml.Node, prefix string)
	walk = func(n *yaml.Node, prefix string) {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			key := joinKey(prefix, k.Value)
			// The document's own header is attached to the first key,
			// above a blank line; the key's comment is the last line.
			lines := strings.Split(strings.TrimSpace(k.HeadComment), "\n")
			out[key] = lines[len(lines)-1]
			if v.Kind == yaml.MappingNode {
				walk(v, key)
			}
		}
	}
	walk(doc.Content[0], "")
	return out
}
