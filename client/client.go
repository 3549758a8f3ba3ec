package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Client is a connection to a herald server that may be replaced by
// reconnects. Its methods are safe for concurrent use.
type Client struct {
	opts Options
	// endpoint indexes the URL (URL, then URLs) to dial next; only the
	// goroutine that connects touches it.
	endpoint int
	// ctx ends when Close is called; it bounds reconnecting.
	ctx    context.Context
	cancel context.CancelFunc
	// done is closed when the reading goroutine has ended.
	done chan struct{}

	// wmu lets one write at a time onto the connection, as gorilla's
	// Conn requires.
	wmu sync.Mutex

	mu sync.Mutex
	// conn is the connection in service; nil while reconnecting and at the end.
	conn *websocket.Conn
	// info is the last connect's answer.
	info ConnectInfo
	// nextID numbers commands; never reset, so a late reply from an old
	// connection cannot match a new call.
	nextID uint64
	// pending holds the calls waiting for a reply, by command id.
	pending map[uint64]*call
	// subs are the channels to subscribe to again after a reconnect,
	// with where their streams stand.
	subs map[string]*stream
	// closed is set by Close.
	closed bool
	// lost is why the last connection ended, for calls made before a new
	// one is up.
	lost DisconnectError

	// notice is the server's disconnect message on the connection being
	// read; only the reading goroutine touches it.
	notice *DisconnectError
}

// call is a command waiting for its reply.
type call struct {
	done   chan struct{}
	result json.RawMessage
	err    error
	// sub, for a subscribe, is the channel to remember for reconnects
	// once the server agrees. The reading goroutine records it before
	// reading on, so a reconnect right after cannot miss it, nor the
	// publications after the reply their position.
	sub string
	// since is the position a subscribe resumes from; nil for none.
	since *Position
}

// Dial connects to o.URL and sends the connect command. It returns once
// the server has answered: with a *Error when it refused (401 bad token,
// 403 refused by the application, 503 too many connections for the
// user), a *HandshakeError when the upgrade was refused, or another error
// when the server could not be reached. Dial itself does not retry, even
// with o.Reconnect. ctx bounds the dial and the connect exchange only.
func Dial(ctx context.Context, o Options) (*Client, error) {
	if o.URL == "" {
		return nil, errors.New("herald: Options.URL is empty")
	}
	c := &Client{
		opts:    o.withDefaults(),
		done:    make(chan struct{}),
		pending: make(map[uint64]*call),
		subs:    make(map[string]*stream),
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	l, err := c.connect(ctx)
	for tries := 1; err != nil && tries < len(c.endpoints()) && !isRefusal(err) && ctx.Err() == nil; tries++ {
		l, err = c.connect(ctx) // connect moved on to the next endpoint
	}
	if err != nil {
		c.cancel()
		var r *refusal
		if errors.As(err, &r) {
			return nil, r.reply
		}
		return nil, err
	}
	c.conn, c.info = l.conn, l.info
	go c.run(l)
	return c, nil
}

// Info is what the server said when the current (or last) connection
// connected.
func (c *Client) Info() ConnectInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.info
}

// Done is closed when the client has stopped for good: after Close, after
// a close code that forbids reconnecting, or after a disconnect without
// Options.Reconnect. Its reading goroutine has ended by then.
func (c *Client) Done() <-chan struct{} { return c.done }

// Close closes the connection with code 1000, stops reconnecting and
// waits until the client's goroutine has ended. Calls still waiting fail
// with a *DisconnectError, later ones with ErrClosed. Do not call Close
// from a callback: it would wait for the callback to return (use
// `go c.Close()` there).
func (c *Client) Close() error {
	c.mu.Lock()
	first := !c.closed
	c.closed = true
	conn := c.conn
	c.mu.Unlock()
	if first {
		c.cancel()
		if conn != nil {
			deadline := time.Now().Add(closeTimeout)
			msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
			_ = conn.WriteControl(websocket.CloseMessage, msg, deadline)
			// The server echoes the close and the reader ends; should it
			// not, the deadline ends the read.
			_ = conn.SetReadDeadline(deadline)
		}
	}
	<-c.done
	return nil
}

// call sends cmd and waits for its reply, returning the result or the
// error reply as a *Error.
func (c *Client) call(ctx context.Context, cmd command, sub string) (json.RawMessage, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cl := &call{done: make(chan struct{}), sub: sub}
	if sub != "" && cmd.Since != nil {
		cl.since = &Position{Offset: cmd.Since.Offset, Epoch: cmd.Since.Epoch}
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	conn := c.conn
	if conn == nil {
		lost := c.lost
		c.mu.Unlock()
		return nil, &lost
	}
	c.nextID++
	cmd.ID = c.nextID
	c.pending[cmd.ID] = cl
	c.mu.Unlock()

	frame, err := json.Marshal(&cmd)
	if err != nil {
		c.forget(cmd.ID)
		return nil, fmt.Errorf("herald: encoding %s: %w", cmd.Op, err)
	}
	if err := c.write(conn, frame); err != nil {
		// A failed write leaves the connection unusable. Closing it makes
		// the reader notice, and it fails this call with the close code.
		_ = conn.Close()
	}
	select {
	case <-cl.done:
		return cl.result, cl.err
	case <-ctx.Done():
		if sub == "" {
			c.forget(cmd.ID)
		}
		// A subscribe stays pending: should the server still agree, the
		// channel must be remembered for reconnects like any other.
		return nil, ctx.Err()
	}
}

// forget drops a call nobody waits for any more.
func (c *Client) forget(id uint64) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

// write sends one text frame.
func (c *Client) write(conn *websocket.Conn, frame []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	return conn.WriteMessage(websocket.TextMessage, frame)
}

// resolve hands a reply to the call waiting for it.
func (c *Client) resolve(m *message) {
	c.mu.Lock()
	cl := c.pending[m.ID]
	delete(c.pending, m.ID)
	if cl != nil && cl.sub != "" && m.Error == nil {
		c.track(cl.sub, cl.since, m.Result)
	}
	c.mu.Unlock()
	if cl == nil {
		return // the caller gave up, or an error for a command without id
	}
	if m.Error != nil {
		cl.err = m.Error
	} else {
		cl.result = m.Result
	}
	close(cl.done)
}

// dropConn records that the connection ended and fails the calls waiting
// on it. It reports whether Close was called.
func (c *Client) dropConn(code int, reason string) (closed bool) {
	c.mu.Lock()
	c.conn = nil
	c.lost = DisconnectError{Code: code, Reason: reason}
	pending := c.pending
	c.pending = make(map[uint64]*call)
	closed = c.closed
	c.mu.Unlock()
	for _, cl := range pending {
		cl.err = &DisconnectError{Code: code, Reason: reason}
		close(cl.done)
	}
	return closed
}

// newID numbers a command sent outside call.
func (c *Client) newID() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nextID++
	return c.nextID
}

// track starts tracking ch's stream from a subscribe's reply, as
// resumed from since when not nil. c.mu held.
func (c *Client) track(ch string, since *Position, result json.RawMessage) {
	var r subscribeReply
	_ = json.Unmarshal(result, &r) // a bad reply fails the caller's decoding too
	st := subscribed(r)
	if since != nil {
		_, st = resumed(*since, r)
	}
	c.subs[ch] = &st
}

// accept tracks a publication of a subscribed channel; see stream.accept.
func (c *Client) accept(ch string, p Position) (deliver bool, gap *Resume) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.subs[ch]
	if st == nil {
		return true, nil // unsubscribed meanwhile: delivered as it always was
	}
	return st.accept(p)
}
