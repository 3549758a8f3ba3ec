package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gorilla/websocket"
	"github.com/heraldhq/herald/internal/protocol/jsonproto"
)

// hconn is one herald-protocol connection of this process, for the
// scenarios that hold few enough connections to keep them here (history,
// resume) and need to look at what each one got, in order.
type hconn struct {
	ws *websocket.Conn
	// pending holds the lines of the last frame not handed out yet: the
	// server puts several messages in one frame, one a line.
	pending [][]byte
}

var hconnDialer = &websocket.Dialer{HandshakeTimeout: 10 * time.Second, ReadBufferSize: 4096, WriteBufferSize: 1024}

func dialHerald(ctx context.Context, wsURL string) (*hconn, error) {
	ws, _, err := hconnDialer.DialContext(ctx, wsURL, nil)
	if err != nil {
		return nil, err
	}
	return &hconn{ws: ws}, nil
}

// send writes one command.
func (c *hconn) send(cmd []byte) error {
	return c.ws.WriteMessage(websocket.TextMessage, cmd)
}

// next returns the next server message (one line), waiting until
// deadline at most.
func (c *hconn) next(deadline time.Time) ([]byte, error) {
	for len(c.pending) == 0 {
		_ = c.ws.SetReadDeadline(deadline)
		_, frame, err := c.ws.ReadMessage()
		if err != nil {
			return nil, err
		}
		jsonproto.Split(frame, func(line []byte) { c.pending = append(c.pending, line) })
	}
	line := c.pending[0]
	c.pending = c.pending[1:]
	return line, nil
}

// reply reads up to the reply to command id and decodes its result into
// v; publications that come first are handed to pub (nil: dropped).
func (c *hconn) reply(id int, deadline time.Time, v any, pub func([]byte) error) error {
	prefix := fmt.Appendf(nil, `{"id":%d,`, id)
	for {
		line, err := c.next(deadline)
		if err != nil {
			return fmt.Errorf("waiting for the reply to command %d: %w", id, err)
		}
		if !bytes.HasPrefix(line, prefix) {
			if pub != nil {
				if err := pub(line); err != nil {
					return err
				}
			}
			continue
		}
		var r struct {
			Result json.RawMessage  `json:"result"`
			Error  *jsonproto.Error `json:"error"`
		}
		if err := json.Unmarshal(line, &r); err != nil {
			return fmt.Errorf("reply %s: %w", truncate(line, 200), err)
		}
		if r.Error != nil {
			return fmt.Errorf("command %d refused: %d %s", id, r.Error.Code, r.Error.Message)
		}
		return json.Unmarshal(r.Result, v)
	}
}

// drop ends the connection the way a lost network does: no close frame,
// the socket just goes.
func (c *hconn) drop() { _ = c.ws.NetConn().Close() }

// close ends the connection politely.
func (c *hconn) close() {
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	_ = c.ws.Close()
}

// countHistory asks the server, over a connection of its own, how many
// publications channel ch keeps.
func countHistory(ctx context.Context, wsURL, ch string) (int, error) {
	c, err := dialHerald(ctx, wsURL)
	if err != nil {
		return 0, err
	}
	defer c.close()
	if err := c.send(fmt.Appendf(nil, `{"id":1,"op":"history","channel":%q}`, ch)); err != nil {
		return 0, err
	}
	var r struct {
		Publications []json.RawMessage `json:"publications"`
	}
	if err := c.reply(1, time.Now().Add(10*time.Second), &r, nil); err != nil {
		return 0, err
	}
	return len(r.Publications), nil
}
