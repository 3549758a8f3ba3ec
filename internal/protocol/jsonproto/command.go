package jsonproto

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Operations a client may ask for.
const (
	OpConnect     = "connect"
	OpSubscribe   = "subscribe"
	OpUnsubscribe = "unsubscribe"
	OpPublish     = "publish"
	OpPresence    = "presence"
	OpHistory     = "history"
	OpPing        = "ping"
)

// Command is one request from a client.
type Command struct {
	// ID is echoed in the reply; 0 means the client wants no reply.
	ID uint64 `json:"id"`
	// Op names the operation.
	Op string `json:"op"`
	// Token is the connection JWT, for connect.
	Token string `json:"token,omitempty"`
	// Channel is the channel the operation is about.
	Channel string `json:"channel,omitempty"`
	// Data is the payload of a publish.
	Data json.RawMessage `json:"data,omitempty"`
	// Since is a position in the channel's stream: for subscribe, where
	// the client resumes (the publications after it are replayed before
	// the live ones); for history, where the listing starts.
	Since *Since `json:"since,omitempty"`
	// Epoch is the stream epoch Since belongs to, when Since is given as
	// a bare offset.
	Epoch string `json:"epoch,omitempty"`
	// Limit caps how many publications history returns.
	Limit int `json:"limit,omitempty"`
}

// DecodeError is a command that could not be read. ID is set when the
// command's id could still be found, so the error reply can carry it.
type DecodeError struct {
	ID     uint64
	Reason string
}

func (e *DecodeError) Error() string { return e.Reason }

// Split calls f with each newline-separated message of a frame, skipping
// blank lines.
func Split(frame []byte, f func(line []byte)) {
	for len(frame) > 0 {
		line := frame
		if i := bytes.IndexByte(frame, '\n'); i >= 0 {
			line, frame = frame[:i], frame[i+1:]
		} else {
			frame = nil
		}
		if len(bytes.TrimSpace(line)) > 0 {
			f(line)
		}
	}
}

// DecodeCommand reads one command. Unknown fields and trailing data are
// errors, so typos are reported instead of silently ignored.
func DecodeCommand(line []byte) (Command, error) {
	var cmd Command
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cmd); err != nil {
		return cmd, &DecodeError{ID: idOf(line), Reason: describe(err)}
	}
	if dec.More() {
		return cmd, &DecodeError{ID: cmd.ID, Reason: "bad command: more than one JSON value on a line"}
	}
	if cmd.Op == "" {
		return cmd, &DecodeError{ID: cmd.ID, Reason: `bad command: missing "op"`}
	}
	if cmd.Since != nil && cmd.Since.Epoch == "" {
		cmd.Since.Epoch = cmd.Epoch
	}
	return cmd, nil
}

// Since is a stream position a client sends: an offset and the epoch it
// belongs to. On the wire it is {"offset": 42, "epoch": "ab12"}, or a
// bare offset with the command's "epoch" beside it.
type Since struct {
	Offset uint64 `json:"offset"`
	Epoch  string `json:"epoch"`
}

// UnmarshalJSON reads either form.
func (s *Since) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] != '{' {
		if err := json.Unmarshal(b, &s.Offset); err != nil {
			return errBadSince
		}
		return nil
	}
	type plain Since
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode((*plain)(s)); err != nil {
		return errBadSince
	}
	return nil
}

var errBadSince = errors.New(`field "since" must be an offset or {"offset": N, "epoch": "..."}`)

// describe turns a JSON error into a message that names the problem.
func describe(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("bad command: invalid JSON at byte %d: %v", syn.Offset, syn)
	case errors.As(err, &typ):
		return fmt.Sprintf("bad command: field %q must be %v", typ.Field, typ.Type)
	case errors.Is(err, errBadSince):
		return "bad command: " + errBadSince.Error()
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return "bad command: " + strings.TrimPrefix(err.Error(), "json: ")
	default:
		return "bad command: " + err.Error()
	}
}

// idOf salvages the id of a command that failed to decode as a whole.
func idOf(line []byte) uint64 {
	var probe struct {
		ID uint64 `json:"id"`
	}
	_ = json.Unmarshal(line, &probe)
	return probe.ID
}
