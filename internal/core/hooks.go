package core

import (
	"context"
	"encoding/json"
)

// Hooks are the application's part in a connection's life; the herald
// package adapts its public Hooks to these. A hook that returns an error
// refuses the action. Each receives the connection's context.
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
