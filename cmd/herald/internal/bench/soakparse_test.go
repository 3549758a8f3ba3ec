package bench

import (
	"encoding/json"
	"testing"
)

func TestParseSoak(t *testing.T) {
	pub := soakMsg{kind: kindPub, stream: 12, seq: 5, sentNs: 1767225600123456789}
	push := soakMsg{kind: kindPush, stream: 40, seq: 2, sentNs: 99}
	none := soakMsg{unrecognised: true}
	herald := []struct {
		line string
		want soakMsg
	}{
		{`{"type":"publication","channel":"soak-12","offset":5,"epoch":"ab","time":1,"data":{"k":12,"s":5,"t":1767225600123456789,"p":"xx"}}`, pub},
		{`{"channel":"soak-12","type":"publication","data":{"p":"","t":1767225600123456789,"s":5,"k":12}}`, pub},
		{`{"type":"push","event":"soakpush","data":{"k":40,"s":2,"t":99,"p":""}}`, push},
		{`{"event":"soakpush","type":"push","data":{"k":40,"s":2,"t":99}}`, push},
		{`{"type":"join","channel":"soak-1","info":{"client":"c"}}`, none},
		{`{"id":1,"result":{"channel":"soak-1","offset":0,"epoch":""}}`, none},
		{`{"type":"publication","channel":"soak-12","data":{"s":5,"t":1}}`, none}, // no stream
		{`{"type":"disconnect","code":4003,"reason":"x"}`, none},
	}
	for _, tt := range herald {
		if got := parseSoakHerald([]byte(tt.line)); got != tt.want {
			t.Errorf("parseSoakHerald(%s) = %+v; want %+v", tt.line, got, tt.want)
		}
	}
	sio := []struct {
		msg  string
		want soakMsg
	}{
		{`42["soak",{"k":12,"s":5,"t":1767225600123456789,"p":"xx"},"3k"]`, pub},
		{`42["soak",{"k":12,"s":5,"t":1767225600123456789}]`, pub},
		{`42["soakpush",{"k":40,"s":2,"t":99,"p":""},"3l"]`, push},
		{`42["soaks",{"k":40,"s":2,"t":99}]`, none},
		{`42["tick",{"k":40,"s":2,"t":99}]`, none},
		{`431[{"ok":true,"room":"soak-1","channel":"soak-1"}]`, none},
		{`2`, none},
	}
	for _, tt := range sio {
		if got := parseSoakSIO([]byte(tt.msg)); got != tt.want {
			t.Errorf("parseSoakSIO(%s) = %+v; want %+v", tt.msg, got, tt.want)
		}
	}
}

// TestSoakBody checks the request bodies against the HTTP API's fields
// and that their data parses back.
func TestSoakBody(t *testing.T) {
	for _, kind := range []int{kindPub, kindPush} {
		for _, size := range []int{0, 64, 300} {
			body := appendSoakBody(nil, kind, 17, 3, 1767225600123456789, size)
			var req struct {
				Channel, User, Event string
				Data                 json.RawMessage
			}
			if err := json.Unmarshal(body, &req); err != nil {
				t.Fatalf("%s: %v", body, err)
			}
			wantEvent, target := soakPubEvent, req.Channel
			if kind == kindPush {
				wantEvent, target = soakPushEvent, req.User
			}
			if req.Event != wantEvent || (kind == kindPub && target != "soak-17") || (kind == kindPush && target != "soak-u17") {
				t.Errorf("%s: event %q, target %q", body, req.Event, target)
			}
			if size >= 50 && len(req.Data) != size {
				t.Errorf("data of %d bytes, want %d: %s", len(req.Data), size, req.Data)
			}
			got := soakFields(req.Data, kind)
			if want := (soakMsg{kind: kind, stream: 17, seq: 3, sentNs: 1767225600123456789}); got != want {
				t.Errorf("%s parses as %+v; want %+v", req.Data, got, want)
			}
		}
	}
}

func TestSoakAssignSpreads(t *testing.T) {
	const slots, channels, users = 3000, 10, 1000
	perChannel, perUser := make([]int, channels), make([]int, users)
	sio := 0
	for slot := range slots {
		ch, u, s := soakAssign(slot, channels, users, 20)
		perChannel[ch]++
		perUser[u]++
		if s {
			sio++
		}
	}
	for ch, n := range perChannel {
		if n < slots/channels/2 {
			t.Errorf("channel %d has %d of %d slots", ch, n, slots)
		}
	}
	for u, n := range perUser {
		if n != slots/users {
			t.Errorf("user %d has %d slots, want %d", u, n, slots/users)
		}
	}
	if sio < slots*15/100 || sio > slots*25/100 {
		t.Errorf("%d of %d slots speak Socket.IO; want about 20%%", sio, slots)
	}
}
