package eioproto

import "strconv"

// ErrorCode is the numeric code in the JSON body the reference server
// returns when it refuses an HTTP request, e.g.
// {"code":1,"message":"Session ID unknown"}. socket.io-client surfaces
// these in its connect_error, so matching them keeps client-side handling
// working unchanged.
type ErrorCode int

// Error codes used by the reference server (engine.io Server.errors).
const (
	// ErrorUnknownTransport rejects a transport query parameter the server
	// does not serve.
	ErrorUnknownTransport ErrorCode = 0
	// ErrorUnknownSID rejects a sid that names no live session.
	ErrorUnknownSID ErrorCode = 1
	// ErrorBadHandshakeMethod rejects a handshake that is not a GET.
	ErrorBadHandshakeMethod ErrorCode = 2
	// ErrorBadRequest rejects any other malformed request.
	ErrorBadRequest ErrorCode = 3
	// ErrorForbidden rejects a request refused by the application
	// (allowRequest); it is the only code answered with 403.
	ErrorForbidden ErrorCode = 4
	// ErrorUnsupportedProtocolVersion rejects an EIO query other than 4.
	ErrorUnsupportedProtocolVersion ErrorCode = 5
)

// errorMessages are the reference default messages, indexed by code.
var errorMessages = [...]string{
	"Transport unknown",
	"Session ID unknown",
	"Bad handshake method",
	"Bad request",
	"Forbidden",
	"Unsupported protocol version",
}

// Message returns the reference default message for c, or "" for a code
// the protocol does not define.
func (c ErrorCode) Message() string {
	if c >= 0 && int(c) < len(errorMessages) {
		return errorMessages[c]
	}
	return ""
}

// HTTPStatus returns the status the reference pairs with c: 403 for
// ErrorForbidden, 400 for everything else.
func (c ErrorCode) HTTPStatus() int {
	// Plain numbers keep this codec free of a net/http dependency.
	if c == ErrorForbidden {
		return 403
	}
	return 400
}

// ErrorBody returns the JSON body for c with its default message, e.g.
// {"code":0,"message":"Transport unknown"}. Serve it with
// Content-Type: application/json and c.HTTPStatus().
func ErrorBody(c ErrorCode) []byte {
	return AppendErrorBody(make([]byte, 0, 64), c, "")
}

// AppendErrorBody appends the JSON error body for c to dst. A non-empty
// message overrides the default one, as the reference does with the
// message an allowRequest callback supplies. When there is no message at
// all the key is omitted, mirroring JSON.stringify dropping undefined.
func AppendErrorBody(dst []byte, c ErrorCode, message string) []byte {
	if message == "" {
		message = c.Message()
	}
	dst = append(dst, `{"code":`...)
	dst = strconv.AppendInt(dst, int64(c), 10)
	if message != "" {
		dst = append(dst, `,"message":`...)
		dst = appendJSONString(dst, message)
	}
	return append(dst, '}')
}
