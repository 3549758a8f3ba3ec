package herald

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"regexp"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/hub"
	"github.com/heraldhq/herald/internal/transport/engineio"
	"github.com/heraldhq/herald/socketio"
)

// SocketIO returns the node's Socket.IO server (nil when disabled), for
// registering handlers: OnConnect, OnEvent, BroadcastToRoom, …
func (n *Node) SocketIO() *socketio.Server { return n.sio }

// setupSocketIO builds the Socket.IO server on the node's hub.
func (n *Node) setupSocketIO() {
	c := n.cfg.SocketIO
	if c.Disabled {
		return
	}
	cfg := socketio.Config{Namespaces: c.Namespaces, ChannelPrefix: c.ChannelPrefix, ConnectTimeout: c.ConnectTimeout,
		RecoveryWindow: c.RecoveryWindow, RecoveryEvents: c.RecoveryEvents, NoBuiltinEvents: c.NoBuiltinEvents}
	if c.DynamicNamespaces != "" {
		cfg.DynamicNamespaces = regexp.MustCompile(c.DynamicNamespaces) // validated by Config.Validate
	}
	eio := engineio.Config{PingInterval: c.PingInterval, PingTimeout: c.PingTimeout, MaxPayload: c.MaxPayload,
		UpgradeTimeout: c.UpgradeTimeout, MaxBufferedBytes: n.cfg.Limits.MaxQueueBytes,
		CheckOrigin: n.originAllowed, AllowCredentials: c.CORSCredentials}
	n.sio = socketio.New(cfg, sioBackend{n}, n.sioEngine, eio)
}

// sioBackend gives the Socket.IO server the node's hub, authentication,
// policies, limits, hooks and metrics.
type sioBackend struct{ n *Node }

func (b sioBackend) Hub() *hub.Hub                         { return b.n.hub }
func (b sioBackend) Logger() *slog.Logger                  { return b.n.log }
func (b sioBackend) AllowAnonymous() bool                  { return b.n.cfg.AllowAnonymous }
func (b sioBackend) ConnectionClosed()                     { b.n.conns.Add(-1) }
func (b sioBackend) RemoveUser(u string, s hub.Subscriber) { b.n.hub.RemoveUser(u, s) }

// ConnectionOpened counts a session Admit let in; it refuses when racing
// handshakes filled the node in between, so the limit holds exactly.
func (b sioBackend) ConnectionOpened() bool {
	n := b.n
	if n.conns.Add(1) > int64(n.cfg.Limits.MaxConnections) {
		n.conns.Add(-1)
		n.metrics.connectionsRejected.WithLabelValues("node_limit").Inc()
		return false
	}
	n.metrics.connectionsAccepted.WithLabelValues("socketio").Inc()
	return true
}

// Admit applies the same checks as /ws before a new Engine.IO session.
func (b sioBackend) Admit(r *http.Request) (int, string) {
	return b.n.admitCheck(r, false)
}

// Limits are the node's per-connection limits, for each socket.
func (b sioBackend) Limits() socketio.Limits {
	l := b.n.cfg.Limits
	return socketio.Limits{MaxRooms: l.MaxSubscriptions, EventRate: l.CommandRate, EventBurst: l.CommandBurst,
		MaxPendingEvents: 4 * l.CommandBurst}
}

func (b sioBackend) Authenticate(ctx context.Context, token string) (socketio.Identity, error) {
	c, err := b.n.authenticateToken(ctx, token)
	if err != nil {
		return socketio.Identity{}, err
	}
	return socketio.Identity{User: c.User, Channels: c.Channels, Info: c.Info, ExpiresAt: c.ExpiresAt}, nil
}

func (b sioBackend) AddUser(user string, s hub.Subscriber) error {
	n := b.n
	if n.hub.AddUser(user, s) > n.cfg.Limits.MaxConnectionsPerUser {
		n.hub.RemoveUser(user, s)
		n.metrics.connectionsRejected.WithLabelValues("user_limit").Inc()
		return errors.New("too many connections for this user")
	}
	return nil
}

func (b sioBackend) Subscribe(ctx context.Context, s hub.Subscriber, ch string, info *broker.ClientInfo) error {
	p, _ := b.n.policyFor(ch)
	return b.n.subscribeLocal(ctx, s.(session), ch, info, p)
}

func (b sioBackend) Unsubscribe(ctx context.Context, s hub.Subscriber, ch string, info *broker.ClientInfo) {
	b.n.unsubscribeLocal(ctx, s.(session), ch, info)
}

// Publish sends a Socket.IO broadcast (or herald:publish) through the
// broker like any publication; its source is a client when it carries
// one. pub must not be changed afterwards: fan-out reads it.
func (b sioBackend) Publish(ctx context.Context, pub *broker.Publication) error {
	source := "go"
	if pub.Info != nil {
		source = "client"
	}
	if err := ValidateChannel(pub.Channel); err != nil {
		return err
	}
	_, err := b.n.publishPub(ctx, pub, source) // the broker sets pub.Offset
	return err
}

func (b sioBackend) MaySubscribe(ch string, id socketio.Identity) error {
	if err := ValidateChannel(ch); err != nil {
		return err
	}
	_, err := b.n.checkSubscribe(ch, id.User)
	return err
}

func (b sioBackend) MayPublish(ch string, id socketio.Identity, subscribed bool) error {
	if err := ValidateChannel(ch); err != nil {
		return err
	}
	_, err := b.n.checkPublish(ch, id.User, subscribed)
	return err
}

func (b sioBackend) Connected(ctx context.Context, s socketio.SocketInfo) error {
	if h := b.n.hooks.OnConnect; h != nil {
		if err := h(ctx, ConnectEvent{Client: s.ID, User: s.User, Transport: "socketio", RemoteAddr: s.RemoteAddr}); err != nil {
			b.n.metrics.connectionsRejected.WithLabelValues("hook").Inc()
			return err
		}
	}
	return nil
}

func (b sioBackend) Disconnected(ctx context.Context, s socketio.SocketInfo, reason string) {
	b.n.metrics.sioDisconnects.WithLabelValues(reason).Inc()
	if h := b.n.hooks.OnDisconnect; h != nil {
		h(ctx, DisconnectEvent{Client: s.ID, User: s.User, Reason: reason})
	}
}
