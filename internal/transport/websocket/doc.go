// Package websocket holds server-side WebSocket connections without a
// goroutine or a buffer per idle connection.
//
// An upgraded connection is handed from net/http to an nbio poller, which
// reads only when the kernel says bytes are waiting. Frames are parsed
// incrementally from whatever arrived (frame headers through gobwas/ws), and
// partial frames are the only bytes a connection keeps between reads.
//
// Writes go through one bounded outbound queue per connection. Whoever makes
// a queue non-empty is told so and calls Flush; the flush takes everything
// queued and hands it to the kernel in one write, so frames published in a
// burst leave in one syscall. Frames are pre-built byte slices that many
// connections share: a publication is framed once, not once per subscriber.
//
// Connections whose net.Conn cannot be moved to the poller (TLS from a
// standard http.Server, for example) fall back to a reader goroutine and an
// on-demand writer goroutine with the same queue semantics.
package websocket
