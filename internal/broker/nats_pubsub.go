package broker

import (
	"context"
	"errors"

	"github.com/heraldhq/herald/internal/protocol/record"
	"github.com/nats-io/nats.go"
)

// errNATSDown is returned at once while the connection is away, rather
// than after a request's timeout.
var errNATSDown = errors.New("broker: NATS is not connected")

// usable fails fast when the broker is closed or NATS is away.
func (b *NATSBroker) usable() error {
	switch {
	case b.closed():
		return ErrClosed
	case !b.nc.IsConnected():
		return errNATSDown
	}
	return nil
}

// flush returns once the server has read everything sent before it, so
// a subscription just made is registered there.
func (b *NATSBroker) flush(ctx context.Context) error {
	ctx, cancel := b.link.context(ctx)
	defer cancel()
	if err := b.nc.FlushWithContext(ctx); err != nil {
		return natsError(ctx, "flush", err)
	}
	return nil
}

// subscribe adds a subscription to subs under key unless it is there,
// and waits until the server has it.
func (b *NATSBroker) subscribe(ctx context.Context, subs map[string]*nats.Subscription, key, subject string) error {
	if err := b.usable(); err != nil {
		return err
	}
	b.mu.Lock()
	created := false
	if subs[key] == nil {
		sub, err := b.nc.ChanSubscribe(subject, b.dispatch.queueFor(subject))
		if err != nil {
			b.mu.Unlock()
			return natsError(context.Background(), "subscribe", err)
		}
		subs[key], created = sub, true
	}
	b.mu.Unlock()
	err := b.flush(ctx)
	if err != nil && created {
		// The caller takes the failure as "not subscribed" and will not
		// unsubscribe.
		b.unsubscribe(subs, key)
	}
	return err
}

func (b *NATSBroker) unsubscribe(subs map[string]*nats.Subscription, key string) bool {
	b.mu.Lock()
	sub := subs[key]
	delete(subs, key)
	b.mu.Unlock()
	if sub == nil {
		return false
	}
	_ = sub.Unsubscribe() // a closed connection has none left anyway
	return true
}

// Subscribe implements Broker.
func (b *NATSBroker) Subscribe(ctx context.Context, ch string) error {
	return b.subscribe(ctx, b.channels, ch, b.subj.channel(ch))
}

// Unsubscribe implements Broker.
func (b *NATSBroker) Unsubscribe(_ context.Context, ch string) error {
	if b.unsubscribe(b.channels, ch) {
		b.dispatch.forget(b.subj.channel(ch), ch)
	}
	return nil
}

// SubscribeUser implements Broker.
func (b *NATSBroker) SubscribeUser(ctx context.Context, user string) error {
	return b.subscribe(ctx, b.users, user, b.subj.user(user))
}

// UnsubscribeUser implements Broker.
func (b *NATSBroker) UnsubscribeUser(_ context.Context, user string) error {
	b.unsubscribe(b.users, user)
	return nil
}

// publish sends one core NATS message. It is at most once: it fails
// while NATS is away, and a connection that dies with it still in the
// socket's buffer loses it unreported.
func (b *NATSBroker) publish(msg *nats.Msg) error {
	if err := b.usable(); err != nil {
		return err
	}
	if err := b.nc.PublishMsg(msg); err != nil {
		return natsError(context.Background(), "publish", err)
	}
	return nil
}

// PublishJoin implements Broker.
func (b *NATSBroker) PublishJoin(_ context.Context, ch string, info *record.ClientInfo) error {
	return b.publishPresence(ch, "join", info)
}

// PublishLeave implements Broker.
func (b *NATSBroker) PublishLeave(_ context.Context, ch string, info *record.ClientInfo) error {
	return b.publishPresence(ch, "leave", info)
}

func (b *NATSBroker) publishPresence(ch, kind string, info *record.ClientInfo) error {
	return b.publish(&nats.Msg{Subject: b.subj.channel(ch), Header: nats.Header{natsHeaderKind: {kind}},
		Data: appendNATSClient(nil, info)})
}

// PublishPush implements Broker.
func (b *NATSBroker) PublishPush(_ context.Context, push *record.Push) error {
	return b.publish(&nats.Msg{Subject: b.subj.user(push.User), Data: appendNATSPush(nil, push)})
}

// Control implements Broker. It returns once the server has the
// message, so one node's control messages and then another's (sent in
// answer) arrive in that order. A message to a node that is not there
// goes nowhere, without an error: core NATS does not say who heard it.
func (b *NATSBroker) Control(ctx context.Context, node string, data []byte) error {
	subject := b.subj.all()
	if node != "" {
		subject = b.subj.node(node)
	}
	if err := b.publish(&nats.Msg{Subject: subject, Data: data}); err != nil {
		return err
	}
	return b.flush(ctx)
}
