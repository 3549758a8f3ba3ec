package core

import (
	"errors"
	"fmt"
)

// Error is a refusal, with the codes each protocol reports it by.
type Error struct {
	// Code is HTTP-like: 400 bad input, 401 not authenticated, 403
	// forbidden, 409 conflict, 429 rate limited, 500 internal, 503
	// unavailable. Herald's replies carry it; the HTTP API answers with it.
	Code int
	// Close is the close code of a refusal that ends the connection
	// (admission); 0 for the others.
	Close int
	// Message says what went wrong, for the client.
	Message string
	// err is the sentinel the refusal wraps, if any.
	err error
}

func (e *Error) Error() string { return e.Message }

// Unwrap lets errors.Is find the sentinel.
func (e *Error) Unwrap() error { return e.err }

// Sentinels, for errors.Is; the public herald package re-exports those
// its API returns.
var (
	// ErrBadChannel is wrapped by errors about malformed channel names.
	ErrBadChannel = errors.New("invalid channel")
	// ErrBadData is wrapped by errors about invalid payloads.
	ErrBadData = errors.New("invalid data")
	// ErrBadPush is wrapped by errors about invalid pushes.
	ErrBadPush = errors.New("invalid push")
	// ErrPresenceOff is wrapped when presence is asked of a channel that
	// does not keep it.
	ErrPresenceOff = errors.New("presence off")
	// ErrShuttingDown is returned for work refused because the node is
	// shutting down.
	ErrShuttingDown = errors.New("herald: node is shutting down")
	// ErrClosed is returned for work asked of a connection that has closed.
	ErrClosed = errors.New("connection closed")
	// ErrAlreadySubscribed is wrapped when a connection subscribes twice.
	ErrAlreadySubscribed = errors.New("already subscribed")
	// ErrBrokerUnavailable is wrapped by work the broker (or the disk
	// store) could not take: nothing of it was done.
	ErrBrokerUnavailable = errors.New("broker unavailable")
)

// Close codes herald sends, beyond RFC 6455's; docs/protocol.md lists them.
const (
	CloseTryAgainLater  = 1013
	CloseUnauthorized   = 4001
	CloseDisconnected   = 4003
	CloseConnectTimeout = 4004
	CloseRefused        = 4005
	CloseTokenExpired   = 4006
)

func refuse(code int, sentinel error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), err: sentinel}
}

func badRequest(err error) *Error {
	return &Error{Code: 400, Message: err.Error(), err: err}
}

func forbidden(format string, args ...any) *Error { return refuse(403, nil, format, args...) }

// refusedBy is the refusal of a hook that returned err, which it wraps so
// the application can recognize its own error.
func refusedBy(what string, err error) *Error {
	return &Error{Code: 403, Message: what + ": " + err.Error(), err: err}
}

// brokerFailed counts a broker failure of op and returns its error:
// 503, so clients and the API's callers know to retry.
func (c *Core) brokerFailed(op, what string, err error) *Error {
	c.metrics.BrokerErrors.WithLabelValues(op).Inc()
	c.log.Warn("the broker failed", "op", op, "err", err)
	return unavailable(what, err)
}

// readFailed is the error of a read from the broker (history, presence,
// the registry): on a shared broker it could not be reached, and the
// caller may try again (503); on this node's own stores it is a fault.
func (c *Core) readFailed(op, what string, err error) *Error {
	if c.sharedBroker {
		return c.brokerFailed(op, what, err)
	}
	return internal(what, err)
}

// unavailable is the error for work the broker refused or could not be
// reached for.
func unavailable(what string, err error) *Error {
	return &Error{Code: 503, Close: CloseTryAgainLater, Message: fmt.Sprintf("%s: %v: %v", what, ErrBrokerUnavailable, err),
		err: fmt.Errorf("%w: %w", ErrBrokerUnavailable, err)}
}

func internal(what string, err error) *Error {
	return &Error{Code: 500, Message: what + ": " + err.Error(), err: err}
}

// Code returns err's code: its own for an *Error, 500 for anything else.
func Code(err error) int {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	return 500
}
