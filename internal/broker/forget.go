package broker

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/rueidis"
)

// ForgetPrefix deletes all a cluster under prefix keeps in the broker at
// rawURL: its Redis keys, or its NATS stream and buckets. Tests and
// benchmarks run each cluster under a prefix of its own, and leave
// nothing behind with it.
func ForgetPrefix(ctx context.Context, rawURL, prefix string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return err
	}
	switch u.Scheme {
	case "nats", "tls":
		return forgetNATS(ctx, rawURL, prefix)
	case "redis", "rediss":
		return forgetRedis(ctx, rawURL, prefix)
	}
	return fmt.Errorf("broker: no broker at %q", rawURL)
}

func forgetNATS(ctx context.Context, rawURL, prefix string) error {
	nc, err := nats.Connect(rawURL)
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	s := natsSubjects{prefix}
	errs := []error{js.DeleteStream(ctx, s.streamName())}
	for _, b := range []string{s.presenceBucket(), s.registryBucket(), s.sessionsBucket()} {
		errs = append(errs, js.DeleteKeyValue(ctx, b))
	}
	for i, e := range errs {
		if errors.Is(e, jetstream.ErrStreamNotFound) || errors.Is(e, jetstream.ErrBucketNotFound) {
			errs[i] = nil
		}
	}
	return errors.Join(errs...)
}

// forgetRedis deletes the keys under prefix on every master.
func forgetRedis(ctx context.Context, rawURL, prefix string) error {
	opt, err := redisClientOption(rawURL)
	if err != nil {
		return err
	}
	c, err := rueidis.NewClient(opt)
	if err != nil {
		return err
	}
	defer c.Close()
	for _, node := range c.Nodes() {
		var cursor uint64
		for {
			e, err := node.Do(ctx, node.B().Scan().Cursor(cursor).Match(prefix+":*").Count(1000).Build()).AsScanEntry()
			if err != nil {
				return err
			}
			for _, k := range e.Elements {
				if err := c.Do(ctx, c.B().Unlink().Key(k).Build()).Error(); err != nil {
					return err
				}
			}
			if cursor = e.Cursor; cursor == 0 {
				break
			}
		}
	}
	return nil
}
