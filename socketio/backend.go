package socketio

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/hub"
)

// Identity says who a socket is, as authentication found.
type Identity struct {
	// User is the user id; empty for anonymous sockets.
	User string
	// Channels, when non-nil, limits the channels the built-in herald:join
	// event may join (the token's "channels" claim).
	Channels []string
	// Info is public JSON shown to others in presence.
	Info json.RawMessage
	// ExpiresAt is when the credentials expire; zero is never.
	ExpiresAt time.Time
}

// Limits bound what one socket may do; they are the node's limits for a
// connection.
type Limits struct {
	// MaxRooms caps the rooms one socket may join.
	MaxRooms int
	// EventRate and EventBurst bound the events a client may send: excess
	// ones are refused (acknowledged with an error), and a burst-long run
	// of refusals disconnects the socket.
	EventRate  float64
	EventBurst int
	// MaxPendingEvents bounds the events waiting for a socket's handlers;
	// past it the socket is disconnected.
	MaxPendingEvents int
}

// SocketInfo describes a socket to the node's hooks.
type SocketInfo struct {
	ID, User, Namespace, RemoteAddr string
}

// Backend is what the Socket.IO server needs from the herald node hosting
// it. The herald package implements it; it is not meant for other code.
type Backend interface {
	// Hub is the node's subscription hub.
	Hub() *hub.Hub
	// Admit decides whether a new connection may start (origin, limits,
	// shutdown); status 0 admits.
	Admit(r *http.Request) (status int, msg string)
	// ConnectionOpened counts a new connection; false means the node is
	// full (it lost a race past Admit) and the connection must close.
	ConnectionOpened() bool
	// ConnectionClosed uncounts a connection ConnectionOpened admitted.
	ConnectionClosed()
	// Limits are the node's limits that apply to each socket.
	Limits() Limits
	// Authenticate checks the token of a CONNECT payload.
	Authenticate(ctx context.Context, token string) (Identity, error)
	// AllowAnonymous reports whether sockets without a token are let in.
	AllowAnonymous() bool
	// AddUser records sub as a connection of user; it fails when the user
	// has too many.
	AddUser(user string, sub hub.Subscriber) error
	// RemoveUser forgets sub as a connection of user.
	RemoveUser(user string, sub hub.Subscriber)
	// Subscribe and Unsubscribe put sub on a channel, with the channel's
	// presence and join/leave notices (none when info is nil).
	Subscribe(ctx context.Context, sub hub.Subscriber, ch string, info *broker.ClientInfo) error
	Unsubscribe(ctx context.Context, sub hub.Subscriber, ch string, info *broker.ClientInfo)
	// Publish sends a publication through the broker to every subscriber,
	// whatever protocol each speaks.
	Publish(ctx context.Context, pub *broker.Publication) error
	// MaySubscribe and MayPublish apply channel policies to what clients
	// ask for through the built-in events.
	MaySubscribe(ch string, id Identity) error
	MayPublish(ch string, id Identity, subscribed bool) error
	// Connected runs the node's OnConnect hook; an error refuses.
	Connected(ctx context.Context, s SocketInfo) error
	// Disconnected runs the node's OnDisconnect hook and metrics.
	Disconnected(ctx context.Context, s SocketInfo, reason string)
	// Logger is where the server logs.
	Logger() *slog.Logger
}
