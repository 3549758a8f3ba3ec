package broker

import (
	"context"
	"sync/atomic"
)

// natsLink ends the calls in flight when the connection drops. nats.go
// keeps waiting for the replies to requests sent before a disconnect,
// which can no longer come, until their deadline; a call's context is
// also ended by its link, so it fails with errNATSDown at once.
type natsLink struct {
	cur atomic.Pointer[natsLinkCtx]
}

type natsLinkCtx struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
}

func newNATSLink() *natsLink {
	l := &natsLink{}
	l.up()
	return l
}

// up starts a new link: the connection is (back) up.
func (l *natsLink) up() {
	ctx, cancel := context.WithCancelCause(context.Background())
	if old := l.cur.Swap(&natsLinkCtx{ctx, cancel}); old != nil {
		old.cancel(errNATSDown)
	}
}

// down ends the current link.
func (l *natsLink) down() { l.cur.Load().cancel(errNATSDown) }

// context is ctx for one call: with a deadline (nats.go will not wait on
// a context without one) and ended by the link going down.
func (l *natsLink) context(ctx context.Context) (context.Context, context.CancelFunc) {
	cancelTimeout := context.CancelFunc(func() {})
	if _, ok := ctx.Deadline(); !ok {
		ctx, cancelTimeout = context.WithTimeout(ctx, natsRequestTimeout)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(l.cur.Load().ctx, func() { cancel(errNATSDown) })
	return ctx, func() {
		stop()
		cancel(context.Canceled)
		cancelTimeout()
	}
}
