package socketio_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/heraldhq/herald/internal/auth"
)

func token(t *testing.T, user string) string {
	t.Helper()
	tok, err := auth.SignHS256("s", auth.TokenOptions{User: user, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// heraldConn is a herald-protocol client, to check both protocols share
// one hub.
type heraldConn struct {
	t    *testing.T
	ws   *websocket.Conn
	msgs chan map[string]json.RawMessage
	id   int
}

func dialHerald(t *testing.T, n *node) *heraldConn {
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(n.srv.URL, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	h := &heraldConn{t: t, ws: ws, msgs: make(chan map[string]json.RawMessage, 64)}
	go func() {
		defer close(h.msgs)
		for {
			_, frame, err := ws.ReadMessage()
			if err != nil {
				return
			}
			for _, line := range bytes.Split(frame, []byte("\n")) {
				var m map[string]json.RawMessage
				json.Unmarshal(line, &m)
				h.msgs <- m
			}
		}
	}()
	t.Cleanup(func() { ws.Close() })
	return h
}

func (h *heraldConn) call(cmd string) {
	h.t.Helper()
	h.id++
	ws := strings.Replace(cmd, "{", `{"id":`+strings.Repeat("", 0)+itoa(h.id)+",", 1)
	h.ws.WriteMessage(websocket.TextMessage, []byte(ws))
	for m := range h.msgs {
		if string(m["id"]) == itoa(h.id) {
			if m["error"] != nil {
				h.t.Fatalf("%s: %s", cmd, m["error"])
			}
			return
		}
	}
	h.t.Fatal("connection closed")
}

func (h *heraldConn) subscribe(ch string) { h.call(`{"op":"subscribe","channel":"` + ch + `"}`) }

func (h *heraldConn) publish(ch, data string) {
	h.call(`{"op":"publish","channel":"` + ch + `","data":` + data + `}`)
}

// publication waits for the next publication and returns its data.
func (h *heraldConn) publication() json.RawMessage {
	h.t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case m, ok := <-h.msgs:
			if !ok {
				h.t.Fatal("connection closed")
			}
			if string(m["type"]) == `"publication"` {
				return m["data"]
			}
		case <-timeout:
			h.t.Fatal("no publication within 5s")
		}
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
