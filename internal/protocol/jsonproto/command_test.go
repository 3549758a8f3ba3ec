package jsonproto

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/protocol/record"
)

func TestDecodeCommand(t *testing.T) {
	since := Since{Offset: 7, Epoch: "e"}
	resume := Since{Offset: 9, Epoch: "ab"}
	cases := []struct {
		in      string
		want    Command
		wantErr string
		wantID  uint64
	}{
		{in: `{"id":1,"op":"ping"}`, want: Command{ID: 1, Op: "ping"}},
		{in: `{"id":2,"op":"subscribe","channel":"chat:a"}`, want: Command{ID: 2, Op: "subscribe", Channel: "chat:a"}},
		{in: `{"id":3,"op":"publish","channel":"c","data":{"x":[1,2]}}`, want: Command{ID: 3, Op: "publish", Channel: "c", Data: json.RawMessage(`{"x":[1,2]}`)}},
		{in: `{"id":4,"op":"history","channel":"c","since":7,"limit":2,"epoch":"e"}`, want: Command{ID: 4, Op: "history", Channel: "c", Since: &since, Limit: 2, Epoch: "e"}},
		{in: `{"id":11,"op":"subscribe","channel":"c","since":{"offset":9,"epoch":"ab"}}`, want: Command{ID: 11, Op: "subscribe", Channel: "c", Since: &resume}},
		{in: `{"id":12,"op":"subscribe","channel":"c","since":{"offset":9,"era":"ab"}}`, wantErr: `"since" must be an offset or`, wantID: 12},
		{in: `{"id":13,"op":"subscribe","channel":"c","since":"9"}`, wantErr: `"since" must be an offset or`, wantID: 13},
		{in: `{"op":"connect","token":"t"}`, want: Command{Op: "connect", Token: "t"}},
		{in: `{"id":5}`, wantErr: `missing "op"`, wantID: 5},
		{in: `{"id":6,"op":"ping","colour":"red"}`, wantErr: `unknown field "colour"`, wantID: 6},
		{in: `{"id":7,"op":1}`, wantErr: `"op" must be string`, wantID: 7},
		{in: `{"id":-1,"op":"ping"}`, wantErr: `"id" must be uint64`},
		{in: `{"id":8,"op":"ping"} {"id":9}`, wantErr: "more than one JSON value", wantID: 8},
		{in: `{"id":10,"op":`, wantErr: "bad command"},
		{in: `[1,2]`, wantErr: "must be"},
		{in: `nonsense`, wantErr: "invalid JSON"},
	}
	for _, tc := range cases {
		got, err := DecodeCommand([]byte(tc.in))
		if tc.wantErr == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.in, err)
				continue
			}
			gotJSON, _ := json.Marshal(got)
			wantJSON, _ := json.Marshal(tc.want)
			if string(gotJSON) != string(wantJSON) {
				t.Errorf("%s: got %s want %s", tc.in, gotJSON, wantJSON)
			}
			continue
		}
		var de *DecodeError
		if !errors.As(err, &de) || !strings.Contains(de.Reason, tc.wantErr) || de.ID != tc.wantID {
			t.Errorf("%s: got %v (id %v), want error containing %q with id %d", tc.in, err, de, tc.wantErr, tc.wantID)
		}
	}
}

func TestSplit(t *testing.T) {
	var got []string
	Split([]byte("a\n\n  \nb\r\nc"), func(l []byte) { got = append(got, string(l)) })
	if strings.Join(got, "|") != "a|b\r|c" {
		t.Fatalf("%q", got)
	}
}

func TestServerMessages(t *testing.T) {
	pub := &record.Publication{Channel: "c", Offset: 3, Epoch: "e", Time: 9, Data: json.RawMessage(`{"a":1}`),
		Info: &record.ClientInfo{Client: "n-1", User: "u"}}
	cases := map[string]string{
		string(AppendPublication(nil, pub)):                                          `{"type":"publication","channel":"c","offset":3,"epoch":"e","time":9,"data":{"a":1},"info":{"client":"n-1","user":"u"}}`,
		string(AppendPublication(nil, &record.Publication{Channel: "c", Offset: 1})): `{"type":"publication","channel":"c","offset":1,"data":null}`,
		string(AppendJoin(nil, "c", &record.ClientInfo{Client: "n-2"})):              `{"type":"join","channel":"c","info":{"client":"n-2"}}`,
		string(AppendLeave(nil, "c", &record.ClientInfo{Client: "n-2"})):             `{"type":"leave","channel":"c","info":{"client":"n-2"}}`,
		string(AppendPush(nil, "alert", json.RawMessage(`"x"`))):                     `{"type":"push","event":"alert","data":"x"}`,
		string(AppendUnsubscribe(nil, "c", "why")):                                   `{"type":"unsubscribe","channel":"c","reason":"why"}`,
		string(AppendDisconnect(nil, 4001, "bad token")):                             `{"type":"disconnect","code":4001,"reason":"bad token"}`,
		string(AppendReply(nil, 5, nil)):                                             `{"id":5,"result":{}}`,
		string(AppendError(nil, 6, &Error{Code: 403, Message: "no"})):                `{"id":6,"error":{"code":403,"message":"no"}}`,
	}
	for got, want := range cases {
		if got != want {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	}
}

// FuzzDecodeCommand feeds untrusted bytes to the command decoder: it must
// never panic, and what it accepts must survive a round trip.
func FuzzDecodeCommand(f *testing.F) {
	for _, seed := range []string{`{"id":1,"op":"ping"}`, `{"id":2,"op":"publish","channel":"c","data":[1,{"a":null}]}`,
		`{"op":"connect","token":"x.y.z"}`, `{"id":3,"op":"history","since":1,"limit":2}`, `{`, `[]`, `{"id":1e99}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		cmd, err := DecodeCommand(line)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		b, err := json.Marshal(cmd)
		if err != nil {
			t.Fatal(err)
		}
		again, err := DecodeCommand(b)
		if err != nil || again.ID != cmd.ID || again.Op != cmd.Op || again.Channel != cmd.Channel {
			t.Fatalf("round trip of %s: %+v %v", b, again, err)
		}
	})
}

func BenchmarkAppendPublication(b *testing.B) {
	pub := &record.Publication{Channel: "chat:lobby", Offset: 12345, Epoch: "9f86d081", Time: 1767225600000,
		Data: json.RawMessage(`{"text":"hello there, this is a chat message","n":42}`),
		Info: &record.ClientInfo{Client: "a1b2c3d4-1", User: "alice"}}
	b.ReportAllocs()
	for b.Loop() {
		AppendPublication(nil, pub)
	}
}

func BenchmarkDecodeCommand(b *testing.B) {
	line := []byte(`{"id":42,"op":"publish","channel":"chat:lobby","data":{"text":"hello there","n":42}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeCommand(line); err != nil {
			b.Fatal(err)
		}
	}
}

func TestSplitSkipsBlankLines(t *testing.T) {
	tests := []struct {
		frame string
		want  []string
	}{
		{"", nil},
		{"a", []string{"a"}},
		{"a\nb", []string{"a", "b"}},
		{"a\n\n \nb\n", []string{"a", "b"}},
		{"\n", nil},
	}
	for _, tt := range tests {
		var got []string
		Split([]byte(tt.frame), func(l []byte) { got = append(got, string(l)) })
		if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
			t.Errorf("Split(%q) = %q, want %q", tt.frame, got, tt.want)
		}
	}
}
