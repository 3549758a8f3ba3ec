// Package engineio is the server side of Engine.IO v4 (the transport under
// Socket.IO v3+), served natively to socket.io-client 4.x and matching the
// Node reference server (npm engine.io 6.x).
//
// A Server owns sessions. A session starts on HTTP long-polling (GET to
// receive, POST to send) and may upgrade to a WebSocket, or starts on a
// WebSocket directly. Above the Session sits a protocol-agnostic Handler:
// the Socket.IO layer gets OnOpen, one OnMessage per "message" packet and a
// single OnClose, and sends with SendText, SendBinary or, on the fan-out
// path, Enqueue with shared pre-built frames followed by Flush.
//
// Cost model. A WebSocket session holds no goroutine and no buffer while
// idle: reads come from the websocket package's poller, and one heartbeat
// goroutine per Server scans every session for due pings, ping timeouts,
// upgrade timeouts and close timeouts, instead of a timer per session. A
// polling session holds an encoded payload buffer only while packets wait
// for a GET; a pending GET necessarily holds its HTTP goroutine.
//
// Limits. Config.MaxPayload bounds POST bodies (413 past it) and is
// advertised as maxPayload. WebSocket messages are bounded by the
// websocket.Engine the caller passes: set its MaxMessageSize to MaxPayload
// so both transports accept the same sizes (the reference gives ws the
// same maxHttpBufferSize). Config.MaxBufferedBytes bounds a polling
// session's unsent payload; a WebSocket session's unsent bytes are bounded
// by the engine's MaxQueueBytes, which the caller should set to the same
// value. Either way a consumer that does not keep up is closed with
// "transport error" rather than allowed to grow memory.
//
// Deployment. A parked GET is answered at the latest when the next ping is
// due, so the HTTP server's WriteTimeout (if any) must exceed PingInterval.
// Polling sessions live in one process's memory: with several
// nodes behind a load balancer, every request of a session (polling GETs
// and POSTs, and the upgrade WebSocket) must reach the node that created
// it, so the balancer needs sticky sessions (by cookie or by source
// address). WebSocket-only clients need no stickiness.
package engineio
