package core

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
)

// Hooks are the application's part in a connection's life; the herald
// package adapts its public Hooks to these. A hook that returns an error
// (or panics) refuses the action. Each receives the connection's
// context. None runs with the client's lock held, so a hook may call the
// node back (disconnect or unsubscribe its user, say).
type Hooks struct {
	OnConnect    func(ctx context.Context, e ConnectEvent) error
	OnSubscribe  func(ctx context.Context, e SubscribeEvent) error
	OnPublish    func(ctx context.Context, e PublishEvent) error
	OnDisconnect func(ctx context.Context, e DisconnectEvent)
}

// ConnectEvent describes a connection being let in.
type ConnectEvent struct {
	Client, User, Transport, RemoteAddr string
}

// SubscribeEvent describes a subscription about to be made.
type SubscribeEvent struct {
	Client, User, Channel string
}

// PublishEvent describes a connection's publication about to be made.
type PublishEvent struct {
	Client, User, Channel string
	Data                  json.RawMessage
}

// DisconnectEvent describes a connection that has ended.
type DisconnectEvent struct {
	Client, User string
	Code         int
	Reason       string
}

// call runs one of the application's hooks (or its authenticator),
// turning a panic into an error: a bad hook refuses what it was asked
// about, and can neither take the node down nor leave a connection half
// let in.
func (c *Core) call(hook string, f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("a hook panicked", "hook", hook, "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("%s panicked: %v", hook, r)
		}
	}()
	return f()
}
