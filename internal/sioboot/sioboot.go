// Package sioboot lets the herald package start the Socket.IO server on
// its node's core. The public socketio package has no constructor of its
// own (a Server belongs to a node: herald.Node.SocketIO); it registers
// its starter here when it is loaded, and herald, which imports socketio,
// calls it.
package sioboot

import (
	"context"
	"net/http"
	"time"

	"github.com/heraldhq/herald/internal/core"
)

// Params are what a Socket.IO server is started with.
type Params struct {
	// Core is the node's core.
	Core *core.Core
	// Config is the socketio.Config to run with (typed any: this package
	// cannot name socketio's types), already validated.
	Config any
	// MaxQueueBytes bounds each connection's unsent bytes, as for every
	// connection of the node.
	MaxQueueBytes int
	// PingInterval and PongTimeout are the node's WebSocket heartbeat.
	PingInterval, PongTimeout time.Duration
	// DataDir, set when the node keeps its channel streams on disk, is
	// where sockets kept for recovery are saved across a restart.
	DataDir string
}

// Host is the node's side of a Socket.IO server: what the node serves
// and stops, and what it reads for metrics.
type Host interface {
	// ServeHTTP serves /socket.io/.
	http.Handler
	// Shutdown closes every connection and waits, until ctx is done, for
	// their sockets to wind down; it fails when ctx ended first.
	Shutdown(ctx context.Context) error
	// Stop drops what is left and stops the server's goroutines.
	Stop()
	// Stats counts transport failures, over WebSocket and over polling.
	Stats() (websocket, polling TransportStats)
}

// TransportStats are failures on one transport.
type TransportStats struct {
	SlowConsumers, HeartbeatTimeouts, ProtocolErrors int64
}

// Start starts a Socket.IO server and returns the node's side of it and
// the *socketio.Server users program against. Package socketio sets it.
var Start func(Params) (host Host, server any, err error)
