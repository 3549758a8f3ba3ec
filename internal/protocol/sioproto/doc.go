// Package sioproto is a pure codec for the Socket.IO protocol, revision 5
// (Socket.IO v3+, socket.io-client 4.x), matching the default parser of the
// reference implementation (npm socket.io-parser 4.x).
//
// A Socket.IO packet travels as the data of an Engine.IO message packet:
//
//	<type>[<attachments>-][<namespace>,][<ack id>][<JSON payload>]
//
// followed, for BINARY_EVENT and BINARY_ACK, by one Engine.IO binary
// message per attachment. Inside the JSON each binary value is replaced by
// a placeholder {"_placeholder":true,"num":N}.
//
// Encoding: AppendPacket / Encode turn a Packet into its text frame (the
// attachments are sent as they are); AppendEvent, AppendEventWithID and
// AppendAck build frames straight from already-encoded JSON arguments; Args
// builds a payload from Go values, turning []byte into placeholders and
// collecting the attachments.
//
// Decoding: a Decoder is fed the text and binary frames of one connection
// in order and yields complete packets. Input is untrusted: the decoder
// never panics, validates the payload shape for each packet type the way
// the reference does, refuses reserved event names, and caps the number of
// attachments it will buffer. Packet.EventName, Packet.Args and
// Packet.Values expose the decoded arguments with binary data put back in
// place of the placeholders.
//
// The package is deliberately independent of the engineio package: callers
// pass it the payload bytes of Engine.IO message packets.
package sioproto
