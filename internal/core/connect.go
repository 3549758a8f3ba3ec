package core

import (
	"context"
	"errors"
	"time"

	"github.com/heraldhq/herald/internal/auth"
)

// errNoTokenAuth is returned for a token when the node has no way to
// check one.
var errNoTokenAuth = errors.New("this server does not accept tokens (no token_secret or public key configured)")

// Credentials checks a connection's token: with the application's
// authenticator, else the JWT verifier. No token means anonymous, when
// the node lets anonymous connections in. A refusal closes with 4001.
func (c *Core) Credentials(ctx context.Context, token string) (auth.Credentials, *Error) {
	if token == "" {
		if c.cfg.AllowAnonymous {
			return auth.Credentials{}, nil
		}
		return auth.Credentials{}, unauthorized("a token is required")
	}
	var creds auth.Credentials
	var err error
	switch {
	case c.auth != nil:
		err = c.call("the authenticator", func() (err error) { creds, err = c.auth(ctx, token); return err })
	case c.verifier == nil:
		err = errNoTokenAuth
	default:
		creds, err = c.verifier.Verify(token)
	}
	if err != nil {
		return auth.Credentials{}, unauthorized(err.Error())
	}
	return creds, nil
}

// AllowsAnonymous reports whether connections without a token are let in.
func (c *Core) AllowsAnonymous() bool { return c.cfg.AllowAnonymous }

func unauthorized(msg string) *Error {
	return &Error{Code: 401, Close: CloseUnauthorized, Message: msg}
}

// Identify records who a client that is still being let in is, so that
// a protocol's own admission steps (Socket.IO middlewares) can see it;
// Connect decides whether it gets in.
func (c *Core) Identify(cl *Client, creds auth.Credentials) {
	cl.mu.Lock()
	if cl.state.Load() == stateConnecting {
		cl.identify(creds)
	}
	cl.mu.Unlock()
}

// Connect lets the client in as creds' user: unless the credentials have
// expired, the user already has as many connections as a user may
// (1013), or the OnConnect hook refuses (4005). An anonymous client that
// has subscribed to nothing may connect again with credentials, becoming
// their user. Once in, the connection ends (Session.Disconnect, 4006)
// when the credentials expire.
func (c *Core) Connect(cl *Client, creds auth.Credentials) *Error {
	if e := cl.mayConnect(creds); e != nil {
		return e
	}
	if e := c.takeUserSlot(creds.User); e != nil {
		return e
	}
	if creds.User != "" {
		if err := c.addUser(cl, creds.User); err != nil {
			c.giveUserSlot(creds.User)
			return c.brokerFailed("subscribe_user", "connect failed", err)
		}
	}
	e := c.onConnect(cl, creds.User, cl.session.RemoteAddr())
	if e == nil {
		e = cl.admitted(creds)
	}
	if e != nil && creds.User != "" {
		c.removeUser(cl, creds.User)
		c.giveUserSlot(creds.User)
	}
	return e
}

// addUser indexes the client as one of user's connections; the node's
// first connection of user tells the broker, so pushes to the user
// reach this node.
func (c *Core) addUser(cl *Client, user string) error {
	m := c.routes.lock(userKey(user))
	defer m.Unlock()
	if c.hub.AddUser(user, cl.session) > 1 {
		return nil
	}
	if err := c.broker.SubscribeUser(cl, user); err != nil {
		c.hub.RemoveUser(user, cl.session)
		return err
	}
	return nil
}

// removeUser undoes addUser.
func (c *Core) removeUser(cl *Client, user string) {
	m := c.routes.lock(userKey(user))
	defer m.Unlock()
	if c.hub.RemoveUser(user, cl.session) > 0 {
		return
	}
	ctx, cancel := brokerContext(cl)
	defer cancel()
	if err := c.broker.UnsubscribeUser(ctx, user); err != nil {
		c.log.Warn("broker user unsubscribe", "user", user, "err", err)
	}
}

// mayConnect checks the client's state and the credentials' expiry.
func (cl *Client) mayConnect(creds auth.Credentials) *Error {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	switch st := cl.state.Load(); {
	case st == stateClosed:
		return closedError()
	case st == stateConnected && (cl.info.User != "" || cl.NumChannels() > 0):
		return &Error{Code: 409, Message: "already connected"}
	case !creds.ExpiresAt.IsZero() && !time.Now().Before(creds.ExpiresAt):
		return unauthorized("token expired")
	}
	return nil
}

// onConnect runs the OnConnect hook, unlocked.
func (c *Core) onConnect(cl *Client, user, remoteAddr string) *Error {
	h := c.hooks.OnConnect
	if h == nil {
		return nil
	}
	e := ConnectEvent{Client: cl.ID(), User: user, Transport: cl.transport.String(), RemoteAddr: remoteAddr}
	if err := c.call("OnConnect", func() error { return h(cl, e) }); err != nil {
		c.metrics.ConnectionsRejected.WithLabelValues("hook").Inc()
		return &Error{Code: 403, Close: CloseRefused, Message: "connection refused: " + err.Error(), err: err}
	}
	return nil
}

// admitted makes the client serve as creds' user, unless it closed while
// it was being let in.
func (cl *Client) admitted(creds auth.Credentials) *Error {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if cl.Closed() {
		return closedError()
	}
	cl.identify(creds)
	cl.state.Store(stateConnected)
	cl.armExpiry()
	return nil
}

func closedError() *Error {
	return &Error{Code: 409, Message: "the connection has closed", err: ErrClosed}
}

// armExpiry ends the connection when its credentials expire; cl.mu held.
func (cl *Client) armExpiry() {
	if cl.expiry != nil {
		cl.expiry.Stop()
		cl.expiry = nil
	}
	if cl.expires == 0 {
		return
	}
	s := cl.session
	cl.expiry = time.AfterFunc(time.Until(cl.ExpiresAt()), func() { s.Disconnect(CloseTokenExpired, "token expired") })
}

// Detach runs OnDisconnect for a client whose transport dropped while
// its state is kept for it to come back (Socket.IO connection state
// recovery): it stays subscribed, and reachable as its user's, but no
// longer counts against the user's connection limit.
func (c *Core) Detach(cl *Client, reason string) {
	cl.mu.Lock()
	was := cl.Connected() && !cl.detached
	if was {
		cl.detached = true
		c.giveUserSlot(cl.info.User)
	}
	cl.mu.Unlock()
	if was {
		c.disconnected(cl, 0, reason)
	}
}

// Reattach lets a detached client back in: its credentials must not have
// expired, its user must have a connection to spare (1013), and the
// OnConnect hook runs again and may refuse.
func (c *Core) Reattach(cl *Client, remoteAddr string) *Error {
	switch {
	case !cl.Connected():
		return closedError()
	case cl.Expired():
		return unauthorized("token expired")
	}
	if e := c.takeUserSlot(cl.info.User); e != nil {
		return e
	}
	e := c.onConnect(cl, cl.info.User, remoteAddr)
	if e == nil {
		e = cl.reattached()
	}
	if e != nil {
		c.giveUserSlot(cl.info.User)
	}
	return e
}

// reattached makes a detached client serve again, unless it closed while
// its hook ran.
func (cl *Client) reattached() *Error {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if !cl.Connected() || !cl.detached {
		return closedError()
	}
	cl.detached = false
	cl.armExpiry()
	return nil
}

// Close ends the client for good: its context is cancelled, it leaves
// every channel (with presence and leave notices) and its user's
// connections, and OnDisconnect runs if it had been let in (and not
// already told, for a detached client). Calling it again does nothing.
func (c *Core) Close(cl *Client, code int, reason string) {
	cl.Cancel() // before the lock, which a hook waiting on the context may hold
	cl.mu.Lock()
	prev := cl.state.Swap(stateClosed)
	if prev == stateClosed {
		cl.mu.Unlock()
		return
	}
	if cl.expiry != nil {
		cl.expiry.Stop()
		cl.expiry = nil
	}
	ctx, cancel := brokerContext(cl)
	defer cancel()
	for _, ch := range cl.Channels() {
		c.leave(ctx, cl, ch)
	}
	cl.setChannels(nil)
	if prev == stateConnected && cl.info.User != "" {
		c.removeUser(cl, cl.info.User)
		if !cl.detached {
			c.giveUserSlot(cl.info.User)
		}
	}
	tell := prev == stateConnected && !cl.detached
	cl.mu.Unlock()
	defer c.live.Add(-1)
	if tell {
		c.disconnected(cl, code, reason)
	}
}

// disconnected runs OnDisconnect.
func (c *Core) disconnected(cl *Client, code int, reason string) {
	if h := c.hooks.OnDisconnect; h != nil {
		e := DisconnectEvent{Client: cl.ID(), User: cl.info.User, Code: code, Reason: reason}
		_ = c.call("OnDisconnect", func() error { h(cl.afterCtx(), e); return nil })
	}
}

// brokerTimeout bounds what a closing connection asks of the broker
// (leaving channels, presence, its user): with the broker unreachable,
// the close still finishes.
const brokerTimeout = 5 * time.Second

// brokerContext is the context of a closing connection's broker calls:
// not cancelled with the connection, but bounded.
func brokerContext(cl *Client) (context.Context, context.CancelFunc) {
	return context.WithTimeout(cl.afterCtx(), brokerTimeout)
}
