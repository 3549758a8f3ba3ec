package herald

import "github.com/heraldhq/herald/internal/core"

// ValidateChannel checks a channel name: 1-255 characters from letters,
// digits and _ - . : # , @ = /. The part before the first ':' is the
// namespace; a '#' starts the list of users (comma-separated) who alone
// may subscribe, so "#alice" is alice's private channel.
func ValidateChannel(ch string) error { return core.ValidateChannel(ch) }

// Errors the node returns, for errors.Is.
var (
	// ErrBadChannel is wrapped by errors about malformed channel names.
	ErrBadChannel = core.ErrBadChannel
	// ErrBadData is wrapped by errors about invalid payloads.
	ErrBadData = core.ErrBadData
	// ErrPresenceOff is wrapped when presence is asked of a channel that
	// does not keep it.
	ErrPresenceOff = core.ErrPresenceOff
	// ErrShuttingDown is returned for work refused because the node is
	// shutting down.
	ErrShuttingDown = core.ErrShuttingDown
	// ErrOverloaded is wrapped by a publish or push refused because the
	// node's fan-out backlog stayed past limits.max_node_queue_bytes until
	// the caller's context ended (Node.Publish waits for room meanwhile).
	ErrOverloaded = core.ErrOverloaded
	// ErrPartial is wrapped by a cluster-wide order (Disconnect,
	// Unsubscribe) that some node did not answer in time; the error
	// names them and the count leaves them out.
	ErrPartial = core.ErrPartial
)

// Close codes herald sends in disconnect notices and close frames, beyond
// the RFC 6455 ones. docs/protocol.md lists them all.
const (
	// CloseUnauthorized: no token, a bad token, or a command before connect.
	CloseUnauthorized = 4001
	// CloseDisconnected: the server API or Go API disconnected the user.
	CloseDisconnected = 4003
	// CloseConnectTimeout: no connect command within connect_timeout.
	CloseConnectTimeout = 4004
	// CloseRefused: the application's OnConnect hook refused.
	CloseRefused = 4005
	// CloseTokenExpired: the connection's token expired.
	CloseTokenExpired = 4006
)
