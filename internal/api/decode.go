package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"reflect"
	"strings"
)

// decode reads the request body as exactly one JSON object into v.
// Unknown fields, trailing data and bodies over the limit are errors
// that name the problem.
func (s *server) decode(r *http.Request, v any) *Error {
	body := http.MaxBytesReader(nil, r.Body, s.cfg.MaxBody)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err, v, s.cfg.MaxBody)
	}
	if _, err := dec.Token(); err != io.EOF {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) || errors.Is(err, os.ErrDeadlineExceeded) {
			return decodeError(err, v, s.cfg.MaxBody)
		}
		return &Error{http.StatusBadRequest, "request body has data after the JSON object"}
	}
	return nil
}

// decodeError names what is wrong with a body that did not decode into v.
func decodeError(err error, v any, limit int64) *Error {
	var tooBig *http.MaxBytesError
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return &Error{http.StatusRequestTimeout, err.Error()}
	case errors.As(err, &tooBig):
		return &Error{http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", limit)}
	case errors.Is(err, io.EOF):
		return &Error{http.StatusBadRequest, "request body is empty: send a JSON object"}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &Error{http.StatusBadRequest, "request body is not valid JSON: it ends in the middle of a value"}
	case errors.As(err, &syn):
		return &Error{http.StatusBadRequest, fmt.Sprintf("request body is not valid JSON (at byte %d): %v", syn.Offset, syn)}
	case errors.As(err, &typ):
		if typ.Field == "" {
			return &Error{http.StatusBadRequest, "request body must be a JSON object"}
		}
		return &Error{http.StatusBadRequest, fmt.Sprintf("field %q must be %s (found %s)",
			typ.Field, jsonKind(fieldType(v, typ.Field, typ.Type)), article(typ.Value))}
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return &Error{http.StatusBadRequest, strings.TrimPrefix(err.Error(), "json: ")}
	default:
		return &Error{http.StatusBadRequest, "bad request body: " + err.Error()}
	}
}

func missing(field string) *Error {
	return &Error{http.StatusBadRequest, fmt.Sprintf("missing field %q", field)}
}

// fieldType is the Go type of v's field named name in JSON; def when v
// has none (the error was about a value inside it).
func fieldType(v any, name string, def reflect.Type) reflect.Type {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return def
	}
	for i := range t.NumField() {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); tag == name {
			return t.Field(i).Type
		}
	}
	return def
}

// jsonKind says what JSON value a field of Go type t takes.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.String {
			return "an array of strings"
		}
		return "an array"
	}
	return "a " + t.String()
}

// article puts "a" or "an" before the kind of JSON value the decoder
// found ("number", "array", "object", …).
func article(kind string) string {
	if kind == "bool" {
		return "a boolean"
	}
	if kind != "" && strings.ContainsRune("aeiou", rune(kind[0])) {
		return "an " + kind
	}
	return "a " + kind
}
