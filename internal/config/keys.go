package config

import (
	"reflect"
	"strings"
	"sync"
	"time"

	herald "github.com/heraldhq/herald"
)

// envPrefix starts every environment variable this package reads.
const envPrefix = "HERALD_"

var durationType = reflect.TypeFor[time.Duration]()

// setting is one scalar key of herald.Config that the environment and
// flags can set.
type setting struct {
	key   string       // YAML key path, "limits.max_connections"
	env   string       // HERALD_LIMITS_MAX_CONNECTIONS
	index []int        // reflect field index path from herald.Config
	typ   reflect.Type // the field's type, which decides the parsing
}

// keyTable is every key of herald.Config, found by walking its yaml tags.
type keyTable struct {
	byKey map[string]setting
	byEnv map[string]setting
	// fileOnly are keys of maps (namespaces): their keys are data, not
	// field names, so no fixed variable name could address them.
	fileOnly []string
	// unsupported are fields of a type the environment cannot spell; a
	// test keeps this empty so a new field cannot silently miss out.
	unsupported []string
	// collisions are environment names two keys share; a test keeps this
	// empty too.
	collisions []string
}

// keys is built once: herald.Config's shape cannot change at run time.
var keys = sync.OnceValue(func() *keyTable {
	t := &keyTable{byKey: map[string]setting{}, byEnv: map[string]setting{}}
	t.walk(reflect.TypeFor[herald.Config](), "", nil)
	return t
})

func (t *keyTable) walk(typ reflect.Type, prefix string, index []int) {
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, inline, ok := yamlName(f)
		if !ok {
			continue
		}
		idx := append(append([]int(nil), index...), i)
		key := joinKey(prefix, name)
		if inline {
			key = prefix
		}
		switch {
		case scalar(f.Type):
			t.add(setting{key: key, env: envName(key), index: idx, typ: f.Type})
		case f.Type.Kind() == reflect.Struct:
			t.walk(f.Type, key, idx)
		case f.Type.Kind() == reflect.Map:
			t.fileOnly = append(t.fileOnly, key)
		default:
			t.unsupported = append(t.unsupported, key)
		}
	}
}

func (t *keyTable) add(s setting) {
	if _, dup := t.byEnv[s.env]; dup {
		t.collisions = append(t.collisions, s.env)
	}
	t.byKey[s.key] = s
	t.byEnv[s.env] = s
}

// yamlName is the key yaml.v3 uses for f, mirroring its rules (tag name,
// else the lower-cased field name) so both decoders agree on every key.
// ok is false for fields yaml.v3 skips.
func yamlName(f reflect.StructField) (name string, inline, ok bool) {
	if !f.IsExported() {
		return "", false, false
	}
	tag := f.Tag.Get("yaml")
	if tag == "-" {
		return "", false, false
	}
	name, opts, _ := strings.Cut(tag, ",")
	inline = f.Type.Kind() == reflect.Struct && strings.Contains(","+opts+",", ",inline,")
	if name == "" {
		name = strings.ToLower(f.Name)
	}
	return name, inline, true
}

// childType is the type of the value under key name in a value of type
// parent, or nil if parent has no such key.
func childType(parent reflect.Type, name string) reflect.Type {
	if parent == nil {
		return nil
	}
	switch parent.Kind() {
	case reflect.Map:
		return parent.Elem()
	case reflect.Struct:
		for i := range parent.NumField() {
			f := parent.Field(i)
			n, inline, ok := yamlName(f)
			switch {
			case !ok:
			case inline:
				if t := childType(f.Type, name); t != nil {
					return t
				}
			case n == name:
				return f.Type
			}
		}
	}
	return nil
}

// childNames lists the keys a struct type accepts, for suggestions.
func childNames(parent reflect.Type) []string {
	if parent == nil || parent.Kind() != reflect.Struct {
		return nil
	}
	var names []string
	for i := range parent.NumField() {
		f := parent.Field(i)
		n, inline, ok := yamlName(f)
		switch {
		case !ok:
		case inline:
			names = append(names, childNames(f.Type)...)
		default:
			names = append(names, n)
		}
	}
	return names
}

// scalar reports whether a field of type t is a single value that a
// string can spell, i.e. settable from the environment.
func scalar(t reflect.Type) bool {
	if t == durationType {
		return true
	}
	switch t.Kind() {
	case reflect.String, reflect.Bool,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	case reflect.Slice:
		return t.Elem().Kind() == reflect.String
	}
	return false
}

func joinKey(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// envName is the variable that sets key.
func envName(key string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}
