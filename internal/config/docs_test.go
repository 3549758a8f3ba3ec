package config

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// docRow is one row of a key table in docs/configuration.md:
// | `limits.max_connections` | `100000` | … |
var docRow = regexp.MustCompile("(?m)^\\| `([a-z0-9_.]+)` \\| ([^|]*) \\|")

// documentedKeys maps each key with a row in docs/configuration.md to its
// default cell.
func documentedKeys(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range docRow.FindAllStringSubmatch(string(b), -1) {
		if _, dup := out[m[1]]; dup {
			t.Errorf("docs/configuration.md has two rows for %s", m[1])
		}
		out[m[1]] = strings.TrimSpace(m[2])
	}
	return out
}

// genconfigValues maps every key `herald genconfig` prints a value for to
// that value, leaving out the example namespaces (their keys are
// default_channel's) and the sections above them.
func genconfigValues(t *testing.T) map[string]*yaml.Node {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(DefaultYAML()), &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]*yaml.Node{}
	var walk func(n *yaml.Node, prefix string)
	walk = func(n *yaml.Node, prefix string) {
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, v := joinKey(prefix, n.Content[i].Value), n.Content[i+1]
			switch {
			case key == "namespaces":
				out[key] = v
			case v.Kind == yaml.MappingNode && len(v.Content) > 0:
				walk(v, key)
			default:
				out[key] = v
			}
		}
	}
	walk(doc.Content[0], "")
	return out
}

// TestConfigurationDocListsEveryKey makes a key that `herald genconfig`
// prints, or a field of herald.Config, without a row in
// docs/configuration.md a test failure, and a row whose default is not
// the one genconfig prints too.
func TestConfigurationDocListsEveryKey(t *testing.T) {
	doc := documentedKeys(t)
	gen := genconfigValues(t)
	for key, v := range gen {
		cell, ok := doc[key]
		switch {
		case !ok:
			t.Errorf("docs/configuration.md has no row for %s, which herald genconfig prints", key)
		case key == "namespaces": // examples, described in words
		default:
			checkDocDefault(t, key, cell, v)
		}
	}
	var fields []string
	for key := range keys().byKey {
		fields = append(fields, key)
	}
	fields = append(fields, keys().fileOnly...)
	for _, key := range fields {
		if _, ok := doc[key]; !ok {
			t.Errorf("docs/configuration.md has no row for %s, a key of herald.Config", key)
		}
	}
	for key := range doc {
		if _, ok := gen[key]; !ok && !slices.Contains(fields, key) {
			t.Errorf("docs/configuration.md has a row for %s, which is no key", key)
		}
	}
}

// checkDocDefault compares a default cell (`65536`, `""`, `[]`) with the
// value genconfig prints, as YAML, so that quoting does not matter.
func checkDocDefault(t *testing.T, key, cell string, v *yaml.Node) {
	t.Helper()
	text, ok := strings.CutPrefix(cell, "`")
	if text, ok = strings.CutSuffix(text, "`"); !ok || strings.Contains(text, "`") {
		t.Errorf("docs/configuration.md: the default of %s is %q; want one `value`", key, cell)
		return
	}
	var documented, printed any
	if err := yaml.Unmarshal([]byte(text), &documented); err != nil {
		t.Errorf("docs/configuration.md: the default of %s, %s, is not YAML: %v", key, text, err)
		return
	}
	if err := v.Decode(&printed); err != nil {
		t.Fatal(err)
	}
	if documented == nil && printed == nil {
		return
	}
	if !reflect.DeepEqual(documented, printed) {
		t.Errorf("docs/configuration.md: the default of %s is %s; herald genconfig prints %v", key, text, printed)
	}
}
