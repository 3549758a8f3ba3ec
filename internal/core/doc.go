// Package core is herald's protocol-neutral engine: the one place that
// decides, for every protocol and every entry point, who may connect,
// subscribe and publish, and what follows from it (presence, join and
// leave notices, history, the broker, the application's hooks).
//
// A protocol adapter (herald's JSON protocol in internal/heraldws,
// Socket.IO in socketio) owns a Client per connection — per socket for
// Socket.IO — and translates its wire commands into calls on the Core and
// the Core's answers into its wire replies. The HTTP API and the Go API
// call the same Core. Nothing here knows a wire format.
//
// Who asks decides what is checked:
//
//   - A client's own request (a herald command, a Socket.IO built-in
//     event) passes the channel's policy: its namespace's access levels,
//     private "#user" channels and the credentials' channel claim; then
//     the limits and the hooks.
//   - Application code acting for a connection (a Socket.IO handler's
//     Socket.Join or Socket.To(room).Emit) speaks for the server, as the
//     HTTP API does: the policy does not bind it, but the limits and the
//     hooks still apply, so an application that authorizes in a hook
//     authorizes every subscription and every publication to a channel.
//   - The server itself (HTTP API, Node.Publish) is checked for
//     well-formed input only.
package core
