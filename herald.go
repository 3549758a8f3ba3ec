// Package herald is a real-time messaging server you can run as a binary
// or embed in a Go program.
//
// Clients hold WebSocket connections and subscribe to channels; whatever
// is published to a channel (through the HTTP server API, the Go API, or
// by a client where the channel's policy allows) reaches every subscriber.
// Pushes address every connection of one user. A Node is one server:
//
//	node, err := herald.New(herald.Config{TokenSecret: secret})
//	mux.Handle("/herald/", http.StripPrefix("/herald", node.Handler()))
//	node.Publish(ctx, "news", json.RawMessage(`{"title":"hi"}`))
package herald

// Version is herald's version, set at build time with
// -ldflags "-X github.com/heraldhq/herald.Version=v1.2.3".
var Version = "dev"
