package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/protocol/jsonproto"
)

// soakConn is the open connection of one life: a herald-protocol client
// of /ws with its token on the URL, subscribed to its channel, or a
// Socket.IO client with its token in CONNECT, joined to the room of the
// same name. Either way the connection is its user's, so it gets the
// user's pushes too.
type soakConn struct {
	life    *soakLife
	ws      *websocket.Conn
	wmu     sync.Mutex  // writes: Engine.IO pongs and our close
	closing atomic.Bool // we are closing it: its end is not the server's
}

// soakAssign gives slot its channel, user and protocol. Users take the
// slots in turn (so each has conns/users connections, like a user with
// several tabs); channels and protocols are spread by a hash, so that a
// user's connections are in several channels and speak both protocols.
func soakAssign(slot, channels, users, sioPercent int) (channel, user int, sio bool) {
	h := splitmix(uint64(slot))
	return int(h % uint64(channels)), slot % users, int((h>>32)%100) < sioPercent
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

var errSoakRefused = errors.New("refused")

// dialLife opens one connection for slot and waits until its subscription
// is acknowledged; messages that arrive meanwhile are accounted for.
func (w *soakWorker) dialLife(ctx context.Context, slot int) (*soakConn, error) {
	channel, user, sio := soakAssign(slot, w.f.channels, w.f.users, w.f.sioPercent)
	token, err := auth.SignHS256(w.secret, auth.TokenOptions{User: soakUser(user)})
	if err != nil {
		return nil, err
	}
	c := &soakConn{life: newSoakLife(slot, sio, channel, user)}
	u := w.f.url + "?token=" + token
	if sio {
		u = w.f.sioURL
	}
	if c.ws, _, err = w.dialer.DialContext(ctx, u, nil); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(10 * time.Second)
	_ = c.ws.SetReadDeadline(deadline)
	_ = c.ws.SetWriteDeadline(deadline)
	if sio {
		err = c.joinSIO(token, soakChannel(channel))
	} else {
		err = c.subscribeHerald(soakChannel(channel))
	}
	if err != nil {
		_ = c.ws.Close()
		return nil, err
	}
	c.life.acknowledge(time.Now().UnixNano())
	_ = c.ws.SetReadDeadline(time.Time{})
	_ = c.ws.SetWriteDeadline(time.Time{})
	return c, nil
}

// subscribeHerald subscribes to ch and reads up to the reply, accounting
// for the publications and pushes that come first.
func (c *soakConn) subscribeHerald(ch string) error {
	cmd := fmt.Sprintf(`{"id":1,"op":"subscribe","channel":%q}`, ch)
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(cmd)); err != nil {
		return err
	}
	for {
		_, frame, err := c.ws.ReadMessage()
		if err != nil {
			return fmt.Errorf("waiting for the subscribe reply: %w", err)
		}
		var reply []byte
		jsonproto.Split(frame, func(line []byte) {
			if bytes.HasPrefix(line, []byte(`{"id":1,`)) {
				reply = line
			} else if m := parseSoakHerald(line); !m.unrecognised {
				c.life.record(m)
			}
		})
		switch {
		case reply == nil:
		case bytes.Contains(reply, []byte(`"result"`)):
			return nil
		default:
			return fmt.Errorf("subscribe %s %w: %s", ch, errSoakRefused, truncate(reply, 200))
		}
	}
}

// joinSIO connects to namespace "/" with the token and joins room ch,
// answering pings and accounting for the events that come first.
func (c *soakConn) joinSIO(token, ch string) error {
	steps := []struct {
		send, want, says []byte
		what             string
	}{
		{nil, []byte("0{"), nil, "the Engine.IO open packet"},
		{[]byte(`40{"token":` + strconv.Quote(token) + `}`), []byte("40"), nil, "the CONNECT reply"},
		{appendSIOJoin(nil, ch), []byte("431["), []byte(`"ok":true`), "the herald:join acknowledgement"},
	}
	for _, st := range steps {
		if st.send != nil {
			if err := c.ws.WriteMessage(websocket.TextMessage, st.send); err != nil {
				return err
			}
		}
		msg, err := c.nextSIO(st.what)
		if err != nil {
			return err
		}
		if !bytes.HasPrefix(msg, st.want) || !bytes.Contains(msg, st.says) {
			return fmt.Errorf("%w: %s %w: %s", errSIOHandshake, st.what, errSoakRefused, truncate(msg, 200))
		}
	}
	return nil
}

// nextSIO returns the next message that is neither a ping (answered) nor
// a soak event (accounted for).
func (c *soakConn) nextSIO(what string) ([]byte, error) {
	for {
		typ, msg, err := c.ws.ReadMessage()
		if err != nil {
			return nil, fmt.Errorf("%w: waiting for %s: %v", errSIOHandshake, what, err)
		}
		switch {
		case typ != websocket.TextMessage:
		case isSIOPing(msg):
			if err := c.ws.WriteMessage(websocket.TextMessage, sioPong); err != nil {
				return nil, err
			}
		default:
			if m := parseSoakSIO(msg); !m.unrecognised {
				c.life.record(m)
				continue
			}
			return msg, nil
		}
	}
}

// read is the connection's one goroutine once it is set up. It returns
// when the connection ends, saying whether the server (or the network)
// ended it rather than we.
func (c *soakConn) read() (byServer bool, err error) {
	for {
		typ, r, err := c.ws.NextReader()
		if err != nil {
			return !c.closing.Load(), err
		}
		if typ != websocket.TextMessage {
			continue
		}
		bp := framePool.Get().(*[]byte)
		frame, err := readFrame(r, (*bp)[:0])
		if err == nil {
			c.handle(frame)
		}
		if cap(frame) <= 64<<10 {
			*bp = frame[:0]
			framePool.Put(bp)
		}
	}
}

func (c *soakConn) handle(frame []byte) {
	if !c.life.sio {
		jsonproto.Split(frame, func(line []byte) { c.life.record(parseSoakHerald(line)) })
		return
	}
	if isSIOPing(frame) {
		c.wmu.Lock()
		_ = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
		_ = c.ws.WriteMessage(websocket.TextMessage, sioPong)
		c.wmu.Unlock()
		return
	}
	c.life.record(parseSoakSIO(frame))
}

// close ends the connection as a client leaving would: a Socket.IO client
// disconnects from its namespace first (so the server keeps nothing for
// recovery), then both send a normal close frame.
func (c *soakConn) close() {
	c.closing.Store(true)
	c.life.end(lifeClosedByUs)
	c.wmu.Lock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(time.Second))
	if c.life.sio {
		_ = c.ws.WriteMessage(websocket.TextMessage, []byte("41"))
	}
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""),
		time.Now().Add(time.Second))
	c.wmu.Unlock()
	_ = c.ws.Close()
}
