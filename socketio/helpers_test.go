package socketio_test

import (
	"bytes"
	"encoding/json"
	"errors"
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
	// err is why the connection ended, set before msgs is closed.
	err error
}

func dialHerald(t *testing.T, n *node) *heraldConn { return dialHeraldToken(t, n, "") }

// dialHeraldToken connects with token in the URL ("" for none).
func dialHeraldToken(t *testing.T, n *node, token string) *heraldConn {
	t.Helper()
	url := "ws" + strings.TrimPrefix(n.srv.URL, "http") + "/ws"
	if token != "" {
		url += "?token=" + token
	}
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := &heraldConn{t: t, ws: ws, msgs: make(chan map[string]json.RawMessage, 64)}
	go func() {
		defer close(h.msgs)
		for {
			_, frame, err := ws.ReadMessage()
			if err != nil {
				h.err = err
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

// refusal sends cmd and returns "" when it succeeds, or the error's
// message, which must come with code.
func (h *heraldConn) refusal(cmd string, code int) string {
	h.t.Helper()
	h.id++
	h.ws.WriteMessage(websocket.TextMessage, []byte(strings.Replace(cmd, "{", `{"id":`+itoa(h.id)+",", 1)))
	timeout := time.After(5 * time.Second)
	for {
		select {
		case m, ok := <-h.msgs:
			if !ok {
				h.t.Fatalf("%s: connection closed: %v", cmd, h.err)
			}
			if string(m["id"]) != itoa(h.id) {
				continue
			}
			if m["error"] == nil {
				return ""
			}
			var e struct {
				Code    int
				Message string
			}
			json.Unmarshal(m["error"], &e)
			if e.Code != code {
				h.t.Errorf("%s: error code %d, want %d (%s)", cmd, e.Code, code, e.Message)
			}
			return e.Message
		case <-timeout:
			h.t.Fatalf("%s: no reply within 5s", cmd)
		}
	}
}

// closeCode waits for the connection to end and returns its close code.
func (h *heraldConn) closeCode() int {
	h.t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-h.msgs:
			if ok {
				continue
			}
			var ce *websocket.CloseError
			if errors.As(h.err, &ce) {
				return ce.Code
			}
			h.t.Fatalf("connection ended without a close frame: %v", h.err)
		case <-timeout:
			h.t.Fatal("the connection did not close within 5s")
		}
	}
}

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
