package herald

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/hub"
	"github.com/heraldhq/herald/internal/protocol/jsonproto"
	"github.com/heraldhq/herald/internal/transport/websocket"
	"golang.org/x/time/rate"
)

// jsonFrame is the hub encoding of herald-protocol WebSocket frames.
var jsonFrame = hub.Format{Kind: hub.FormatHeraldFrame}

// clientState is where a connection is in its life.
type clientState uint8

const (
	statePending   clientState = iota // waiting for a connect command
	stateConnected                    // authenticated (or anonymous) and serving
	stateClosed                       // gone
)

// wsClient is one connection speaking herald's JSON protocol.
type wsClient struct {
	node *Node
	id   string
	// conn is set once, before the client can be subscribed anywhere.
	conn *websocket.Conn

	// mu serializes everything the connection does: its commands, the
	// server acting on it, and its end.
	mu sync.Mutex
	// state is where the connection is in its life.
	state clientState
	// counted is true once the connection is in the node's count.
	counted bool
	// creds and info say who the connection is.
	creds Credentials
	info  *broker.ClientInfo
	// channels is the set of channels subscribed, created on first use.
	channels map[string]struct{}
	// limiter enforces the command rate, created on first command.
	limiter *rate.Limiter
	// strikes counts commands refused by the rate limit in a row.
	strikes int
	// timer ends the connection at connect timeout or token expiry.
	timer *time.Timer
	// replies collects the replies to the frame being handled, sent
	// together as one frame.
	replies []byte
	// closeAfter, when set by a command, closes the connection once the
	// command's reply is queued.
	closeAfter *refusal

	// qmu guards frames and draining: the frames read and not yet
	// handled, and whether the command goroutine is running.
	qmu      sync.Mutex
	frames   []pendingFrame
	draining bool
}

func newWSClient(n *Node) *wsClient {
	c := &wsClient{node: n, id: n.nextClientID()}
	c.info = &broker.ClientInfo{Client: c.id}
	return c
}

// serveWS upgrades a request at /ws to a herald-protocol connection.
func (n *Node) serveWS(w http.ResponseWriter, r *http.Request) {
	if !n.admit(w, r) {
		return
	}
	c := newWSClient(n)
	token := r.URL.Query().Get("token")
	c.mu.Lock()
	defer c.mu.Unlock() // until set up, the connection's callbacks wait
	conn, err := n.engine.Upgrade(w, r, c)
	if err != nil {
		n.conns.Add(-1) // admit counted it
		n.log.Debug("websocket upgrade failed", "remote", r.RemoteAddr, "err", err)
		return
	}
	c.conn = conn
	c.counted = true
	n.windingDown.Add(1) // until closed has run
	n.metrics.connectionsAccepted.WithLabelValues("websocket").Inc()
	if n.closing.Load() {
		// Admitted just before Shutdown began, upgraded after it closed
		// every connection: this one must not keep Shutdown waiting.
		c.close(websocket.CloseGoingAway, "server shutting down")
		return
	}
	c.start(r.Context(), token)
}

// start lets the connection in by its URL token, as anonymous, or leaves
// it waiting for a connect command. c.mu is held.
func (c *wsClient) start(ctx context.Context, token string) {
	n := c.node
	switch {
	case token != "":
		creds, err := n.authenticateToken(ctx, token)
		if err != nil {
			c.close(CloseUnauthorized, err.Error())
			return
		}
		if r := c.admitCredentials(ctx, creds); r != nil {
			c.close(r.closeCode, r.reason)
		}
	case n.cfg.AllowAnonymous:
		if r := c.admitCredentials(ctx, Credentials{}); r != nil {
			c.close(r.closeCode, r.reason)
		}
	default:
		c.timer = time.AfterFunc(n.cfg.ConnectTimeout, c.connectTimedOut)
	}
}

// refusal is why a connection is not let in: the error code of a reply
// to connect, and the close code that follows.
type refusal struct {
	replyCode, closeCode int
	reason               string
}

// admitCredentials makes the connection serve as creds' user, unless the
// user has too many connections or the OnConnect hook refuses. c.mu is held.
func (c *wsClient) admitCredentials(ctx context.Context, creds Credentials) *refusal {
	n := c.node
	if creds.User != "" && n.hub.AddUser(creds.User, c) > n.cfg.Limits.MaxConnectionsPerUser {
		n.hub.RemoveUser(creds.User, c)
		n.metrics.connectionsRejected.WithLabelValues("user_limit").Inc()
		return &refusal{jsonproto.CodeUnavailable, websocket.CloseTryAgainLater, "too many connections for this user"}
	}
	if h := n.hooks.OnConnect; h != nil {
		err := h(ctx, ConnectEvent{Client: c.id, User: creds.User, Transport: "websocket", RemoteAddr: c.conn.RemoteAddr().String()})
		if err != nil {
			if creds.User != "" {
				n.hub.RemoveUser(creds.User, c)
			}
			n.metrics.connectionsRejected.WithLabelValues("hook").Inc()
			return &refusal{jsonproto.CodeForbidden, CloseRefused, "connection refused: " + err.Error()}
		}
	}
	c.state = stateConnected
	c.creds = creds
	c.info = &broker.ClientInfo{Client: c.id, User: creds.User, Info: creds.Info}
	c.setTimer(creds.ExpiresAt)
	return nil
}

// setTimer arms the token-expiry timer, replacing the connect timer.
func (c *wsClient) setTimer(expires time.Time) {
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	if !expires.IsZero() {
		c.timer = time.AfterFunc(time.Until(expires), c.tokenExpired)
	}
}

func (c *wsClient) connectTimedOut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == statePending {
		c.close(CloseConnectTimeout, "no connect command within the connect timeout")
	}
}

func (c *wsClient) tokenExpired() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == stateConnected {
		c.close(CloseTokenExpired, "token expired")
	}
}

// close sends pending replies, then the disconnect notice and the close
// frame. c.mu is held.
func (c *wsClient) close(code int, reason string) {
	c.sendReplies()
	c.conn.Close(code, reason)
}

func (c *wsClient) sendReplies() {
	if len(c.replies) > 0 {
		_ = c.conn.SendText(c.replies)
		c.replies = nil
	}
}

func appendLine(dst, line []byte) []byte {
	if len(dst) > 0 {
		dst = append(dst, '\n')
	}
	return append(dst, line...)
}

// Farewell implements websocket.Handler: the disconnect notice that
// precedes every close the server starts.
func (c *wsClient) Farewell(code int, reason string) []byte {
	return websocket.TextFrame(jsonproto.AppendDisconnect(nil, code, reason))
}

// OnClose implements websocket.Handler.
func (c *wsClient) OnClose(_ *websocket.Conn, code int, reason string) {
	// The transport reports closes from one goroutine for the whole
	// process; c.mu may be held by a slow hook on the command goroutine,
	// and OnDisconnect is the application's. Neither may hold up the next
	// connection's close.
	go c.closed(code, reason)
}

// closed takes an ended connection out of the hub and tells the
// application.
func (c *wsClient) closed(code int, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == stateClosed || c.conn == nil {
		c.state = stateClosed
		return
	}
	wasConnected := c.state == stateConnected
	c.state = stateClosed
	n := c.node
	defer n.windingDown.Add(-1)
	if c.timer != nil {
		c.timer.Stop()
	}
	ctx := context.Background()
	for ch := range c.channels {
		n.unsubscribeLocal(ctx, c, ch, c.info)
	}
	c.channels = nil
	if c.creds.User != "" && wasConnected {
		n.hub.RemoveUser(c.creds.User, c)
	}
	if c.counted {
		n.conns.Add(-1)
	}
	n.metrics.disconnects.WithLabelValues(codeLabel(code)).Inc()
	if h := n.hooks.OnDisconnect; h != nil && wasConnected {
		h(ctx, DisconnectEvent{Client: c.id, User: c.creds.User, Code: code, Reason: reason})
	}
}

// Deliver implements hub.Subscriber.
func (c *wsClient) Deliver(m *hub.Message) bool {
	frame := m.Encoded(jsonFrame, encodeJSONFrame).([]byte)
	if frame == nil {
		return false
	}
	needsFlush, _ := c.conn.Enqueue(frame)
	return needsFlush
}

// Flush implements hub.Subscriber.
func (c *wsClient) Flush() { c.conn.Flush() }

// ServerDisconnect implements session.
func (c *wsClient) ServerDisconnect(code int, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != stateClosed {
		c.close(code, reason)
	}
}

// ServerUnsubscribe implements session.
func (c *wsClient) ServerUnsubscribe(ch, reason string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.channels[ch]; !ok || c.state != stateConnected {
		return false
	}
	delete(c.channels, ch)
	c.node.unsubscribeLocal(context.Background(), c, ch, c.info)
	_ = c.conn.SendText(jsonproto.AppendUnsubscribe(nil, ch, reason))
	return true
}

// encodeJSONFrame is the herald-protocol frame of a hub message, built
// once per message and shared by every herald-protocol subscriber.
func encodeJSONFrame(m *hub.Message) any {
	var payload []byte
	switch m.Kind {
	case hub.KindPublication:
		payload = jsonproto.AppendPublication(nil, m.Pub)
	case hub.KindJoin:
		payload = jsonproto.AppendJoin(nil, m.Channel, m.Client)
	case hub.KindLeave:
		payload = jsonproto.AppendLeave(nil, m.Channel, m.Client)
	case hub.KindPush:
		payload = jsonproto.AppendPush(nil, m.Pub.Event, m.Pub.Data)
	default: // a kind herald-protocol clients are never sent (KindDirect)
		return []byte(nil)
	}
	return websocket.TextFrame(payload)
}
