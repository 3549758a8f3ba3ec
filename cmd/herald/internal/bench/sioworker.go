package bench

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/gorilla/websocket"
)

// A Socket.IO worker connection does on a WebSocket-only connection
// (/socket.io/?EIO=4&transport=websocket) what socket.io-client does: it
// reads the Engine.IO open packet, connects to namespace "/" and answers
// the server's Engine.IO pings with pongs. It then joins the bench room
// with the built-in event herald:join, which needs no Go handler in
// herald and which the Node reference server (bench/nodesio) handles the
// same way.

var errSIOHandshake = errors.New("socket.io handshake")

// sioHandshake connects ws to namespace "/" and joins the room named by
// --channel: `421["herald:join","bench"]`, with an ack id so that the
// answer (`431[{"ok":true,…}]`) says the join is done before the bench
// starts publishing. Every step must be done within 10s.
func (w *worker) sioHandshake(ws *websocket.Conn) error {
	deadline := time.Now().Add(10 * time.Second)
	_ = ws.SetReadDeadline(deadline)
	_ = ws.SetWriteDeadline(deadline)
	// next returns the next message that is not a ping, answering pings.
	next := func(want string) ([]byte, error) {
		for range 16 {
			typ, msg, err := ws.ReadMessage()
			if err != nil {
				return nil, fmt.Errorf("%w: waiting for %s: %v", errSIOHandshake, want, err)
			}
			if typ != websocket.TextMessage {
				continue
			}
			if isSIOPing(msg) {
				if err := ws.WriteMessage(websocket.TextMessage, sioPong); err != nil {
					return nil, err
				}
				continue
			}
			return msg, nil
		}
		return nil, fmt.Errorf("%w: waiting for %s: nothing but pings", errSIOHandshake, want)
	}
	msg, err := next("the Engine.IO open packet")
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(msg, []byte("0{")) {
		return fmt.Errorf("%w: expected the Engine.IO open packet, got %s", errSIOHandshake, truncate(msg, 200))
	}
	if err := ws.WriteMessage(websocket.TextMessage, sioConnect); err != nil {
		return err
	}
	if msg, err = next("the CONNECT reply"); err != nil {
		return err
	}
	if !bytes.HasPrefix(msg, []byte("40")) {
		return fmt.Errorf("%w: CONNECT to / refused: %s", errSIOHandshake, truncate(msg, 200))
	}
	if w.f.channel != "" {
		if err := ws.WriteMessage(websocket.TextMessage, appendSIOJoin(nil, w.f.channel)); err != nil {
			return err
		}
		if msg, err = next("the herald:join acknowledgement"); err != nil {
			return err
		}
		if !bytes.HasPrefix(msg, []byte("431[")) || !bytes.Contains(msg, []byte(`"ok":true`)) {
			return fmt.Errorf("%w: herald:join %q failed: %s", errSIOHandshake, w.f.channel, truncate(msg, 200))
		}
	}
	_ = ws.SetReadDeadline(time.Time{})
	_ = ws.SetWriteDeadline(time.Time{})
	return nil
}

// onSIOMessage handles one message of an established Socket.IO
// connection: a ping is answered (the only thing the connection's reader
// ever writes), anything else is accounted for.
func (c *wconn) onSIOMessage(w *worker, msg []byte, now int64) {
	if isSIOPing(msg) {
		_ = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
		_ = c.ws.WriteMessage(websocket.TextMessage, sioPong)
		c.pings++
		return
	}
	c.accountSIO(w.hist, msg, w.f.event, now)
}
