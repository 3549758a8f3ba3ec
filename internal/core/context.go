package core

import (
	"context"
	"time"
)

// A Client is its connection's context: hooks and the broker get it, and
// it is cancelled when the connection ends. A context.WithCancel per
// connection would cost each idle connection ~150 bytes, so the real one
// is made the first time something waits on it (Done), and a connection
// nobody waits on never pays for one. It carries no values.

// cancelState is the context made on first use.
type cancelState struct {
	ctx    context.Context
	cancel context.CancelFunc
}

var _ context.Context = (*Client)(nil)

// Deadline implements context.Context: a connection has none.
func (cl *Client) Deadline() (time.Time, bool) { return time.Time{}, false }

// Done implements context.Context.
func (cl *Client) Done() <-chan struct{} { return cl.context().Done() }

// Err implements context.Context: Canceled once the connection ended.
func (cl *Client) Err() error {
	if p := cl.ctx.Load(); p != nil {
		return p.ctx.Err()
	}
	if cl.flags.Load()&flagEnded != 0 {
		return context.Canceled
	}
	return nil
}

// Value implements context.Context. Once made, the real context answers,
// which lets contexts derived from a Client attach to it directly instead
// of watching it from a goroutine.
func (cl *Client) Value(key any) any {
	if p := cl.ctx.Load(); p != nil {
		return p.ctx.Value(key)
	}
	return nil
}

// context returns the real context, making it on first use.
func (cl *Client) context() context.Context {
	if p := cl.ctx.Load(); p != nil {
		return p.ctx
	}
	ctx, cancel := context.WithCancel(context.Background())
	if !cl.ctx.CompareAndSwap(nil, &cancelState{ctx, cancel}) {
		cancel()
		return cl.ctx.Load().ctx
	}
	if cl.flags.Load()&flagEnded != 0 { // ended while it was being made
		cancel()
	}
	return ctx
}

// Cancel cancels the connection's context, as its transport has ended:
// a hook waiting on it returns at once, while Close, which cancels it
// too, may have to wait for the command that runs the hook. A context
// made later starts cancelled.
func (cl *Client) Cancel() {
	cl.flags.Or(flagEnded)
	if p := cl.ctx.Load(); p != nil {
		p.cancel()
	}
}

// afterCtx is the context for cleaning up after the connection ended:
// the connection's, without its cancellation, so a broker can still be
// told and OnDisconnect can still do its work.
func (cl *Client) afterCtx() context.Context { return context.WithoutCancel(cl) }
