// Package socketio serves Socket.IO v4 clients (socket.io-client 3.x/4.x
// for browsers and Node, and the Java, Swift, Dart, Python and C++
// clients) on herald's hub.
//
// A Socket.IO room is a herald channel: a socket that joins room R of
// namespace N is subscribed to the channel that (N, R) maps to (see
// Config.ChannelPrefix), so a publication on that channel — from the HTTP
// API, the Go API, a herald-protocol client or another socket — reaches
// the room's sockets as an event, and a broadcast to the room reaches
// herald-protocol subscribers as a publication.
//
// The Go API follows go-socket.io's shape (OnConnect, OnEvent,
// OnDisconnect, OnError, BroadcastToRoom, JoinRoom, …) with typed event
// handlers: a handler is a func whose first parameter is *Socket and whose
// other parameters are decoded from the event's arguments; its results
// become the acknowledgement when the client asked for one.
//
//	io := node.SocketIO()
//	io.OnConnect("/", func(s *socketio.Socket) error { s.Join("lobby"); return nil })
//	io.OnEvent("/", "chat", func(s *socketio.Socket, text string) string {
//		s.To("lobby").Emit("chat", text)
//		return "sent"
//	})
//
// Each socket's events run in order on a goroutine that exists only while
// the socket has events to handle; handlers may block (EmitWithAck inside
// a handler works).
package socketio
