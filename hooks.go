package herald

import (
	"context"
	"encoding/json"
	"time"
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
	// Client is the connection id.
	Client string
	// User is the authenticated user; empty for anonymous.
	User string
	// Transport is "websocket" (herald's protocol) or "socketio".
	Transport string
	// RemoteAddr is the peer's address.
	RemoteAddr string
}

// SubscribeEvent describes a client asking to subscribe.
type SubscribeEvent struct {
	Client, User, Channel string
}

// PublishEvent describes a client asking to publish.
type PublishEvent struct {
	Client, User, Channel string
	// Data is the payload.
	Data json.RawMessage
}

// DisconnectEvent describes a connection that has ended.
type DisconnectEvent struct {
	Client, User string
	// Code is the close code; Reason says why.
	Code   int
	Reason string
}

// Hooks let an application take part in a connection's life. A hook that
// returns an error refuses the action, and the client is told the error
// text. OnConnect, OnSubscribe and OnPublish run on the connection's own
// command goroutine (never on the poller that reads many connections), so
// a slow hook delays only that client's commands; OnDisconnect runs on a
// goroutine of its own once the connection is gone. For Socket.IO
// sockets too, no hook runs on the poller.
type Hooks struct {
	// OnConnect may refuse a connection (close 4005).
	OnConnect func(ctx context.Context, e ConnectEvent) error
	// OnSubscribe may refuse a subscription (error 403), after the
	// channel policy allowed it.
	OnSubscribe func(ctx context.Context, e SubscribeEvent) error
	// OnPublish may refuse a client publication (error 403), after the
	// channel policy allowed it.
	OnPublish func(ctx context.Context, e PublishEvent) error
	// OnDisconnect is told when a connection has ended. Calls for
	// different connections may run at once and in any order: a user's
	// old connection may be reported after a new one of theirs connected.
	// Shutdown waits for the calls under way, until its context ends.
	OnDisconnect func(ctx context.Context, e DisconnectEvent)
}
