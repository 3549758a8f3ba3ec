// redisclient measures rueidis and go-redis on what herald's Redis broker
// does on its hot path: a publish script (offset from a hash, XADD,
// PUBLISH) called from many goroutines at once, and publications received
// on one subscriber connection.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"
)

var (
	client   = flag.String("client", "rueidis", "rueidis | goredis (connection pool) | goredis-ap (go-redis AutoPipeline)")
	mode     = flag.String("mode", "publish", "publish (the script from -c goroutines) | receive (one subscriber, redis-benchmark publishes)")
	addr     = flag.String("addr", "127.0.0.1:6379", "Redis address")
	n        = flag.Int("n", 200000, "publications")
	conc     = flag.Int("c", 64, "publishing goroutines")
	channels = flag.Int("channels", 1000, "channels the publications spread over")
	size     = flag.Int("size", 200, "record bytes")
	pool     = flag.Int("pool", 0, "goredis: connection pool size (0: the library's default)")
)

// publishScript is the broker's publish in miniature: the next offset and
// the epoch from the channel's hash, the record into its stream under that
// offset, then the record with its position to the channel's subscribers.
const publishScript = `
local top = redis.call('hincrby', KEYS[1], 'o', 1)
local epoch = redis.call('hget', KEYS[1], 'e')
if not epoch then
  epoch = ARGV[3]
  redis.call('hset', KEYS[1], 'e', epoch)
end
redis.call('xadd', KEYS[2], 'MAXLEN', '~', ARGV[4], top .. '-0', 'r', ARGV[2])
redis.call('expire', KEYS[1], 86400)
redis.call('expire', KEYS[2], 86400)
redis.call('publish', ARGV[1], top .. ' ' .. epoch .. ' ' .. ARGV[2])
return top
`

// publisher runs the script once for channel i.
type publisher interface {
	publish(ctx context.Context, i int, rec string) error
	close()
}

// subscriber counts messages on one channel over one connection.
type subscriber interface {
	subscribe(ctx context.Context, ch string, got func()) error
	close()
}

func main() {
	flag.Parse()
	prefix := fmt.Sprintf("rcb:%d:%d", os.Getpid(), time.Now().UnixNano())
	rec := strings.Repeat("x", *size)
	switch *mode {
	case "publish":
		runPublish(newPublisher(prefix), rec)
	case "receive":
		runReceive(newSubscriber(), prefix+":sub", rec)
	default:
		log.Fatalf("unknown mode %q", *mode)
	}
	cleanup(prefix)
}

func runPublish(p publisher, rec string) {
	defer p.close()
	ctx := context.Background()
	if err := p.publish(ctx, 0, rec); err != nil { // loads the script
		log.Fatal(err)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	before := memStats()
	start := time.Now()
	for g := 0; g < *conc; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= int64(*n); i = next.Add(1) {
				if err := p.publish(ctx, int(i)%*channels, rec); err != nil {
					log.Fatal(err)
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	after := memStats()
	fmt.Printf("%s publish c=%d n=%d channels=%d size=%d: %.0f publishes/s, %.1f allocs/op, %.0f B/op\n",
		name(), *conc, *n, *channels, *size, float64(*n)/el.Seconds(),
		float64(after.Mallocs-before.Mallocs)/float64(*n), float64(after.TotalAlloc-before.TotalAlloc)/float64(*n))
}

// runReceive has redis-benchmark (another process, so it costs this one
// nothing) publish n messages as fast as Redis takes them, and times their
// arrival on one subscribed connection.
func runReceive(s subscriber, ch, rec string) {
	defer s.close()
	var got atomic.Int64
	done := make(chan struct{})
	var first, last time.Time
	err := s.subscribe(context.Background(), ch, func() {
		switch got.Add(1) {
		case 1:
			first = time.Now()
		case int64(*n):
			last = time.Now()
			close(done)
		}
	})
	if err != nil {
		log.Fatal(err)
	}
	before := memStats()
	start := time.Now()
	host, port, _ := strings.Cut(*addr, ":")
	cmd := exec.Command("redis-benchmark", "-h", host, "-p", port, "-n", strconv.Itoa(*n), "-c", "4", "-P", "100", "-q",
		"PUBLISH", ch, rec)
	if out, err := cmd.CombinedOutput(); err != nil {
		log.Fatalf("redis-benchmark: %v: %s", err, out)
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		log.Fatalf("received %d of %d", got.Load(), *n)
	}
	after := memStats()
	fmt.Printf("%s receive n=%d size=%d: %.0f messages/s (first to last %.0f/s), %.1f allocs/msg, %.0f B/msg\n",
		name(), *n, *size, float64(*n)/last.Sub(start).Seconds(), float64(*n-1)/last.Sub(first).Seconds(),
		float64(after.Mallocs-before.Mallocs)/float64(*n), float64(after.TotalAlloc-before.TotalAlloc)/float64(*n))
}

func name() string {
	if *client == "goredis" && *pool > 0 {
		return fmt.Sprintf("goredis(pool=%d)", *pool)
	}
	return *client
}

func memStats() runtime.MemStats {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m
}

func keys(prefix string, i int) []string {
	tag := "{" + prefix + ":" + strconv.Itoa(i) + "}"
	return []string{tag + ":m", tag + ":s"}
}

func args(prefix string, i int, rec string) []string {
	return []string{prefix + ":c:" + strconv.Itoa(i), rec, "e1", "100"}
}

func newPublisher(prefix string) publisher {
	switch *client {
	case "rueidis":
		return &rueidisPublisher{c: newRueidis(), s: rueidis.NewLuaScript(publishScript), prefix: prefix}
	case "goredis", "goredis-ap":
		g := newGoredis()
		p := &goredisPublisher{c: g, s: goredis.NewScript(publishScript), prefix: prefix, run: g}
		if *client == "goredis-ap" {
			ap, err := g.AutoPipeline()
			if err != nil {
				log.Fatal(err)
			}
			p.run = ap
		}
		return p
	}
	log.Fatalf("unknown client %q", *client)
	return nil
}

func newSubscriber() subscriber {
	switch *client {
	case "rueidis":
		return &rueidisSubscriber{c: newRueidis()}
	case "goredis", "goredis-ap":
		return &goredisSubscriber{c: newGoredis()}
	}
	log.Fatalf("unknown client %q", *client)
	return nil
}

func newRueidis() rueidis.Client {
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{*addr}, DisableCache: true})
	if err != nil {
		log.Fatal(err)
	}
	return c
}

func newGoredis() *goredis.Client {
	return goredis.NewClient(&goredis.Options{Addr: *addr, PoolSize: *pool})
}

type rueidisPublisher struct {
	c      rueidis.Client
	s      *rueidis.Lua
	prefix string
}

func (p *rueidisPublisher) publish(ctx context.Context, i int, rec string) error {
	return p.s.Exec(ctx, p.c, keys(p.prefix, i), args(p.prefix, i, rec)).Error()
}

func (p *rueidisPublisher) close() { p.c.Close() }

type goredisPublisher struct {
	c      *goredis.Client
	run    goredis.Scripter
	s      *goredis.Script
	prefix string
}

func (p *goredisPublisher) publish(ctx context.Context, i int, rec string) error {
	a := args(p.prefix, i, rec)
	return p.s.Run(ctx, p.run, keys(p.prefix, i), a[0], a[1], a[2], a[3]).Err()
}

func (p *goredisPublisher) close() { _ = p.c.Close() }

type rueidisSubscriber struct {
	c      rueidis.Client
	cancel func()
}

// subscribe uses a dedicated connection with hooks, as a broker that
// subscribes and unsubscribes channels as it goes would.
func (s *rueidisSubscriber) subscribe(ctx context.Context, ch string, got func()) error {
	d, cancel := s.c.Dedicate()
	s.cancel = cancel
	d.SetPubSubHooks(rueidis.PubSubHooks{OnMessage: func(rueidis.PubSubMessage) { got() }})
	return d.Do(ctx, d.B().Subscribe().Channel(ch).Build()).Error()
}

func (s *rueidisSubscriber) close() {
	s.cancel()
	s.c.Close()
}

type goredisSubscriber struct {
	c  *goredis.Client
	ps *goredis.PubSub
}

// subscribe waits for Redis's confirmation, as a broker must, then reads
// on its own goroutine.
func (s *goredisSubscriber) subscribe(ctx context.Context, ch string, got func()) error {
	s.ps = s.c.Subscribe(ctx, ch)
	if _, err := s.ps.Receive(ctx); err != nil {
		return err
	}
	go func() {
		for {
			msg, err := s.ps.Receive(context.Background())
			if err != nil {
				return
			}
			if _, ok := msg.(*goredis.Message); ok {
				got()
			}
		}
	}()
	return nil
}

func (s *goredisSubscriber) close() {
	_ = s.ps.Close()
	_ = s.c.Close()
}

// cleanup deletes the keys a publish run made.
func cleanup(prefix string) {
	c := goredis.NewClient(&goredis.Options{Addr: *addr})
	defer c.Close()
	ctx := context.Background()
	iter := c.Scan(ctx, 0, "{"+prefix+":*", 1000).Iterator()
	var batch []string
	for iter.Next(ctx) {
		if batch = append(batch, iter.Val()); len(batch) == 500 {
			c.Del(ctx, batch...)
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		c.Del(ctx, batch...)
	}
}
