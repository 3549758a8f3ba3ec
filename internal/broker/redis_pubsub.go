package broker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/rueidis"
)

// redisSubscriber holds the node's one pub/sub connection. One
// connection delivers everything in the order Redis sent it, which is
// the order the publish scripts ran in. When the connection is lost it
// dials again, with backoff, and subscribes again to every topic wanted.
type redisSubscriber struct {
	client  rueidis.Client
	wait    time.Duration
	log     logger
	deliver func(topic, msg string)
	// reconnected, if not nil, is called once a connection that replaced a
	// lost one has subscribed again to every topic wanted.
	reconnected func()

	// mu guards wanted and conn. A reconnection holds it while it
	// subscribes again, so no topic is added or dropped half-way.
	mu     sync.Mutex
	wanted map[string]struct{}
	conn   *redisPubSubConn // nil while there is none
	up     chan struct{}    // closed once conn is set
	done   chan struct{}
	exited chan struct{}
}

// logger is what the subscriber logs through.
type logger interface {
	Info(msg string, args ...any)
	Warn(msg string, args ...any)
}

// redisPubSubConn is one dedicated connection with the subscriber's hooks.
type redisPubSubConn struct {
	c       rueidis.DedicatedClient
	release func()
	lost    <-chan error
	gone    chan struct{} // closed once the subscriber has stopped using it
}

// resubscribeBatch is how many topics one SUBSCRIBE names when a
// connection subscribes again.
const resubscribeBatch = 500

func newRedisSubscriber(client rueidis.Client, opts RedisOptions, deliver func(topic, msg string), reconnected func()) *redisSubscriber {
	s := &redisSubscriber{client: client, wait: opts.Wait, log: opts.Log, deliver: deliver, reconnected: reconnected,
		wanted: map[string]struct{}{}, up: make(chan struct{}), done: make(chan struct{}), exited: make(chan struct{})}
	go s.run()
	return s
}

// run keeps a connection up until close. It logs the first failed
// attempt of an outage and the recovery, not every retry.
func (s *redisSubscriber) run() {
	defer close(s.exited)
	backoff := newBackoff()
	failed := 0
	upBefore := false // whether a connection was up before this one
	for {
		conn, err := s.connect()
		if err != nil {
			if failed++; failed == 1 {
				s.log.Warn("connecting to Redis for pub/sub; retrying", "err", err)
			}
			if !backoff.sleep(s.done) {
				return
			}
			continue
		}
		if failed > 0 {
			s.log.Info("connected to Redis for pub/sub again", "attempts", failed+1)
		}
		failed = 0
		backoff.reset()
		if upBefore && s.reconnected != nil {
			s.reconnected()
		}
		upBefore = true
		select {
		case err := <-conn.lost:
			s.log.Warn("lost the Redis pub/sub connection; connecting again", "err", err)
			s.drop(conn)
		case <-s.done:
			s.drop(conn)
			return
		}
	}
}

// connect dials, then subscribes to every wanted topic with s.mu held,
// so that once it is up, what is wanted is what it has. The dial is
// outside the lock: while Redis is down, calls wait on their own
// contexts, not on an attempt to reach it.
func (s *redisSubscriber) connect() (*redisPubSubConn, error) {
	c, release := s.client.Dedicate()
	lost := c.SetPubSubHooks(rueidis.PubSubHooks{OnMessage: func(m rueidis.PubSubMessage) { s.deliver(m.Channel, m.Message) }})
	conn := &redisPubSubConn{c: c, release: release, lost: lost, gone: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), s.wait)
	defer cancel()
	if err := c.Do(ctx, c.B().Ping().Build()).Error(); err != nil {
		release()
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := conn.subscribeAll(ctx, s.wanted); err != nil {
		release()
		return nil, err
	}
	s.conn = conn
	close(s.up)
	return conn, nil
}

func (conn *redisPubSubConn) subscribeAll(ctx context.Context, wanted map[string]struct{}) error {
	topics := make([]string, 0, min(len(wanted), resubscribeBatch))
	for t := range wanted {
		if topics = append(topics, t); len(topics) == resubscribeBatch {
			if err := conn.c.Do(ctx, conn.c.B().Subscribe().Channel(topics...).Build()).Error(); err != nil {
				return err
			}
			topics = topics[:0]
		}
	}
	if len(topics) == 0 {
		return nil
	}
	return conn.c.Do(ctx, conn.c.B().Subscribe().Channel(topics...).Build()).Error()
}

// drop stops using conn: calls that hold it learn it is gone, and later
// ones wait for the next.
func (s *redisSubscriber) drop(conn *redisPubSubConn) {
	s.mu.Lock()
	if s.conn == conn {
		s.conn = nil
		s.up = make(chan struct{})
	}
	s.mu.Unlock()
	close(conn.gone)
	conn.release()
}

// current returns the connection, or nil and a channel closed once there
// is one.
func (s *redisSubscriber) current() (*redisPubSubConn, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conn, s.up
}

// subscribe adds topic and returns once Redis has confirmed it, waiting
// through a reconnection if one is under way.
func (s *redisSubscriber) subscribe(ctx context.Context, topic string) error {
	s.mu.Lock()
	s.wanted[topic] = struct{}{}
	s.mu.Unlock()
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	err := s.onConnection(ctx, func(conn *redisPubSubConn) error {
		return conn.c.Do(ctx, conn.c.B().Subscribe().Channel(topic).Build()).Error()
	})
	if err != nil {
		s.mu.Lock()
		delete(s.wanted, topic)
		s.mu.Unlock()
		return fmt.Errorf("broker: subscribing on Redis: %w", err)
	}
	return nil
}

// unsubscribe drops topic. With no connection there is nothing to undo:
// the next one will not subscribe to it.
func (s *redisSubscriber) unsubscribe(ctx context.Context, topic string) error {
	s.mu.Lock()
	delete(s.wanted, topic)
	conn := s.conn
	s.mu.Unlock()
	if conn == nil {
		return nil
	}
	// A connection that fails is given up, and what it had with it.
	err := conn.c.Do(ctx, conn.c.B().Unsubscribe().Channel(topic).Build()).Error()
	if err != nil && (isRedisReply(err) || ctx.Err() != nil) {
		return fmt.Errorf("broker: unsubscribing on Redis: %w", err)
	}
	return nil
}

// onConnection runs do on the connection, and again on the next one if
// that one is lost meanwhile.
func (s *redisSubscriber) onConnection(ctx context.Context, do func(*redisPubSubConn) error) error {
	for {
		conn, up := s.current()
		if conn == nil {
			select {
			case <-up:
				continue
			case <-s.done:
				return ErrClosed
			case <-ctx.Done():
				return fmt.Errorf("waiting for the Redis connection: %w", ctx.Err())
			}
		}
		err := do(conn)
		if err == nil || ctx.Err() != nil || isRedisReply(err) {
			return err
		}
		select {
		case <-conn.gone:
		case <-s.done:
			return ErrClosed
		case <-ctx.Done():
			return err
		}
	}
}

// bounded gives ctx a deadline of s.wait if it has none sooner.
func (s *redisSubscriber) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok && time.Until(d) <= s.wait {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, s.wait)
}

func (s *redisSubscriber) close() {
	select {
	case <-s.done:
	default:
		close(s.done)
	}
	<-s.exited
}

// isRedisReply reports whether err is Redis's answer rather than a
// failed connection.
func isRedisReply(err error) bool {
	var re *rueidis.RedisError
	return errors.As(err, &re)
}

// backoff spaces reconnection attempts: 50 ms, doubling up to 2 s.
type backoff struct{ next time.Duration }

func newBackoff() *backoff { return &backoff{next: 50 * time.Millisecond} }

func (b *backoff) reset() { b.next = 50 * time.Millisecond }

// sleep waits, or returns false once done is closed.
func (b *backoff) sleep(done <-chan struct{}) bool {
	t := time.NewTimer(b.next)
	defer t.Stop()
	b.next = min(2*b.next, 2*time.Second)
	select {
	case <-t.C:
		return true
	case <-done:
		return false
	}
}
