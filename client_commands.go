package herald

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/protocol/jsonproto"
	"github.com/heraldhq/herald/internal/transport/websocket"
	"golang.org/x/time/rate"
)

// maxPendingFrames bounds the frames waiting for a connection's command
// goroutine; a client past it (its commands block, it keeps sending) is
// closed with 1008.
const maxPendingFrames = 256

// OnMessage implements websocket.Handler. It runs on a poller goroutine
// that many connections share, so it only queues the frame: commands run
// on the connection's own goroutine, which exists while it has frames to
// handle. Hooks and a publish waiting for a full hub stall that client
// alone.
func (c *wsClient) OnMessage(_ *websocket.Conn, text bool, payload []byte) {
	f := pendingFrame{text: text, payload: append([]byte(nil), payload...)}
	c.qmu.Lock()
	if len(c.frames) >= maxPendingFrames {
		c.qmu.Unlock()
		c.conn.Close(websocket.ClosePolicyViolation, "too many commands waiting")
		return
	}
	c.frames = append(c.frames, f)
	start := !c.draining
	c.draining = true
	c.qmu.Unlock()
	if start {
		go c.drain()
	}
}

// pendingFrame is a frame waiting for the command goroutine.
type pendingFrame struct {
	text    bool
	payload []byte
}

// drain handles queued frames in order until none are left.
func (c *wsClient) drain() {
	for {
		c.qmu.Lock()
		if len(c.frames) == 0 {
			c.frames, c.draining = nil, false
			c.qmu.Unlock()
			return
		}
		f := c.frames[0]
		c.frames = c.frames[1:]
		c.qmu.Unlock()
		c.handleFrame(f.text, f.payload)
	}
}

// handleFrame handles each newline-separated command of a frame in order
// and sends the replies back in one frame.
func (c *wsClient) handleFrame(text bool, payload []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == stateClosed || c.conn.Closing() {
		return
	}
	if !text {
		c.reply(0, nil, &jsonproto.Error{Code: jsonproto.CodeBadRequest,
			Message: "binary frames are not part of herald's protocol: send JSON text frames"})
	} else {
		jsonproto.Split(payload, c.handleLine)
	}
	if !c.conn.Closing() {
		c.sendReplies()
	}
}

// handleLine handles one command. c.mu is held.
func (c *wsClient) handleLine(line []byte) {
	if c.state == stateClosed || c.conn.Closing() {
		return // an earlier command of this frame ended the connection
	}
	cmd, err := jsonproto.DecodeCommand(line)
	if !c.allowRate() {
		var de *jsonproto.DecodeError
		if errors.As(err, &de) {
			cmd.ID = de.ID
		}
		c.rateLimited(cmd.ID)
		return
	}
	if err != nil {
		var de *jsonproto.DecodeError
		errors.As(err, &de)
		c.reply(de.ID, nil, &jsonproto.Error{Code: jsonproto.CodeBadRequest, Message: de.Reason})
		return
	}
	c.node.metrics.commands.WithLabelValues(opLabel(cmd.Op)).Inc()
	if c.state == statePending && cmd.Op != jsonproto.OpConnect {
		c.reply(cmd.ID, nil, &jsonproto.Error{Code: jsonproto.CodeUnauthorized, Message: "connect first: send a connect command with a token"})
		c.close(CloseUnauthorized, "authentication required")
		return
	}
	result, e := c.dispatch(cmd)
	c.reply(cmd.ID, result, e)
	if r := c.closeAfter; r != nil {
		c.closeAfter = nil
		c.close(r.closeCode, r.reason)
	}
}

// dispatch runs a command and returns its result or error.
func (c *wsClient) dispatch(cmd jsonproto.Command) (any, *jsonproto.Error) {
	ctx := context.Background()
	switch cmd.Op {
	case jsonproto.OpConnect:
		return c.cmdConnect(ctx, cmd)
	case jsonproto.OpSubscribe:
		return c.cmdSubscribe(ctx, cmd)
	case jsonproto.OpUnsubscribe:
		return c.cmdUnsubscribe(ctx, cmd)
	case jsonproto.OpPublish:
		return c.cmdPublish(ctx, cmd)
	case jsonproto.OpPresence:
		return c.cmdPresence(ctx, cmd)
	case jsonproto.OpHistory:
		return c.cmdHistory(ctx, cmd)
	case jsonproto.OpPing:
		return nil, nil
	}
	return nil, &jsonproto.Error{Code: jsonproto.CodeUnknownOp,
		Message: fmt.Sprintf("unknown op %q (known: connect, subscribe, unsubscribe, publish, presence, history, ping)", cmd.Op)}
}

// reply queues the reply to command id; id 0 wants no successful reply.
func (c *wsClient) reply(id uint64, result any, e *jsonproto.Error) {
	if e != nil {
		c.node.metrics.commandErrors.WithLabelValues(codeLabel(e.Code)).Inc()
		c.replies = appendLine(c.replies, jsonproto.AppendError(nil, id, e))
		return
	}
	if id != 0 {
		c.replies = appendLine(c.replies, jsonproto.AppendReply(nil, id, result))
	}
}

// allowRate takes a token from the command rate limit.
func (c *wsClient) allowRate() bool {
	l := c.node.cfg.Limits
	if c.limiter == nil {
		c.limiter = rate.NewLimiter(rate.Limit(l.CommandRate), l.CommandBurst)
	}
	if c.limiter.Allow() {
		c.strikes = 0
		return true
	}
	return false
}

// rateLimited refuses a command over the rate; a run of refusals as long
// as the burst closes the connection with 1008.
func (c *wsClient) rateLimited(id uint64) {
	c.node.metrics.rateLimited.Inc()
	c.strikes++
	if c.strikes >= c.node.cfg.Limits.CommandBurst {
		c.close(websocket.ClosePolicyViolation, "command rate limit exceeded")
		return
	}
	c.reply(id, nil, &jsonproto.Error{Code: jsonproto.CodeRateLimited,
		Message: fmt.Sprintf("rate limit exceeded: at most %g commands per second", c.node.cfg.Limits.CommandRate)})
}

func (c *wsClient) cmdConnect(ctx context.Context, cmd jsonproto.Command) (any, *jsonproto.Error) {
	n := c.node
	if c.state == stateConnected {
		if cmd.Token == "" || c.creds.User != "" {
			if cmd.Token != "" {
				return nil, &jsonproto.Error{Code: jsonproto.CodeConflict, Message: "already connected as " + c.creds.User}
			}
			return c.connectResult(), nil
		}
		if len(c.channels) > 0 {
			return nil, &jsonproto.Error{Code: jsonproto.CodeConflict, Message: "connect with a token before subscribing"}
		}
	}
	creds := Credentials{}
	if cmd.Token != "" {
		var err error
		if creds, err = n.authenticateToken(ctx, cmd.Token); err != nil {
			return nil, c.refuseConnect(&refusal{jsonproto.CodeUnauthorized, CloseUnauthorized, err.Error()})
		}
	} else if !n.cfg.AllowAnonymous {
		return nil, c.refuseConnect(&refusal{jsonproto.CodeUnauthorized, CloseUnauthorized, "a token is required"})
	}
	if r := c.admitCredentials(ctx, creds); r != nil {
		return nil, c.refuseConnect(r)
	}
	return c.connectResult(), nil
}

// refuseConnect answers connect with an error; the connection closes
// with the refusal's code right after the reply.
func (c *wsClient) refuseConnect(r *refusal) *jsonproto.Error {
	c.closeAfter = r
	return &jsonproto.Error{Code: r.replyCode, Message: r.reason}
}

type connectResult struct {
	Client  string `json:"client"`
	User    string `json:"user,omitempty"`
	Expires int64  `json:"expires,omitempty"`
	Node    string `json:"node"`
	Version string `json:"version"`
}

func (c *wsClient) connectResult() connectResult {
	r := connectResult{Client: c.id, User: c.creds.User, Node: c.node.id, Version: Version}
	if !c.creds.ExpiresAt.IsZero() {
		r.Expires = c.creds.ExpiresAt.Unix()
	}
	return r
}

func badChannel(err error) *jsonproto.Error {
	return &jsonproto.Error{Code: jsonproto.CodeBadRequest, Message: err.Error()}
}

func forbidden(err error) *jsonproto.Error {
	return &jsonproto.Error{Code: jsonproto.CodeForbidden, Message: err.Error()}
}

// mayRead applies the channel policy and the token's channel claim.
func (c *wsClient) mayRead(ch string) (ChannelPolicy, *jsonproto.Error) {
	if err := ValidateChannel(ch); err != nil {
		return ChannelPolicy{}, badChannel(err)
	}
	p, err := c.node.checkSubscribe(ch, c.creds.User)
	if err != nil {
		return p, forbidden(err)
	}
	if !c.creds.allowsChannel(ch) {
		return p, forbidden(fmt.Errorf("the connection's token does not allow channel %q", ch))
	}
	return p, nil
}

type subscribeResult struct {
	Channel string `json:"channel"`
	Offset  uint64 `json:"offset"`
	Epoch   string `json:"epoch"`
}

func (c *wsClient) cmdSubscribe(ctx context.Context, cmd jsonproto.Command) (any, *jsonproto.Error) {
	n, ch := c.node, cmd.Channel
	p, e := c.mayRead(ch)
	if e != nil {
		return nil, e
	}
	if _, ok := c.channels[ch]; ok {
		return nil, &jsonproto.Error{Code: jsonproto.CodeConflict, Message: fmt.Sprintf("already subscribed to %q", ch)}
	}
	if len(c.channels) >= n.cfg.Limits.MaxSubscriptions {
		return nil, &jsonproto.Error{Code: jsonproto.CodeForbidden,
			Message: fmt.Sprintf("subscription limit reached: at most %d channels per connection", n.cfg.Limits.MaxSubscriptions)}
	}
	if h := n.hooks.OnSubscribe; h != nil {
		if err := h(ctx, SubscribeEvent{Client: c.id, User: c.creds.User, Channel: ch}); err != nil {
			return nil, forbidden(fmt.Errorf("subscription refused: %w", err))
		}
	}
	if err := n.subscribeLocal(ctx, c, ch, c.info, p); err != nil {
		return nil, &jsonproto.Error{Code: jsonproto.CodeInternal, Message: "subscribe failed: " + err.Error()}
	}
	if c.channels == nil {
		c.channels = make(map[string]struct{})
	}
	c.channels[ch] = struct{}{}
	_, pos, err := n.broker.History(ctx, ch, broker.HistoryOptions{Since: math.MaxUint64})
	if err != nil {
		n.log.Warn("reading stream position", "channel", ch, "err", err)
	}
	return subscribeResult{Channel: ch, Offset: pos.Offset, Epoch: pos.Epoch}, nil
}

func (c *wsClient) cmdUnsubscribe(ctx context.Context, cmd jsonproto.Command) (any, *jsonproto.Error) {
	if err := ValidateChannel(cmd.Channel); err != nil {
		return nil, badChannel(err)
	}
	if _, ok := c.channels[cmd.Channel]; ok {
		delete(c.channels, cmd.Channel)
		c.node.unsubscribeLocal(ctx, c, cmd.Channel, c.info)
	}
	return nil, nil
}

type publishResult struct {
	Offset uint64 `json:"offset"`
	Epoch  string `json:"epoch"`
}

func (c *wsClient) cmdPublish(ctx context.Context, cmd jsonproto.Command) (any, *jsonproto.Error) {
	n, ch := c.node, cmd.Channel
	if err := ValidateChannel(ch); err != nil {
		return nil, badChannel(err)
	}
	if len(cmd.Data) == 0 {
		return nil, &jsonproto.Error{Code: jsonproto.CodeBadRequest, Message: `publish needs "data"`}
	}
	_, subscribed := c.channels[ch]
	if _, err := n.checkPublish(ch, c.creds.User, subscribed); err != nil {
		return nil, forbidden(err)
	}
	if h := n.hooks.OnPublish; h != nil {
		if err := h(ctx, PublishEvent{Client: c.id, User: c.creds.User, Channel: ch, Data: cmd.Data}); err != nil {
			return nil, forbidden(fmt.Errorf("publication refused: %w", err))
		}
	}
	res, err := n.publish(ctx, ch, cmd.Data, c.info, "", "client")
	if err != nil {
		return nil, &jsonproto.Error{Code: jsonproto.CodeInternal, Message: "publish failed: " + err.Error()}
	}
	return publishResult{Offset: res.Offset, Epoch: res.Epoch}, nil
}

type presenceResult struct {
	Clients []*broker.ClientInfo `json:"clients"`
}

func (c *wsClient) cmdPresence(ctx context.Context, cmd jsonproto.Command) (any, *jsonproto.Error) {
	p, e := c.mayRead(cmd.Channel)
	if e != nil {
		return nil, e
	}
	if !p.Presence {
		return nil, &jsonproto.Error{Code: jsonproto.CodeForbidden, Message: fmt.Sprintf("presence is off for channel %q", cmd.Channel)}
	}
	clients, err := c.node.presenceList(ctx, cmd.Channel)
	if err != nil {
		return nil, &jsonproto.Error{Code: jsonproto.CodeInternal, Message: err.Error()}
	}
	return presenceResult{Clients: clients}, nil
}

type historyResult struct {
	Publications []any  `json:"publications"`
	Offset       uint64 `json:"offset"`
	Epoch        string `json:"epoch"`
}

func (c *wsClient) cmdHistory(ctx context.Context, cmd jsonproto.Command) (any, *jsonproto.Error) {
	p, e := c.mayRead(cmd.Channel)
	if e != nil {
		return nil, e
	}
	if p.HistorySize == 0 {
		return nil, &jsonproto.Error{Code: jsonproto.CodeForbidden, Message: fmt.Sprintf("history is off for channel %q", cmd.Channel)}
	}
	opts := broker.HistoryOptions{Limit: max(cmd.Limit, 0)}
	if cmd.Since != nil {
		opts.Since = *cmd.Since
	}
	pubs, pos, err := c.node.broker.History(ctx, cmd.Channel, opts)
	if err != nil {
		return nil, &jsonproto.Error{Code: jsonproto.CodeInternal, Message: err.Error()}
	}
	if cmd.Epoch != "" && cmd.Epoch != pos.Epoch && opts.Since != 0 {
		// Offsets of another epoch say nothing about this stream: all it
		// keeps is new to the client.
		pubs, _, err = c.node.broker.History(ctx, cmd.Channel, broker.HistoryOptions{Limit: opts.Limit})
		if err != nil {
			return nil, &jsonproto.Error{Code: jsonproto.CodeInternal, Message: err.Error()}
		}
	}
	out := make([]any, len(pubs))
	for i, pub := range pubs {
		out[i] = jsonproto.PublicationValue(pub)
	}
	return historyResult{Publications: out, Offset: pos.Offset, Epoch: pos.Epoch}, nil
}

// opLabel bounds the op metric label to known operations.
func opLabel(op string) string {
	switch op {
	case jsonproto.OpConnect, jsonproto.OpSubscribe, jsonproto.OpUnsubscribe, jsonproto.OpPublish,
		jsonproto.OpPresence, jsonproto.OpHistory, jsonproto.OpPing:
		return op
	}
	return "unknown"
}
