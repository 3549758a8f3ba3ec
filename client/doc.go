// Package client is a Go client for herald's WebSocket protocol
// (docs/protocol.md): JSON text frames of newline-separated messages,
// commands answered by replies with the same id, and server messages
// (publications, pushes, join/leave, unsubscribe, disconnect).
//
//	c, err := client.Dial(ctx, client.Options{
//		URL:           "ws://localhost:8000/ws",
//		Token:         token,
//		Reconnect:     true,
//		OnPublication: func(p client.Publication) { fmt.Println(p.Channel, string(p.Data)) },
//	})
//	defer c.Close()
//	_, err = c.Subscribe(ctx, "chat:lobby")
//	_, err = c.Publish(ctx, "chat:lobby", map[string]string{"text": "hi"})
//
// # Goroutines and callbacks
//
// A Client runs one goroutine: it reads the connection, runs the
// callbacks and, with Options.Reconnect, reconnects. Writes happen on the
// calling goroutine. So a connection costs one goroutine and small
// buffers, which matters to the load generator that opens thousands.
//
// Callbacks run on that reading goroutine, one at a time, in the order the
// server's messages arrived. OnConnect comes first for each connection:
// messages that arrive while it is being set up (during resubscribing,
// say) are held and handed over right after OnConnect. A callback therefore must not wait for a
// reply of the same Client (Subscribe, Publish, ..., or Close): the reply
// could only be read once the callback returned. Start a goroutine for
// such work instead.
//
// # Disconnects and reconnects
//
// When a connection drops, calls waiting for a reply fail with a
// *DisconnectError, and calls made until a new connection is up fail the
// same way at once. With Options.Reconnect the client dials again with
// exponential backoff and jitter, sends connect with a fresh token (from
// Options.TokenFunc when set) and subscribes again to every channel it was
// subscribed to, then calls OnConnect. It does not reconnect after Close,
// nor after the close codes that tell it not to: 4001 (unauthorized), 4003
// (disconnected by the server) and 4005 (refused by the application).
//
// # Resuming
//
// The client keeps each subscribed channel's position: the offset and
// epoch of the last publication it delivered. It subscribes again after
// a reconnect from there, so the publications missed meanwhile arrive
// first, oldest first, then the live ones, each once (one it delivered
// already is dropped). Options.OnResume tells, per channel, whether
// that was all of them (Resume.Recovered) or the application must reload
// what it missed: the stream was started again, or the history does not
// reach back that far. OnResume also reports a Gap, a publication
// arriving past ones never delivered. An application that stores the
// position of the last publication it handled resumes from it after a
// restart with SubscribeFrom.
package client
