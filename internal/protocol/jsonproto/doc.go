// Package jsonproto encodes and decodes herald's own WebSocket protocol:
// JSON text frames, each holding one or more newline-separated messages.
// Commands from clients carry an id and get a reply with the same id;
// the server also sends publications, pushes, join/leave notices and a
// disconnect notice. docs/protocol.md describes every message.
//
// The package only turns bytes into values and values into bytes.
package jsonproto
