package socketio

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"github.com/heraldhq/herald/internal/protocol/sioproto"
)

// Arg is one argument of an event or acknowledgement.
type Arg struct {
	// JSON is the argument as JSON; binary values nested inside it are
	// base64 strings, as encoding/json writes []byte.
	JSON json.RawMessage
	// Binary is the argument when the sender sent bytes.
	Binary []byte
	// tree is the argument with nested binary values as []byte, kept so
	// that sending the Arg on sends them as binary again.
	tree any
}

// Decode unmarshals the argument into v: a binary argument decodes into a
// *[]byte only; []byte fields of structs receive nested binary values.
func (a Arg) Decode(v any) error {
	if a.Binary != nil {
		if p, ok := v.(*[]byte); ok {
			*p = a.Binary
			return nil
		}
		return fmt.Errorf("socketio: a binary argument decodes only into *[]byte, not %T", v)
	}
	return json.Unmarshal(a.JSON, v)
}

// Value is the argument as a JavaScript handler sees it: nil, bool,
// float64, string, []any, map[string]any, with []byte for binary values.
func (a Arg) Value() (any, error) {
	if a.Binary != nil {
		return a.Binary, nil
	}
	if a.tree != nil {
		return a.tree, nil
	}
	var v any
	err := json.Unmarshal(a.JSON, &v)
	return v, err
}

// argsOf returns the arguments of an EVENT (after its name) or an ACK,
// with binary values rebuilt wherever they are nested.
func argsOf(p sioproto.Packet) ([]Arg, error) {
	top, err := p.Args()
	if err != nil {
		return nil, err
	}
	out := make([]Arg, len(top))
	var trees []any
	for i, a := range top {
		out[i] = Arg{JSON: a.JSON, Binary: a.Binary}
		if a.Binary != nil || len(p.Attachments) == 0 || !bytes.Contains(a.JSON, placeholderKey) {
			continue
		}
		if trees == nil {
			if trees, err = p.Values(); err != nil {
				return nil, err
			}
		}
		out[i].tree = trees[i]
		if out[i].JSON, err = json.Marshal(trees[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

var placeholderKey = []byte(`"_placeholder"`)

var (
	socketType = reflect.TypeOf((*Socket)(nil))
	bytesType  = reflect.TypeOf([]byte(nil))
	rawType    = reflect.TypeOf(json.RawMessage(nil))
	argType    = reflect.TypeOf(Arg{})
	errorType  = reflect.TypeOf((*error)(nil)).Elem()
)

// eventHandler calls a typed handler func with decoded arguments.
type eventHandler struct {
	fn       reflect.Value
	params   []reflect.Type // after *Socket
	variadic bool
}

func newEventHandler(f any) (*eventHandler, error) {
	v := reflect.ValueOf(f)
	t := v.Type()
	if t.Kind() != reflect.Func {
		return nil, fmt.Errorf("handler is a %s, not a func", t.Kind())
	}
	if t.NumIn() == 0 || t.In(0) != socketType {
		return nil, errors.New("a handler's first parameter must be *sioproto.Socket")
	}
	h := &eventHandler{fn: v, variadic: t.IsVariadic()}
	for i := 1; i < t.NumIn(); i++ {
		h.params = append(h.params, t.In(i))
	}
	return h, nil
}

// call runs the handler with args and returns its results.
func (h *eventHandler) call(s *Socket, args []Arg) ([]any, error) {
	in := []reflect.Value{reflect.ValueOf(s)}
	fixed := h.params
	if h.variadic {
		fixed = h.params[:len(h.params)-1]
	}
	for i, t := range fixed {
		v, err := decodeArg(t, args, i)
		if err != nil {
			return nil, fmt.Errorf("argument %d: %w", i+1, err)
		}
		in = append(in, v)
	}
	if h.variadic {
		elem := h.params[len(h.params)-1].Elem()
		for i := len(fixed); i < len(args); i++ {
			v, err := decodeArg(elem, args, i)
			if err != nil {
				return nil, fmt.Errorf("argument %d: %w", i+1, err)
			}
			in = append(in, v)
		}
	}
	out := h.fn.Call(in)
	results := make([]any, len(out))
	for i, r := range out {
		results[i] = resultValue(r)
	}
	return results, nil
}

// decodeArg turns argument i into a value of type t; a missing argument is
// t's zero value, as JavaScript passes undefined.
func decodeArg(t reflect.Type, args []Arg, i int) (reflect.Value, error) {
	ptr := reflect.New(t)
	if i >= len(args) {
		return ptr.Elem(), nil
	}
	a := args[i]
	switch {
	case t == argType:
		ptr.Elem().Set(reflect.ValueOf(a))
	case t.Kind() == reflect.Interface && t.NumMethod() == 0:
		v, err := a.Value()
		if err != nil {
			return reflect.Value{}, err
		}
		if v != nil {
			ptr.Elem().Set(reflect.ValueOf(v))
		}
	case a.Binary != nil && t == bytesType:
		ptr.Elem().SetBytes(a.Binary)
	case a.Binary != nil:
		return reflect.Value{}, fmt.Errorf("binary data cannot be a %s", t)
	case t == rawType:
		ptr.Elem().SetBytes(append([]byte(nil), a.JSON...))
	default:
		if err := json.Unmarshal(a.JSON, ptr.Interface()); err != nil {
			return reflect.Value{}, err
		}
	}
	return ptr.Elem(), nil
}

// resultValue turns a handler result into what the acknowledgement
// carries: errors become {"message": …} (nil errors become null).
func resultValue(v reflect.Value) any {
	if v.Type() == errorType || (v.Kind() == reflect.Interface && v.Type().Implements(errorType)) {
		if v.IsNil() {
			return nil
		}
		return map[string]string{"message": v.Interface().(error).Error()}
	}
	return v.Interface()
}

// buildArgs encodes Go values as event or ack arguments; []byte values
// become binary attachments, and an Arg received earlier goes out as it
// came, binary values included.
func buildArgs(a *sioproto.Args, values []any) error {
	for i, v := range values {
		if err := appendArg(a, v); err != nil {
			return fmt.Errorf("socketio: argument %d: %w", i+1, err)
		}
	}
	return nil
}

func appendArg(a *sioproto.Args, v any) error {
	arg, ok := v.(Arg)
	switch {
	case !ok:
		return a.Value(expandArgs(v))
	case arg.Binary != nil:
		a.Bytes(arg.Binary)
	case arg.tree != nil:
		return a.Value(arg.tree)
	default:
		a.Raw(arg.JSON)
	}
	return nil
}

// expandArgs replaces Args inside []any and map[string]any by what they
// hold, so binary values in them go out as binary.
func expandArgs(v any) any {
	switch v := v.(type) {
	case Arg:
		switch {
		case v.Binary != nil:
			return v.Binary
		case v.tree != nil:
			return v.tree
		default:
			return v.JSON
		}
	case []Arg:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = expandArgs(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = expandArgs(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = expandArgs(e)
		}
		return out
	}
	return v
}

// MarshalJSON writes the argument as JSON (binary values as base64), for
// Args that end up inside values encoding/json marshals.
func (a Arg) MarshalJSON() ([]byte, error) {
	if a.Binary != nil {
		return json.Marshal(a.Binary)
	}
	if len(a.JSON) == 0 {
		return []byte("null"), nil
	}
	return a.JSON, nil
}
