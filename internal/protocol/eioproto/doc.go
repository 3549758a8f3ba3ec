// Package eioproto is a pure codec for the Engine.IO protocol, revision 4
// (the transport layer under Socket.IO v3+ and socket.io-client 4.x).
//
// It only turns bytes into packets and back; it owns no sockets, timers or
// sessions, so the server can drive it from any transport implementation.
// Everything it decodes is treated as untrusted input: decoders never panic
// and report failures as ErrBadPacket or ErrPayloadTooLarge, which lets a
// server answer 400 or 413 as the reference (npm engine.io 6.x) does.
//
// Two framings exist:
//
//   - WebSocket: one packet per frame. A text frame is the type digit
//     followed by the UTF-8 data ("4hello"); a binary frame is the raw bytes
//     of a message packet. See AppendPacket and DecodePacket.
//   - HTTP long-polling: several packets joined by the record separator
//     0x1e, binary packets written as "b" + standard base64. See
//     PayloadBuilder, AppendPayload and DecodePayload.
//
// The package also renders the handshake "open" payload (OpenPayload) and
// the JSON error bodies the reference server answers bad requests with
// (ErrorCode).
package eioproto
