package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
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
		return decodeError(err, s.cfg.MaxBody)
	}
	if _, err := dec.Token(); err != io.EOF {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) || errors.Is(err, os.ErrDeadlineExceeded) {
			return decodeError(err, s.cfg.MaxBody)
		}
		return &Error{http.StatusBadRequest, "request body has data after the JSON object"}
	}
	return nil
}

func decodeError(err error, limit int64) *Error {
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
		return &Error{http.StatusBadRequest, fmt.Sprintf("field %q must be %v", typ.Field, typ.Type)}
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return &Error{http.StatusBadRequest, strings.TrimPrefix(err.Error(), "json: ")}
	default:
		return &Error{http.StatusBadRequest, "bad request body: " + err.Error()}
	}
}

func missing(field string) *Error {
	return &Error{http.StatusBadRequest, fmt.Sprintf("missing field %q", field)}
}
