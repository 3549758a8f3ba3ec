package eioproto

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestOpenPayloadJSON(t *testing.T) {
	tests := []struct {
		name string
		o    OpenPayload
		want string
	}{
		{"reference defaults", OpenPayload{
			SID: "lv_VI97HAXpY6yYWAAAC", Upgrades: []string{"websocket"},
			PingInterval: 25000, PingTimeout: 20000, MaxPayload: 1000000,
		}, `{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`},
		{"no upgrades is [] not null", OpenPayload{SID: "a", PingInterval: 1, PingTimeout: 2, MaxPayload: 3},
			`{"sid":"a","upgrades":[],"pingInterval":1,"pingTimeout":2,"maxPayload":3}`},
		{"escaping like JSON.stringify", OpenPayload{SID: "a\"<&>\u2028\x01", Upgrades: []string{"x", "y"}},
			`{"sid":"a\"<&>` + "\u2028" + `\u0001","upgrades":["x","y"],"pingInterval":0,"pingTimeout":0,"maxPayload":0}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(tt.o.AppendJSON(nil)); got != tt.want {
				t.Errorf("AppendJSON = %s\nwant          %s", got, tt.want)
			}
			// json.Marshal re-escapes <, > and & after MarshalJSON, so only
			// the decoded value is compared on that path.
			got, err := json.Marshal(tt.o)
			if err != nil {
				t.Fatal(err)
			}
			var back OpenPayload
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatal(err)
			}
			if len(tt.o.Upgrades) == 0 && len(back.Upgrades) == 0 {
				back.Upgrades = tt.o.Upgrades
			}
			if !reflect.DeepEqual(back, tt.o) {
				t.Errorf("round trip = %+v, want %+v", back, tt.o)
			}
		})
	}
}

func TestOpenPacket(t *testing.T) {
	o := OpenPayload{SID: "abc", Upgrades: []string{"websocket"}, PingInterval: 25000, PingTimeout: 20000, MaxPayload: 1000000}
	body, err := AppendPayload(nil, o.Packet())
	if err != nil {
		t.Fatal(err)
	}
	want := `0{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`
	if string(body) != want {
		t.Errorf("open payload = %s, want %s", body, want)
	}
}
