package config

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// parseValue turns the text of an environment variable or flag into a
// value of type t. Errors say what was expected but not which key: the
// caller knows how the user spelled it (variable or flag).
func parseValue(t reflect.Type, raw string) (reflect.Value, error) {
	v := reflect.New(t).Elem()
	// Surrounding blanks are noise in numbers, but may be meant in a
	// string (a secret), so only non-strings are trimmed.
	s := strings.TrimSpace(raw)
	switch {
	case t == durationType:
		d, err := time.ParseDuration(s)
		if err != nil {
			return v, cannotUse(raw, t)
		}
		v.SetInt(int64(d))
	case t.Kind() == reflect.String:
		v.SetString(raw)
	case t.Kind() == reflect.Bool:
		b, ok := parseBool(s)
		if !ok {
			return v, cannotUse(raw, t)
		}
		v.SetBool(b)
	case v.CanInt():
		n, err := strconv.ParseInt(s, 10, t.Bits())
		if err != nil {
			return v, rangeOr(err, raw, t)
		}
		v.SetInt(n)
	case v.CanUint():
		n, err := strconv.ParseUint(s, 10, t.Bits())
		if err != nil {
			return v, rangeOr(err, raw, t)
		}
		v.SetUint(n)
	case v.CanFloat():
		f, err := strconv.ParseFloat(s, t.Bits())
		// NaN and infinities parse but would slip past every "must not
		// be negative" check in Validate.
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return v, rangeOr(err, raw, t)
		}
		v.SetFloat(f)
	case t.Kind() == reflect.Slice:
		v.Set(splitList(t, raw))
	default:
		return v, fmt.Errorf("%s cannot be set from text", t)
	}
	return v, nil
}

// parseBool accepts what strconv does plus yes/no/on/off, which YAML
// accepts for a bool field too, so a value works in every source.
func parseBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "yes", "on":
		return true, true
	case "no", "off":
		return false, true
	}
	b, err := strconv.ParseBool(s)
	return b, err == nil
}

// splitList reads a comma-separated list, dropping blanks so that
// "a, b," and "" mean what they look like.
func splitList(t reflect.Type, raw string) reflect.Value {
	var items []string
	for _, it := range strings.Split(raw, ",") {
		if it = strings.TrimSpace(it); it != "" {
			items = append(items, it)
		}
	}
	list := reflect.Zero(t)
	for _, it := range items {
		list = reflect.Append(list, reflect.ValueOf(it).Convert(t.Elem()))
	}
	return list
}

func rangeOr(err error, raw string, t reflect.Type) error {
	if errors.Is(err, strconv.ErrRange) {
		return fmt.Errorf("cannot use %q as %s: out of range", raw, describe(t))
	}
	return cannotUse(raw, t)
}

func cannotUse(raw string, t reflect.Type) error {
	return fmt.Errorf("cannot use %q as %s", raw, describe(t))
}

// describe names what a value of type t must look like, in the user's
// terms rather than Go's.
func describe(t reflect.Type) string {
	if t == durationType {
		return `a duration such as "25s" or "1h"`
	}
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean (true or false)"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer"
	case reflect.Float32, reflect.Float64:
		return "a finite number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "a mapping of keys"
	}
	return t.String()
}
