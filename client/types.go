package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ClientInfo says who a connection is, as publications, presence and
// join/leave report it.
type ClientInfo struct {
	// Client is the connection's id, unique in the cluster.
	Client string `json:"client"`
	// User is the token's user; empty for an anonymous connection.
	User string `json:"user,omitempty"`
	// Info is the token's public "info" claim, if any.
	Info json.RawMessage `json:"info,omitempty"`
}

// ConnectInfo is the server's answer to the connect command.
type ConnectInfo struct {
	// Client is this connection's id.
	Client string
	// User is the authenticated user; empty when anonymous.
	User string
	// Node is the id of the server node that holds the connection.
	Node string
	// Version is the server's version.
	Version string
	// Expires is when the token expires (the server then closes with
	// 4006); zero when it does not.
	Expires time.Time
}

// Publication is a message published to a channel.
type Publication struct {
	// Channel is where it was published.
	Channel string
	// Offset is its position in the channel's stream; offsets of one
	// channel increase by one, so a gap means something was missed.
	Offset uint64
	// Epoch names the stream the offset belongs to.
	Epoch string
	// Time is when the server accepted it (millisecond precision); zero
	// if the server did not say.
	Time time.Time
	// Data is the published JSON value.
	Data json.RawMessage
	// Info is the publishing connection; nil when the server published.
	Info *ClientInfo
}

// Push is an event the server sent to every connection of this user.
type Push struct {
	// Event names the push.
	Event string
	// Data is its JSON payload.
	Data json.RawMessage
}

// SubscribeResult is the answer to Subscribe and SubscribeFrom.
type SubscribeResult struct {
	// Channel is the channel subscribed.
	Channel string
	// Offset is the newest publication's offset (0 if none); later ones
	// arrive as publications.
	Offset uint64
	// Epoch names the channel's stream.
	Epoch string
	// Resume, for SubscribeFrom, says whether the publications after the
	// position given follow; nil for Subscribe.
	Resume *Resume
}

// Position is a place in a channel's stream: a publication's offset and
// the epoch of the stream it belongs to. An application that keeps the
// position of the last publication it handled can resume from there
// with SubscribeFrom, after a restart say.
type Position struct {
	Offset uint64
	Epoch  string
}

// Resume says how a channel's stream went on after a break in it: a
// resubscribe after a reconnect, a SubscribeFrom, or a jump in the
// offsets of the publications arriving (Gap).
type Resume struct {
	// Recovered is true when nothing was missed: every publication after
	// From reaches OnPublication, the Replayed ones first. When false,
	// the application's copy of the channel has a hole; it reloads what
	// it needs (History, or its own backend).
	Recovered bool
	// Replayed is how many missed publications follow, oldest first,
	// ahead of the live ones.
	Replayed int
	// From is where the client's copy stood: the last publication
	// delivered, or the position the channel was subscribed at.
	From Position
	// To is where the stream stood when it went on: the live
	// publications come after it. For a Gap, the publication that arrived.
	To Position
	// Gap is set when the break was seen on a connection in service: a
	// publication arrived with an offset past the next one, or in
	// another epoch. Recovered is false then.
	Gap bool
	// Reason says, when not Recovered, what was lost: "epoch changed"
	// (the stream was started again, its offsets name another one),
	// "N missed, M replayed" (the history did not reach back that far,
	// or N is past the server's history.recovery_max), or, for a Gap,
	// "offsets A to B missed" ("offset A missed" for one).
	Reason string
}

// PublishResult says where a publication landed.
type PublishResult struct {
	// Offset is the publication's position in the channel's stream.
	Offset uint64 `json:"offset"`
	// Epoch names the stream.
	Epoch string `json:"epoch"`
}

// HistoryResult is the answer to History.
type HistoryResult struct {
	// Publications are the kept publications asked for, oldest first.
	Publications []Publication
	// Offset is the stream's newest offset.
	Offset uint64
	// Epoch names the stream.
	Epoch string
}

// Error is an error reply from the server. Code is HTTP-like: 400 bad
// command, 401 not authenticated, 403 forbidden, 404 unknown op, 409
// conflict, 429 rate limited, 500 internal, 503 unavailable.
type Error struct {
	// Code is the reply's error code.
	Code int `json:"code"`
	// Message says what went wrong.
	Message string `json:"message"`
}

// Error formats the reply error with its code.
func (e *Error) Error() string { return fmt.Sprintf("herald: error %d: %s", e.Code, e.Message) }

// DisconnectError is returned by calls cut short because the connection
// ended (or, while reconnecting, was not there). Code is the WebSocket
// close code (1006 when the connection dropped without one).
type DisconnectError struct {
	// Code is the close code, as docs/protocol.md lists them.
	Code int
	// Reason is the server's reason, or what the transport reported.
	Reason string
}

// Error formats the close code and reason.
func (e *DisconnectError) Error() string {
	return fmt.Sprintf("herald: disconnected (code %d): %s", e.Code, e.Reason)
}

// HandshakeError is a WebSocket upgrade the server refused with an HTTP
// status: 403 for an origin it does not allow, 503 when it is full or
// shutting down.
type HandshakeError struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Message is the start of the response body.
	Message string
}

// Error formats the HTTP status and message.
func (e *HandshakeError) Error() string {
	return fmt.Sprintf("herald: upgrade refused: HTTP %d: %s", e.StatusCode, e.Message)
}

// ErrClosed is returned by calls made after Close, or after the client
// stopped for good.
var ErrClosed = errors.New("herald: client closed")

// Close codes that end a client for good: reconnecting would only be
// refused again, or the server asked us to stay away.
const (
	closeUnauthorized = 4001
	closeDisconnected = 4003
	closeRefused      = 4005
)

// isFinal reports whether close code ends the client instead of
// triggering a reconnect.
func isFinal(code int) bool {
	return code == closeUnauthorized || code == closeDisconnected || code == closeRefused
}
