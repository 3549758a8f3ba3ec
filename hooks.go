package herald

import (
	"context"
	"encoding/json"
	"time"

	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/core"
)

// Credentials say who a connection is. An Authenticator returns them; a
// verified JWT yields them from its claims.
type Credentials struct {
	// User is the user id; empty means anonymous.
	User string
	// ExpiresAt is when the credentials stop being valid; zero is never.
	ExpiresAt time.Time
	// Channels, when non-nil, are the only channels the connection may
	// subscribe to; an entry ending in '*' matches by prefix.
	Channels []string
	// Info is public JSON shown to others in presence and join/leave.
	Info json.RawMessage
}

// Authenticator turns a connection token into credentials, replacing
// JWT verification. Returning an error refuses the connection (close
// 4001) and the error text is shown to the client.
type Authenticator func(ctx context.Context, token string) (Credentials, error)

// ConnectEvent describes a connection being let in.
type ConnectEvent struct {
	// Client is the connection id (for Socket.IO, the socket id).
	Client string
	// User is the authenticated user; empty for anonymous.
	User string
	// Transport is "websocket" (herald's protocol) or "socketio".
	Transport string
	// RemoteAddr is the peer's address.
	RemoteAddr string
}

// SubscribeEvent describes a subscription about to be made.
type SubscribeEvent struct {
	Client, User, Channel string
}

// PublishEvent describes a connection's publication about to be made.
type PublishEvent struct {
	Client, User, Channel string
	// Data is the payload.
	Data json.RawMessage
}

// DisconnectEvent describes a connection that has ended.
type DisconnectEvent struct {
	Client, User string
	// Code is the close code (0 for Socket.IO sockets); Reason says why.
	Code   int
	Reason string
}

// Hooks let an application take part in a connection's life, whatever
// protocol it speaks. A hook that returns an error refuses the action, and
// the client is told the error text (a Go API call that a hook refused
// returns an error wrapping the hook's, for errors.Is). A hook that panics
// refuses too. No lock of the connection is held while a hook runs, so a
// hook may call the node back, for its own user too.
//
// They see every subscription and every publication to a channel made
// for a connection: herald-protocol commands, Socket.IO's built-in
// herald:join and herald:publish events, and a Socket.IO handler's
// Socket.Join and Socket.To(room).Emit. The HTTP API and Node.Publish are the server's
// own and pass no hook.
//
// ctx is the connection's context, cancelled when the connection ends
// (for a Socket.IO socket, when the socket ends: one kept for connection
// state recovery lives on). OnConnect, OnSubscribe and OnPublish run on
// the connection's own command goroutine, never on the poller that reads
// many connections, so a slow hook delays only that client; OnDisconnect
// runs once the connection is gone, with a context that is not cancelled.
type Hooks struct {
	// OnConnect may refuse a connection (close 4005; a Socket.IO
	// CONNECT_ERROR with data {"code":4005}).
	OnConnect func(ctx context.Context, e ConnectEvent) error
	// OnSubscribe may refuse a subscription (error 403), after the
	// channel policy allowed it.
	OnSubscribe func(ctx context.Context, e SubscribeEvent) error
	// OnPublish may refuse a publication (error 403), after the channel
	// policy allowed it.
	OnPublish func(ctx context.Context, e PublishEvent) error
	// OnDisconnect is told when a connection has ended. Calls for
	// different connections may run at once and in any order: a user's
	// old connection may be reported after a new one of theirs connected.
	// Shutdown waits for the calls under way, until its context ends.
	OnDisconnect func(ctx context.Context, e DisconnectEvent)
}

// coreHooks adapts the application's hooks to the core's.
func (h Hooks) coreHooks() core.Hooks {
	var c core.Hooks
	if f := h.OnConnect; f != nil {
		c.OnConnect = func(ctx context.Context, e core.ConnectEvent) error { return f(ctx, ConnectEvent(e)) }
	}
	if f := h.OnSubscribe; f != nil {
		c.OnSubscribe = func(ctx context.Context, e core.SubscribeEvent) error { return f(ctx, SubscribeEvent(e)) }
	}
	if f := h.OnPublish; f != nil {
		c.OnPublish = func(ctx context.Context, e core.PublishEvent) error { return f(ctx, PublishEvent(e)) }
	}
	if f := h.OnDisconnect; f != nil {
		c.OnDisconnect = func(ctx context.Context, e core.DisconnectEvent) { f(ctx, DisconnectEvent(e)) }
	}
	return c
}

// coreAuthenticator adapts the application's authenticator to the core.
func (fn Authenticator) coreAuthenticator() core.Authenticator {
	if fn == nil {
		return nil
	}
	return func(ctx context.Context, token string) (auth.Credentials, error) {
		c, err := fn(ctx, token)
		return auth.Credentials(c), err
	}
}
