package client

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/gorilla/websocket"
)

// run is the client's goroutine: it reads l's connection, and when that
// ends, reconnects if it should and reads the new one.
func (c *Client) run(l *link) {
	defer close(c.done)
	defer c.cancel()
	for {
		if f := c.opts.OnConnect; f != nil {
			f(l.info)
		}
		for _, r := range l.resumes {
			if f := c.opts.OnResume; f != nil {
				f(r.channel, r.resume)
			}
		}
		l.resumes = nil
		for _, m := range l.held {
			c.dispatch(m)
		}
		l.held = nil
		code, reason := c.read(l.conn)
		_ = l.conn.Close()
		if c.dropConn(code, reason) {
			c.onDisconnect(websocket.CloseNormalClosure, "closed by the client", false)
			return
		}
		again := c.opts.Reconnect && !isFinal(code)
		c.onDisconnect(code, reason, again)
		if !again {
			return
		}
		if l = c.reconnect(); l == nil {
			return
		}
	}
}

func (c *Client) onDisconnect(code int, reason string, willReconnect bool) {
	if f := c.opts.OnDisconnect; f != nil {
		f(code, reason, willReconnect)
	}
}

// read handles what arrives on conn until it ends, and says why it ended.
// Anything the server sends, its pings included, proves the connection
// alive for another ReadTimeout.
func (c *Client) read(conn *websocket.Conn) (int, string) {
	alive := func() { _ = conn.SetReadDeadline(time.Now().Add(c.opts.ReadTimeout)) }
	conn.SetPingHandler(func(data string) error {
		alive()
		err := conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
		if errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		return err
	})
	for {
		alive()
		// ReadMessage allocates each message afresh, so callbacks may keep
		// what they are given, and a burst does not leave a big buffer
		// behind on an idle connection.
		_, data, err := conn.ReadMessage()
		if err != nil {
			return c.lostReason(err)
		}
		c.handleFrame(data, nil, nil)
	}
}

// lostReason is the close code and reason of a connection whose read
// failed with err, preferring the close frame, then the server's
// disconnect message, then 1006.
func (c *Client) lostReason(err error) (int, string) {
	var ce *websocket.CloseError
	if errors.As(err, &ce) && ce.Code != websocket.CloseNoStatusReceived {
		reason := ce.Text
		if reason == "" && c.notice != nil && c.notice.Code == ce.Code {
			reason = c.notice.Reason
		}
		return ce.Code, reason
	}
	if c.notice != nil {
		return c.notice.Code, c.notice.Reason
	}
	return websocket.CloseAbnormalClosure, err.Error()
}

// handleFrame handles each message of a frame in order. await, when set,
// is offered each reply first and reports whether it took it; held, when
// set, keeps server messages instead of dispatching them.
func (c *Client) handleFrame(data []byte, await func(*message) bool, held *[]*message) {
	eachLine(data, func(line []byte) {
		m := new(message)
		if json.Unmarshal(line, m) != nil {
			return // not herald's protocol; skipping beats dropping the connection
		}
		switch {
		case m.Type == "":
			if await == nil || !await(m) {
				c.resolve(m)
			}
		case m.Type == "disconnect":
			// The close frame follows; its code is what counts, this
			// keeps the reason should the close frame carry none.
			c.notice = &DisconnectError{Code: m.Code, Reason: m.Reason}
		case held != nil:
			*held = append(*held, m)
		default:
			c.dispatch(m)
		}
	})
}

// dispatch handles a server message.
func (c *Client) dispatch(m *message) {
	o := &c.opts
	switch m.Type {
	case "publication":
		deliver, gap := c.accept(m.Channel, Position{Offset: m.Offset, Epoch: m.Epoch})
		if gap != nil && o.OnResume != nil {
			o.OnResume(m.Channel, *gap)
		}
		if deliver && o.OnPublication != nil {
			o.OnPublication(m.publication())
		}
	case "push":
		if o.OnPush != nil {
			o.OnPush(Push{Event: m.Event, Data: m.Data})
		}
	case "join":
		if o.OnJoin != nil {
			o.OnJoin(m.Channel, m.clientInfo())
		}
	case "leave":
		if o.OnLeave != nil {
			o.OnLeave(m.Channel, m.clientInfo())
		}
	case "unsubscribe":
		c.forgetSub(m.Channel, m.Reason)
	}
}

// reconnect dials until a connection is up, waiting a backoff before each
// attempt. It returns nil when the client should stop: Close was called,
// or the server refused for good.
func (c *Client) reconnect() *link {
	for attempt := 0; ; attempt++ {
		if !c.sleep(c.ctx, c.backoff(attempt)) {
			return nil
		}
		l, err := c.connect(c.ctx)
		if err == nil {
			c.mu.Lock()
			closed := c.closed
			if !closed {
				c.conn, c.info = l.conn, l.info
			}
			c.mu.Unlock()
			if closed {
				_ = l.conn.Close()
				return nil
			}
			return l
		}
		if c.ctx.Err() != nil {
			return nil
		}
		if d := finalError(err); d != nil {
			c.dropConn(d.Code, d.Reason)
			c.onDisconnect(d.Code, d.Reason, false)
			return nil
		}
	}
}

// finalError returns the close of a failed connect that forbids trying
// again, or nil.
func finalError(err error) *DisconnectError {
	var r *refusal
	if errors.As(err, &r) && isFinal(r.close.Code) {
		return &r.close
	}
	var d *DisconnectError
	if errors.As(err, &d) && isFinal(d.Code) {
		return d
	}
	return nil
}

// backoff is the wait before reconnect attempt n (from 0): doubling from
// MinBackoff up to MaxBackoff, with equal jitter so that clients cut off
// together do not all come back at once.
func (c *Client) backoff(n int) time.Duration {
	d, hi := c.opts.MinBackoff, c.opts.MaxBackoff
	for ; n > 0 && d < hi; n-- {
		d *= 2
	}
	d = min(d, hi)
	return d/2 + rand.N(d/2+1)
}
