package sioproto

import (
	"errors"
	"fmt"
)

// Decoding errors. Any of them means the peer broke the protocol; the
// reference server closes the connection, and so should callers. They are
// sentinels so callers can log or count them with errors.Is.
var (
	// ErrUnknownType reports an empty frame or a type digit outside 0-6.
	ErrUnknownType = errors.New("socketio: unknown packet type")
	// ErrBadAttachments reports a binary packet whose "<n>-" attachment
	// count is missing or not a number.
	ErrBadAttachments = errors.New("socketio: illegal attachments")
	// ErrTooManyAttachments reports a binary packet announcing more
	// attachments than the decoder is configured to buffer.
	ErrTooManyAttachments = errors.New("socketio: too many attachments")
	// ErrAttachmentsTooLarge reports a binary packet whose attachments
	// add up to more bytes than the decoder is configured to buffer.
	ErrAttachmentsTooLarge = errors.New("socketio: attachments too large")
	// ErrBadNamespace reports a namespace not terminated by a comma although
	// a payload follows it, or (when encoding) a namespace that does not
	// start with "/" or contains a comma.
	ErrBadNamespace = errors.New("socketio: bad namespace")
	// ErrBadID reports an ack id that overflows uint64 or is not followed
	// by the payload.
	ErrBadID = errors.New("socketio: bad ack id")
	// ErrInvalidJSON reports a payload that is not valid JSON.
	ErrInvalidJSON = errors.New("socketio: invalid JSON payload")
	// ErrInvalidPayload reports valid JSON of the wrong kind for the packet
	// type, or a missing payload where one is required.
	ErrInvalidPayload = errors.New("socketio: invalid payload")
	// ErrReservedEvent reports an event whose name is reserved (see
	// IsReservedEvent).
	ErrReservedEvent = errors.New("socketio: reserved event name")
	// ErrBadPlaceholder reports a binary placeholder whose num is not an
	// integer referring to one of the packet's attachments.
	ErrBadPlaceholder = errors.New("socketio: illegal attachments placeholder")
	// ErrUnexpectedBinary reports a binary frame while no binary packet is
	// waiting for attachments.
	ErrUnexpectedBinary = errors.New("socketio: got binary data when not reconstructing a packet")
	// ErrUnexpectedText reports a text frame while a binary packet is still
	// waiting for attachments.
	ErrUnexpectedText = errors.New("socketio: got plaintext data when reconstructing a packet")
)

// Detailed variants built once, so error paths a hostile peer can trigger
// at will do not allocate.
var (
	errEmptyFrame        = fmt.Errorf("%w: empty frame", ErrUnknownType)
	errMissingPayload    = fmt.Errorf("%w: payload required", ErrInvalidPayload)
	errUnexpectedPayload = fmt.Errorf("%w: DISCONNECT takes no payload", ErrInvalidPayload)
	errNotObject         = fmt.Errorf("%w: CONNECT payload must be an object", ErrInvalidPayload)
	errNotObjectOrString = fmt.Errorf("%w: CONNECT_ERROR payload must be an object or a string", ErrInvalidPayload)
	errNotArray          = fmt.Errorf("%w: payload must be an array", ErrInvalidPayload)
	errNoEventName       = fmt.Errorf("%w: EVENT payload must start with a string event name", ErrInvalidPayload)
	errAttachmentsType   = fmt.Errorf("%w: only EVENT and ACK packets carry attachments", ErrBadAttachments)
)
