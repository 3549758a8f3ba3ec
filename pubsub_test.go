package herald

import (
	"fmt"
	"testing"
	"time"
)

func TestPublishReachesEverySubscriberInOrder(t *testing.T) {
	s := startNode(t, testConfig())
	var subs []*wsConn
	for range 3 {
		c := dialWS(t, s.wsURL(""), nil)
		c.ok(map[string]any{"op": "subscribe", "channel": "news"})
		subs = append(subs, c)
	}
	other := dialWS(t, s.wsURL(""), nil)
	other.ok(map[string]any{"op": "subscribe", "channel": "sports"})

	for i := 1; i <= 20; i++ {
		status, res := s.api(t, "POST", "/api/publish", fmt.Sprintf(`{"channel":"news","data":{"n":%d}}`, i))
		if status != 200 || res["delivered"].(float64) != 3 || res["offset"].(float64) != float64(i) {
			t.Fatalf("publish %d: %d %v", i, status, res)
		}
	}
	for _, c := range subs {
		for i := 1; i <= 20; i++ {
			m := c.event("publication")
			data := m["data"].(map[string]any)
			if m["channel"] != "news" || data["n"].(float64) != float64(i) || m["offset"].(float64) != float64(i) {
				t.Fatalf("publication %d: %v", i, m)
			}
			if _, has := m["info"]; has {
				t.Fatalf("server publication carries info: %v", m)
			}
		}
	}
	other.noEvent("publication", 100*time.Millisecond)
}

func TestClientPublishCarriesPublisherInfo(t *testing.T) {
	s := startNode(t, testConfig())
	alice := dialWS(t, s.wsURL("token="+token(t, "alice", time.Hour)), nil)
	bob := dialWS(t, s.wsURL("token="+token(t, "bob", time.Hour)), nil)
	aliceID := alice.ok(map[string]any{"op": "connect"})["client"]
	for _, c := range []*wsConn{alice, bob} {
		c.ok(map[string]any{"op": "subscribe", "channel": "chat:room"})
	}
	res := alice.ok(map[string]any{"op": "publish", "channel": "chat:room", "data": map[string]any{"text": "hi"}})
	if res["offset"].(float64) != 1 {
		t.Fatalf("publish result %v", res)
	}
	m := bob.event("publication")
	info := m["info"].(map[string]any)
	if info["user"] != "alice" || info["client"] != aliceID {
		t.Fatalf("publication info %v", info)
	}
}

func TestPublishPolicy(t *testing.T) {
	s := startNode(t, testConfig())
	anon := dialWS(t, s.wsURL(""), nil)
	user := dialWS(t, s.wsURL("token="+token(t, "carol", time.Hour)), nil)

	anon.fails(map[string]any{"op": "publish", "channel": "news", "data": 1}, 403)           // server only
	anon.fails(map[string]any{"op": "publish", "channel": "chat:x", "data": 1}, 403)         // must subscribe first
	anon.fails(map[string]any{"op": "publish", "channel": "authed:x", "data": 1}, 403)       // must be authenticated
	anon.fails(map[string]any{"op": "subscribe", "channel": "alerts:x"}, 403)                // must be authenticated
	anon.fails(map[string]any{"op": "subscribe", "channel": "nowhere:x"}, 403)               // unknown namespace
	anon.fails(map[string]any{"op": "subscribe", "channel": "bad channel"}, 400)             // invalid name
	anon.fails(map[string]any{"op": "publish", "channel": "open:x"}, 400)                    // no data
	anon.ok(map[string]any{"op": "publish", "channel": "open:x", "data": "anyone may"})      // open
	user.ok(map[string]any{"op": "publish", "channel": "authed:x", "data": "users may"})     // authenticated
	user.ok(map[string]any{"op": "subscribe", "channel": "alerts:x"})                        // authenticated
	user.fails(map[string]any{"op": "publish", "channel": "alerts:x", "data": "no"}, 403)    // server only
	user.ok(map[string]any{"op": "subscribe", "channel": "chat:x"})                          // then
	user.ok(map[string]any{"op": "publish", "channel": "chat:x", "data": "subscribers may"}) // publish
	user.fails(map[string]any{"op": "subscribe", "channel": "chat:x"}, 409)                  // twice
}

func TestPrivateChannelOnlyForItsUsers(t *testing.T) {
	s := startNode(t, testConfig())
	alice := dialWS(t, s.wsURL("token="+token(t, "alice", time.Hour)), nil)
	bob := dialWS(t, s.wsURL("token="+token(t, "bob", time.Hour)), nil)
	anon := dialWS(t, s.wsURL(""), nil)
	alice.ok(map[string]any{"op": "subscribe", "channel": "#alice"})
	bob.fails(map[string]any{"op": "subscribe", "channel": "#alice"}, 403)
	anon.fails(map[string]any{"op": "subscribe", "channel": "#alice"}, 403)
	alice.ok(map[string]any{"op": "subscribe", "channel": "#alice,bob"})
	bob.ok(map[string]any{"op": "subscribe", "channel": "#alice,bob"})
	if status, _ := s.api(t, "POST", "/api/publish", `{"channel":"#alice","data":"for alice"}`); status != 200 {
		t.Fatal(status)
	}
	if m := alice.event("publication"); m["data"] != "for alice" {
		t.Fatal(m)
	}
	bob.noEvent("publication", 100*time.Millisecond)
}

func TestPresenceAndJoinLeave(t *testing.T) {
	s := startNode(t, testConfig())
	alice := dialWS(t, s.wsURL("token="+token(t, "alice", time.Hour)), nil)
	alice.ok(map[string]any{"op": "subscribe", "channel": "chat:lobby"})
	if j := alice.event("join"); j["info"].(map[string]any)["user"] != "alice" {
		t.Fatalf("own join %v", j)
	}
	bob := dialWS(t, s.wsURL("token="+token(t, "bob", time.Hour)), nil)
	bob.ok(map[string]any{"op": "subscribe", "channel": "chat:lobby"})
	if j := alice.event("join"); j["info"].(map[string]any)["user"] != "bob" || j["channel"] != "chat:lobby" {
		t.Fatalf("join %v", j)
	}
	clients := alice.ok(map[string]any{"op": "presence", "channel": "chat:lobby"})["clients"].([]any)
	if len(clients) != 2 {
		t.Fatalf("presence %v", clients)
	}
	status, res := s.api(t, "GET", "/api/presence?channel=chat:lobby", "")
	if status != 200 || len(res["clients"].([]any)) != 2 {
		t.Fatalf("api presence %d %v", status, res)
	}
	bob.ok(map[string]any{"op": "unsubscribe", "channel": "chat:lobby"})
	if l := alice.event("leave"); l["info"].(map[string]any)["user"] != "bob" {
		t.Fatalf("leave %v", l)
	}
	bob.ok(map[string]any{"op": "subscribe", "channel": "chat:lobby"})
	alice.event("join")
	bob.conn.Close() // leaving by hanging up also announces
	if l := alice.event("leave"); l["info"].(map[string]any)["user"] != "bob" {
		t.Fatalf("leave on close %v", l)
	}
	waitUntil(t, "presence shrinks", func() bool {
		_, res := s.api(t, "GET", "/api/presence?channel=chat:lobby", "")
		return len(res["clients"].([]any)) == 1
	})
	alice.fails(map[string]any{"op": "presence", "channel": "news"}, 403) // presence off
	if status, _ := s.api(t, "GET", "/api/presence?channel=news", ""); status != 400 {
		t.Fatalf("presence of a channel without presence: %d", status)
	}
}

func TestHistory(t *testing.T) {
	s := startNode(t, testConfig())
	for i := 1; i <= 15; i++ {
		s.api(t, "POST", "/api/publish", fmt.Sprintf(`{"channel":"chat:h","data":%d}`, i))
	}
	c := dialWS(t, s.wsURL(""), nil)
	res := c.ok(map[string]any{"op": "history", "channel": "chat:h"})
	pubs := res["publications"].([]any)
	if len(pubs) != 10 || pubs[0].(map[string]any)["data"].(float64) != 6 || res["offset"].(float64) != 15 {
		t.Fatalf("history keeps the newest 10: %v", res)
	}
	res = c.ok(map[string]any{"op": "history", "channel": "chat:h", "since": 12, "limit": 2})
	pubs = res["publications"].([]any)
	if len(pubs) != 2 || pubs[0].(map[string]any)["offset"].(float64) != 13 {
		t.Fatalf("history since 12 limit 2: %v", res)
	}
	sub := c.ok(map[string]any{"op": "subscribe", "channel": "chat:h"})
	if sub["offset"].(float64) != 15 || sub["epoch"] != res["epoch"] {
		t.Fatalf("subscribe position %v", sub)
	}
	c.fails(map[string]any{"op": "history", "channel": "news"}, 403)

	// Offsets from another epoch mean nothing: everything kept is new.
	res = c.ok(map[string]any{"op": "history", "channel": "chat:h", "since": 14, "epoch": "gone"})
	if len(res["publications"].([]any)) != 10 {
		t.Fatalf("stale epoch: %v", res)
	}
}

// A leave notice names who left, as they were: a connection that leaves
// anonymously and then connects as a user does not rename its notice.
func TestALeaveNoticeNamesWhoLeft(t *testing.T) {
	s := startNode(t, testConfig())
	watcher := dialWS(t, s.wsURL(""), nil)
	watcher.ok(map[string]any{"op": "subscribe", "channel": "chat:lobby"})
	watcher.event("join")
	c := dialWS(t, s.wsURL(""), nil)
	id := c.ok(map[string]any{"op": "connect"})["client"]
	c.ok(map[string]any{"op": "subscribe", "channel": "chat:lobby"})
	c.ok(map[string]any{"op": "unsubscribe", "channel": "chat:lobby"})
	c.ok(map[string]any{"op": "connect", "token": token(t, "alice", time.Hour)})
	for _, kind := range []string{"join", "leave"} {
		info := watcher.event(kind)["info"].(map[string]any)
		if info["client"] != id || info["user"] != nil {
			t.Fatalf("%s notice names %v, want the anonymous %v", kind, info, id)
		}
	}
}
