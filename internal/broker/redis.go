package broker

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald/internal/protocol/record"
	"github.com/redis/rueidis"
)

// Defaults of RedisOptions.
const (
	DefaultRedisPrefix      = "herald"
	DefaultRedisMetaTTL     = 24 * time.Hour
	DefaultRedisPresenceTTL = 30 * time.Second
	DefaultRedisRegistryTTL = 15 * time.Second
	DefaultRedisWait        = 5 * time.Second
)

// RedisOptions say where the Redis backend keeps its state.
type RedisOptions struct {
	// URL names the server, as the client library (rueidis) reads it:
	//
	//	redis://[user:password@]host:port[/db]   a server, or any node of a Cluster
	//	rediss://…                               the same over TLS (?skip_verify=true to not check the certificate)
	//	unix:///path/to/redis.sock[?db=N]        a local socket
	//
	// A Cluster is recognised by asking the node: give one node, or more
	// as seeds with ?addr=host2:port2&addr=host3:port3. Sentinel: the
	// sentinels' addresses the same way, with ?master_set=NAME. Also
	// read: dial_timeout and write_timeout (Go durations), client_name,
	// protocol=2 (RESP2), max_retries=0 (no retries).
	URL string
	// Prefix starts every key and pub/sub channel, so deployments can
	// share a server; DefaultRedisPrefix when empty. It may not contain
	// braces, which Cluster reads as hash tags.
	Prefix string
	// MetaTTL is how long a channel's stream position outlives its last
	// publication; DefaultRedisMetaTTL when 0. A publication kept without
	// a HistoryTTL lives at most this long after it was made.
	MetaTTL time.Duration
	// PresenceTTL is how long a presence entry lives unless re-added;
	// DefaultRedisPresenceTTL when 0. Give the core the same value: it
	// re-adds its entries at a third of it.
	PresenceTTL time.Duration
	// RegistryTTL is how long a node stays listed without announcing
	// itself; DefaultRedisRegistryTTL when 0.
	RegistryTTL time.Duration
	// Wait bounds how long Subscribe and SubscribeUser wait for a lost
	// pub/sub connection to come back, and Run for the first one, when
	// their context allows longer; DefaultRedisWait when 0.
	Wait time.Duration
	// Log receives what the broker cannot return to a caller: messages
	// that do not decode, a lost pub/sub connection. slog.Default() when
	// nil.
	Log *slog.Logger
}

func (o RedisOptions) withDefaults() (RedisOptions, error) {
	if o.Prefix == "" {
		o.Prefix = DefaultRedisPrefix
	}
	if strings.ContainsAny(o.Prefix, "{}") {
		return o, fmt.Errorf("broker: the Redis prefix %q has a brace", o.Prefix)
	}
	o.MetaTTL = orDefault(o.MetaTTL, DefaultRedisMetaTTL)
	o.PresenceTTL = orDefault(o.PresenceTTL, DefaultRedisPresenceTTL)
	o.RegistryTTL = orDefault(o.RegistryTTL, DefaultRedisRegistryTTL)
	o.Wait = orDefault(o.Wait, DefaultRedisWait)
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return o, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// redisClientOption reads the URL into the client library's options.
func redisClientOption(url string) (rueidis.ClientOption, error) {
	opt, err := rueidis.ParseURL(url)
	if err != nil {
		return opt, fmt.Errorf("broker: the Redis URL: %w", err)
	}
	// Herald reads no key twice in a way a client-side cache would help.
	opt.DisableCache = true
	return opt, nil
}

// NewRedisBackend connects to Redis and returns a broker, presence and
// registry sharing one client; closing the Broker closes it. It fails
// when the server does not answer: a node should not start on a backend
// it cannot reach.
func NewRedisBackend(opts RedisOptions) (Backend, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return Backend{}, err
	}
	copt, err := redisClientOption(opts.URL)
	if err != nil {
		return Backend{}, err
	}
	client, err := rueidis.NewClient(copt)
	if err != nil {
		return Backend{}, fmt.Errorf("broker: connecting to Redis: %w", err)
	}
	k := redisKeys{prefix: opts.Prefix}
	return Backend{
		Broker: &RedisBroker{client: client, keys: k, opts: opts,
			metaTTLms: strconv.FormatInt(opts.MetaTTL.Milliseconds(), 10)},
		Presence: &RedisPresence{set: expiringSet{client: client, ttl: opts.PresenceTTL}, keys: k},
		Registry: &RedisRegistry{set: expiringSet{client: client, ttl: opts.RegistryTTL}, keys: k},
		Sessions: &RedisSessions{client: client, keys: k},
	}, nil
}

// RedisBroker carries publications between nodes through Redis pub/sub
// and keeps channel streams in Redis (see docs/architecture.md, "The
// Redis backend").
type RedisBroker struct {
	client rueidis.Client
	keys   redisKeys
	opts   RedisOptions
	// metaTTLms is MetaTTL as the publish script takes it.
	metaTTLms string
	node      string
	handler   EventHandler
	subs      *redisSubscriber
	closed    atomic.Bool

	// order delivers each channel's publications in offset order, filling
	// what the pub/sub connection missed from the streams; orderMu guards
	// it: the pub/sub reader and a catch-up after a reconnection share it.
	orderMu sync.Mutex
	order   *inOrder
}

// Run implements Broker: it opens the pub/sub connection and listens on
// the node's own channel and the cluster's.
func (b *RedisBroker) Run(node string, h EventHandler) error {
	b.node, b.handler = node, h
	b.order = newInOrder(b.History, h.HandlePublication)
	b.subs = newRedisSubscriber(b.client, b.opts, b.dispatch, func() { go b.catchUp() })
	ctx, cancel := context.WithTimeout(context.Background(), b.opts.Wait)
	defer cancel()
	for _, topic := range []string{b.keys.nodeTopic(node), b.keys.allTopic()} {
		if err := b.subs.subscribe(ctx, topic); err != nil {
			b.subs.close()
			return fmt.Errorf("broker: listening on Redis: %w", err)
		}
	}
	return nil
}

// Subscribe implements Broker; it returns once Redis has confirmed.
func (b *RedisBroker) Subscribe(ctx context.Context, ch string) error {
	if b.closed.Load() {
		return ErrClosed
	}
	return b.subs.subscribe(ctx, b.keys.channelTopic(ch))
}

// Unsubscribe implements Broker.
func (b *RedisBroker) Unsubscribe(ctx context.Context, ch string) error {
	if b.closed.Load() {
		return ErrClosed
	}
	// Once Redis confirmed, nothing more of ch comes on this connection.
	err := b.subs.unsubscribe(ctx, b.keys.channelTopic(ch))
	b.orderMu.Lock()
	b.order.forget(ch)
	b.orderMu.Unlock()
	return err
}

// deliverInOrder hands pub to the handler after what the node missed
// before it.
func (b *RedisBroker) deliverInOrder(pub *record.Publication) {
	b.orderMu.Lock()
	defer b.orderMu.Unlock()
	b.order.deliver(pub)
}

// catchUp delivers, after a reconnection, what was published while
// the pub/sub connection was away (see inOrder.catchUpAll).
func (b *RedisBroker) catchUp() {
	if err := b.order.catchUpAll(&b.orderMu); err != nil && !b.closed.Load() {
		b.opts.Log.Warn("after reconnecting to Redis", "err", err)
	}
}

// SubscribeUser implements Broker; it returns once Redis has confirmed.
func (b *RedisBroker) SubscribeUser(ctx context.Context, user string) error {
	if b.closed.Load() {
		return ErrClosed
	}
	return b.subs.subscribe(ctx, b.keys.userTopic(user))
}

// UnsubscribeUser implements Broker.
func (b *RedisBroker) UnsubscribeUser(ctx context.Context, user string) error {
	if b.closed.Load() {
		return ErrClosed
	}
	return b.subs.unsubscribe(ctx, b.keys.userTopic(user))
}

// PublishJoin implements Broker.
func (b *RedisBroker) PublishJoin(ctx context.Context, ch string, info *record.ClientInfo) error {
	return b.publishPresenceEvent(ctx, ch, kindJoin, info)
}

// PublishLeave implements Broker.
func (b *RedisBroker) PublishLeave(ctx context.Context, ch string, info *record.ClientInfo) error {
	return b.publishPresenceEvent(ctx, ch, kindLeave, info)
}

func (b *RedisBroker) publishPresenceEvent(ctx context.Context, ch string, kind byte, info *record.ClientInfo) error {
	msg, err := encodeClientEvent(kind, ch, info)
	if err != nil {
		return err
	}
	_, err = b.publish(ctx, b.keys.channelTopic(ch), b.keys.meta(ch), msg)
	return err
}

// PublishPush implements Broker.
func (b *RedisBroker) PublishPush(ctx context.Context, push *record.Push) error {
	_, err := b.publish(ctx, b.keys.userTopic(push.User), b.keys.userRoute(push.User), encodePush(push))
	return err
}

// Control implements Broker. A node nobody listens for is not there:
// Redis reports how many connections received the message. A Cluster
// master counts only its own connections, so there a message to a
// missing node is lost without a word.
func (b *RedisBroker) Control(ctx context.Context, node string, data []byte) error {
	topic, route := b.keys.allTopic(), b.keys.allRoute()
	if node != "" {
		topic, route = b.keys.nodeTopic(node), b.keys.nodeRoute(node)
	}
	n, err := b.publish(ctx, topic, route, data)
	if err == nil && n == 0 && node != "" && b.client.Mode() != rueidis.ClientModeCluster {
		return fmt.Errorf("%w: %q", ErrNoSuchNode, node)
	}
	return err
}

// redisRoutedPublish publishes from the master that owns KEYS[1]'s
// slot; it does not touch the key.
var redisRoutedPublish = rueidis.NewLuaScript(`return redis.call('PUBLISH', ARGV[1], ARGV[2])`)

// publish sends msg to topic and returns how many connections received
// it. A Cluster master forwards a PUBLISH to the others, each over its
// own link; a topic's messages keep their order only if they all leave
// from one master, so in a Cluster they go through a script on the
// master of route's slot, the one the topic's publish script runs on.
func (b *RedisBroker) publish(ctx context.Context, topic, route string, msg []byte) (int64, error) {
	if b.closed.Load() {
		return 0, ErrClosed
	}
	var res rueidis.RedisResult
	if b.client.Mode() == rueidis.ClientModeCluster {
		res = redisRoutedPublish.Exec(ctx, b.client, []string{route}, []string{topic, rueidis.BinaryString(msg)})
	} else {
		res = b.client.Do(ctx, b.client.B().Publish().Channel(topic).Message(rueidis.BinaryString(msg)).Build())
	}
	n, err := res.AsInt64()
	if err != nil {
		return 0, b.redisError("publishing to Redis", err)
	}
	return n, nil
}

// Close implements Broker: it leaves the pub/sub connection and closes
// the client the presence and registry share.
func (b *RedisBroker) Close() error {
	if b.closed.Swap(true) {
		return nil
	}
	if b.subs != nil {
		b.subs.close()
	}
	b.client.Close()
	return nil
}

// redisError turns the client library's error into the broker's: after
// Close, ErrClosed.
func (b *RedisBroker) redisError(what string, err error) error {
	if b.closed.Load() {
		return ErrClosed
	}
	return fmt.Errorf("broker: %s: %w", what, err)
}
