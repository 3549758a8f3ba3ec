package config

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	herald "github.com/heraldhq/herald"
)

// reserved are HERALD_* variables that are not config keys: the CLI reads
// HERALD_CONFIG to find the file before any of this runs.
var reserved = map[string]bool{"HERALD_CONFIG": true}

// applyEnv sets c from the HERALD_* entries of env. It reports every bad
// entry, not just the first, so one run shows all there is to fix.
func applyEnv(c *herald.Config, env []string) error {
	t := keys()
	var errs []error
	for _, kv := range env {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, envPrefix) || reserved[name] {
			continue
		}
		s, found := t.byEnv[name]
		if !found {
			errs = append(errs, fmt.Errorf("%s: %s", name, t.unknown(name, envName, t.envNames())))
			continue
		}
		if err := s.set(c, val); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// applyFlags sets c from flag overrides keyed by YAML key path, parsed
// exactly as the environment is so a value means the same in both.
func applyFlags(c *herald.Config, flags map[string]string) error {
	t := keys()
	var errs []error
	// Sorted so that the errors come out in a stable order.
	for _, key := range slices.Sorted(maps.Keys(flags)) {
		s, found := t.byKey[key]
		if !found {
			errs = append(errs, fmt.Errorf("flag %s: %s", key, t.unknown(key, ident, t.keyNames())))
			continue
		}
		if err := s.set(c, flags[key]); err != nil {
			errs = append(errs, fmt.Errorf("flag %s: %w", key, err))
		}
	}
	return errors.Join(errs...)
}

// set parses raw and stores it in s's field of c.
func (s setting) set(c *herald.Config, raw string) error {
	v, err := parseValue(s.typ, raw)
	if err != nil {
		return err
	}
	reflect.ValueOf(c).Elem().FieldByIndex(s.index).Set(v)
	return nil
}

// unknown explains why name (a variable or key) sets nothing. spell maps
// a key path to the way name is spelled, so the file-only hint matches
// what the user wrote.
func (t *keyTable) unknown(name string, spell func(string) string, known []string) string {
	for _, key := range t.fileOnly {
		if p := spell(key); name == p || strings.HasPrefix(name, p+"_") || strings.HasPrefix(name, p+".") {
			return fmt.Sprintf("%s can only be set in a config file", key)
		}
	}
	msg := "not a config setting"
	if s := suggest(name, known); s != "" {
		msg += fmt.Sprintf("; did you mean %s?", s)
	}
	return msg
}

func (t *keyTable) envNames() []string { return slices.Sorted(maps.Keys(t.byEnv)) }
func (t *keyTable) keyNames() []string { return slices.Sorted(maps.Keys(t.byKey)) }

func ident(s string) string { return s }
