package herald

import (
	"testing"
	"time"
)

func TestPushReachesEveryConnectionOfTheUserOnly(t *testing.T) {
	s := startNode(t, testConfig())
	tab1 := dialWS(t, s.wsURL("token="+token(t, "alice", time.Hour)), nil)
	tab2 := dialWS(t, s.wsURL(""), nil)
	tab2.ok(map[string]any{"op": "connect", "token": token(t, "alice", time.Hour)})
	bob := dialWS(t, s.wsURL("token="+token(t, "bob", time.Hour)), nil)
	anon := dialWS(t, s.wsURL(""), nil)
	for _, c := range []*wsConn{tab1, tab2, bob, anon} {
		c.ok(map[string]any{"op": "ping"}) // set up
	}
	status, res := s.api(t, "POST", "/api/push", `{"user":"alice","event":"alert","data":{"text":"disk full"}}`)
	if status != 200 || res["delivered"].(float64) != 2 {
		t.Fatalf("push: %d %v", status, res)
	}
	for _, c := range []*wsConn{tab1, tab2} {
		m := c.event("push")
		if m["event"] != "alert" || m["data"].(map[string]any)["text"] != "disk full" {
			t.Fatalf("push %v", m)
		}
	}
	bob.noEvent("push", 100*time.Millisecond)
	anon.noEvent("push", 10*time.Millisecond)

	if status, res := s.api(t, "POST", "/api/push", `{"user":"nobody","event":"x","data":1}`); status != 200 || res["delivered"].(float64) != 0 {
		t.Fatalf("push to an absent user: %d %v", status, res)
	}
}

func TestServerDisconnectAndUnsubscribe(t *testing.T) {
	s := startNode(t, testConfig())
	a1 := dialWS(t, s.wsURL("token="+token(t, "alice", time.Hour)), nil)
	a2 := dialWS(t, s.wsURL("token="+token(t, "alice", time.Hour)), nil)
	bob := dialWS(t, s.wsURL("token="+token(t, "bob", time.Hour)), nil)
	for _, c := range []*wsConn{a1, a2, bob} {
		c.ok(map[string]any{"op": "subscribe", "channel": "chat:room"})
	}
	status, res := s.api(t, "POST", "/api/unsubscribe", `{"user":"alice","channel":"chat:room"}`)
	if status != 200 || res["unsubscribed"].(float64) != 2 {
		t.Fatalf("unsubscribe: %d %v", status, res)
	}
	for _, c := range []*wsConn{a1, a2} {
		if m := c.event("unsubscribe"); m["channel"] != "chat:room" {
			t.Fatal(m)
		}
	}
	s.api(t, "POST", "/api/publish", `{"channel":"chat:room","data":"after"}`)
	for {
		if m := bob.event("publication"); m["data"] == "after" {
			break
		}
	}
	a1.noEvent("publication", 100*time.Millisecond)

	status, res = s.api(t, "POST", "/api/disconnect", `{"user":"alice"}`)
	if status != 200 || res["disconnected"].(float64) != 2 {
		t.Fatalf("disconnect: %d %v", status, res)
	}
	a1.disconnectThenClose(CloseDisconnected)
	a2.disconnectThenClose(CloseDisconnected)
	bob.ok(map[string]any{"op": "ping"})
	waitUntil(t, "alice gone", func() bool { return s.node.core.Hub().NumUserConns("alice") == 0 })
}
