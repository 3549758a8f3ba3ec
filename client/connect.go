package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/gorilla/websocket"
	"github.com/heraldhq/herald/internal/protocol/jsonproto"
)

// refusal is a connect command the server answered with an error; it
// closes the connection right after, and the close code says whether
// trying again makes sense.
type refusal struct {
	reply *Error
	close DisconnectError
}

func (r *refusal) Error() string { return r.reply.Error() }

// reply is the outcome of one command of an exchange.
type reply struct {
	result json.RawMessage
	err    *Error
}

// resubscribeChunk is how many subscribes go in one frame when
// resubscribing: well under the server's default command burst (100), so
// a connection with many channels is not rate limited, let alone closed.
const resubscribeChunk = 16

// link is a connection just set up, before it goes into service.
type link struct {
	conn *websocket.Conn
	info ConnectInfo
	// held are the server messages that arrived while connecting; they are
	// handed to the callbacks after OnConnect, so that OnConnect comes
	// first and every callback runs on the client's goroutine.
	held []*message
	// resumes say how each resubscribed channel resumed, for OnResume
	// right after OnConnect.
	resumes []channelResume
}

// channelResume is a resume to report to OnResume.
type channelResume struct {
	channel string
	resume  Resume
}

// connect dials, sends connect with a fresh token and subscribes again to
// every remembered channel. It runs on the goroutine that will read the
// connection, before anyone else can use it.
func (c *Client) connect(ctx context.Context) (*link, error) {
	urls := c.endpoints()
	conn, resp, err := c.opts.Dialer.DialContext(ctx, urls[c.endpoint%len(urls)], c.opts.Header)
	if err != nil {
		c.endpoint++ // that node may be gone: the next attempt tries another
		return nil, handshakeError(resp, err)
	}
	l := &link{conn: conn}
	if err := c.setUp(ctx, l); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return l, nil
}

// setUp sends connect on a new connection and resubscribes.
func (c *Client) setUp(ctx context.Context, l *link) error {
	// The token is fetched once the server answered, so that attempts
	// against a server that is down do not load the token issuer too.
	token := c.opts.Token
	if f := c.opts.TokenFunc; f != nil {
		var err error
		if token, err = f(ctx); err != nil {
			return fmt.Errorf("herald: getting a token: %w", err)
		}
	}
	c.notice = nil
	replies, err := c.exchange(ctx, l, []command{{Op: opConnect, Token: token}})
	if err != nil {
		return err
	}
	if e := replies[0].err; e != nil {
		code, reason := c.drain(l.conn)
		return &refusal{reply: e, close: DisconnectError{Code: code, Reason: reason}}
	}
	var r connectResult
	if err := json.Unmarshal(replies[0].result, &r); err != nil {
		return fmt.Errorf("herald: reading the connect reply: %w", err)
	}
	l.info = r.info()
	return c.resubscribe(ctx, l)
}

// handshakeError describes a failed dial, with the server's answer when
// it refused the upgrade.
func handshakeError(resp *http.Response, err error) error {
	if !errors.Is(err, websocket.ErrBadHandshake) || resp == nil {
		return fmt.Errorf("herald: dial: %w", err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	msg := string(bytes.TrimSpace(body))
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		msg = e.Error // herald answers {"error": "..."}
	}
	return &HandshakeError{StatusCode: resp.StatusCode, Message: msg}
}

// exchange writes cmds as one frame and reads until each has its reply;
// server messages that arrive meanwhile are held in l. Only the goroutine
// that reads conn may call it, and only while nobody else writes to it.
func (c *Client) exchange(ctx context.Context, l *link, cmds []command) ([]reply, error) {
	conn := l.conn
	index := make(map[uint64]int, len(cmds))
	for i := range cmds {
		cmds[i].ID = c.newID()
		index[cmds[i].ID] = i
	}
	frame, err := appendCommands(nil, cmds)
	if err != nil {
		return nil, fmt.Errorf("herald: encoding commands: %w", err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(handshakeTimeout))
	// A past deadline unblocks the read when ctx ends (Close, or the
	// caller of Dial giving up) without a goroutine of our own; ctx.Err()
	// is set by then, so the caller learns why.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	if err := c.write(conn, frame); err != nil {
		return nil, c.readError(ctx, err)
	}
	replies := make([]reply, len(cmds))
	left := len(cmds)
	for left > 0 {
		_, data, err := conn.ReadMessage()
		if err != nil {
			return nil, c.readError(ctx, err)
		}
		c.handleFrame(data, func(m *message) bool {
			i, ok := index[m.ID]
			if !ok {
				return false
			}
			delete(index, m.ID)
			replies[i] = reply{result: m.Result, err: m.Error}
			left--
			return true
		}, &l.held)
	}
	if !stop() {
		return nil, c.readError(ctx, ctx.Err()) // the deadline is poisoned
	}
	_ = conn.SetReadDeadline(time.Time{})
	return replies, nil
}

// readError turns a failed read during an exchange into the error to
// report: ctx's when it ended, else the disconnect.
func (c *Client) readError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	code, reason := c.lostReason(err)
	return &DisconnectError{Code: code, Reason: reason}
}

// drain reads a connection the server is closing, to learn its close
// code. What else arrives is of a connection that never served: dropped.
func (c *Client) drain(conn *websocket.Conn) (int, string) {
	_ = conn.SetReadDeadline(time.Now().Add(closeTimeout))
	var dropped []*message
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			return c.lostReason(err)
		}
		c.handleFrame(data, nil, &dropped)
		dropped = dropped[:0]
	}
}

// resubscribe subscribes conn to every remembered channel, from where
// its stream stood, a chunk per frame. A channel the server refuses is
// forgotten and reported to OnUnsubscribe; one refused by the rate limit
// is tried again shortly.
func (c *Client) resubscribe(ctx context.Context, l *link) error {
	c.mu.Lock()
	chans := make([]string, 0, len(c.subs))
	for ch := range c.subs {
		chans = append(chans, ch)
	}
	c.mu.Unlock()
	slices.Sort(chans)
	for len(chans) > 0 {
		n := min(len(chans), resubscribeChunk)
		cmds, froms := c.resubscribes(chans[:n])
		replies, err := c.exchange(ctx, l, cmds)
		if err != nil {
			return err
		}
		var retry []string
		for i, r := range replies {
			switch {
			case r.err == nil:
				c.recordResume(l, chans[i], froms[i], r.result)
			case r.err.Code == 429:
				retry = append(retry, chans[i])
			default:
				c.forgetSub(chans[i], "subscribing again after a reconnect failed: "+r.err.Message)
			}
		}
		chans = append(retry, chans[n:]...)
		if len(retry) > 0 && !c.sleep(ctx, time.Second) {
			return ctx.Err()
		}
	}
	return nil
}

// resubscribes are the subscribe commands that resume chans, and the
// positions they resume from. The reading goroutine alone moves those
// positions, and it is busy here, so they stay put until the replies.
func (c *Client) resubscribes(chans []string) ([]command, []Position) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cmds := make([]command, len(chans))
	froms := make([]Position, len(chans))
	for i, ch := range chans {
		if st := c.subs[ch]; st != nil {
			froms[i] = st.pos
		}
		cmds[i] = command{Op: opSubscribe, Channel: ch,
			Since: &jsonproto.Since{Offset: froms[i].Offset, Epoch: froms[i].Epoch}}
	}
	return cmds, froms
}

// recordResume records how resubscribing ch from went, by the reply's result,
// and keeps the outcome for OnResume.
func (c *Client) recordResume(l *link, ch string, from Position, result json.RawMessage) {
	var r subscribeReply
	if err := json.Unmarshal(result, &r); err != nil {
		r = subscribeReply{} // not recovered: the reply says nothing
	}
	res, st := resumed(from, r)
	c.mu.Lock()
	if c.subs[ch] != nil { // not unsubscribed meanwhile
		c.subs[ch] = &st
	}
	c.mu.Unlock()
	l.resumes = append(l.resumes, channelResume{channel: ch, resume: res})
}

// forgetSub drops ch from the channels to resubscribe and tells OnUnsubscribe.
func (c *Client) forgetSub(ch, reason string) {
	c.mu.Lock()
	delete(c.subs, ch)
	c.mu.Unlock()
	if f := c.opts.OnUnsubscribe; f != nil {
		f(ch, reason)
	}
}

// sleep waits d, or less if ctx ends first; it reports whether d passed.
func (c *Client) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// endpoints are the URLs the client may dial, URL first.
func (c *Client) endpoints() []string {
	return append([]string{c.opts.URL}, c.opts.URLs...)
}

// isRefusal tells a refused connect command (a bad token, say, which
// every node of the cluster would refuse too) from a node that could not
// be reached or would not upgrade.
func isRefusal(err error) bool {
	var r *refusal
	return errors.As(err, &r)
}
