package socketio

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"github.com/heraldhq/herald/internal/protocol/socketio"
)

// Arg is one argument of an event or acknowledgement: JSON, or binary.
type Arg struct {
	// JSON is the argument when it is not binary.
	JSON json.RawMessage
	// Binary is the argument when the sender sent bytes.
	Binary []byte
}

// Decode unmarshals a JSON argument into v; a binary argument decodes
// into a *[]byte only.
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
		return nil, errors.New("a handler's first parameter must be *socketio.Socket")
	}
	h := &eventHandler{fn: v, variadic: t.IsVariadic()}
	for i := 1; i < t.NumIn(); i++ {
		h.params = append(h.params, t.In(i))
	}
	return h, nil
}

// call runs the handler with args and returns its results.
func (h *eventHandler) call(s *Socket, args []socketio.Arg) ([]any, error) {
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
func decodeArg(t reflect.Type, args []socketio.Arg, i int) (reflect.Value, error) {
	ptr := reflect.New(t)
	if i >= len(args) {
		return ptr.Elem(), nil
	}
	a := args[i]
	switch {
	case t == argType:
		ptr.Elem().Set(reflect.ValueOf(Arg{JSON: a.JSON, Binary: a.Binary}))
	case a.Binary != nil && t == bytesType:
		ptr.Elem().SetBytes(a.Binary)
	case a.Binary != nil && t.Kind() == reflect.Interface:
		ptr.Elem().Set(reflect.ValueOf(a.Binary))
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
// become binary attachments.
func buildArgs(a *socketio.Args, values []any) error {
	for i, v := range values {
		if err := a.Value(v); err != nil {
			return fmt.Errorf("socketio: argument %d: %w", i+1, err)
		}
	}
	return nil
}
