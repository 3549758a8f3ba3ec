package sioproto

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestAppendEvent(t *testing.T) {
	tests := []struct {
		name string
		got  func() ([]byte, error)
		want string
	}{
		{"name and int", func() ([]byte, error) { return AppendEvent(nil, "/", "hello", rawMsg("1")) }, `2["hello",1]`},
		{"no args", func() ([]byte, error) { return AppendEvent(nil, "", "ping") }, `2["ping"]`},
		{"namespace", func() ([]byte, error) { return AppendEvent(nil, "/admin", "a") }, `2/admin,["a"]`},
		{"many args", func() ([]byte, error) {
			return AppendEvent(nil, "/", "m", rawMsg(`"x"`), rawMsg(`{"a":[1,2]}`), nil, rawMsg("null"))
		}, `2["m","x",{"a":[1,2]},null,null]`},
		{"escaped name", func() ([]byte, error) { return AppendEvent(nil, "/", "a\"b\n<é>") }, `2["a\"b\n<é>"]`},
		{"with id", func() ([]byte, error) { return AppendEventWithID(nil, "/", 1, "ack-me") }, `21["ack-me"]`},
		{"with id admin", func() ([]byte, error) { return AppendEventWithID(nil, "/admin", 7, "x", rawMsg("true")) }, `2/admin,7["x",true]`},
		{"ack", func() ([]byte, error) { return AppendAck(nil, "/admin", 13, rawMsg("true")) }, `3/admin,13[true]`},
		{"ack empty", func() ([]byte, error) { return AppendAck(nil, "/", 12) }, `312[]`},
		{"ack two", func() ([]byte, error) { return AppendAck(nil, "/", 4, rawMsg(`"a"`), rawMsg("2")) }, `34["a",2]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.got()
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
			// Whatever we emit, our decoder must accept.
			if _, err := feed(NewDecoder(Limits{}), txt(string(got))); err != nil {
				t.Errorf("decoder rejects our own frame %s: %v", got, err)
			}
		})
	}
}

func TestAppendEventBadNamespace(t *testing.T) {
	for _, f := range []func() ([]byte, error){
		func() ([]byte, error) { return AppendEvent([]byte("k"), "admin", "a") },
		func() ([]byte, error) { return AppendEventWithID([]byte("k"), "/a,b", 1, "a") },
		func() ([]byte, error) { return AppendAck([]byte("k"), "x", 1) },
	} {
		got, err := f()
		if !errors.Is(err, ErrBadNamespace) || string(got) != "k" {
			t.Errorf("got %q, %v; want unchanged and ErrBadNamespace", got, err)
		}
	}
}

func TestAppendEventMatchesArgs(t *testing.T) {
	var a Args
	a.String("chat")
	a.Raw(rawMsg(`{"room":"general"}`))
	a.Int(3)
	want, err := AppendPacket(nil, a.Packet(Event, "/chat"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := AppendEvent(nil, "/chat", "chat", json.RawMessage(`{"room":"general"}`), json.RawMessage("3"))
	if err != nil || string(got) != string(want) {
		t.Errorf("AppendEvent = %s, Args path = %s (%v)", got, want, err)
	}
}
