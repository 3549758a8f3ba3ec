package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// pubStats is what the publisher did.
type pubStats struct {
	MaxSeq     int64     // highest seq attempted; seqs are 1..MaxSeq
	OK         int64     // publishes answered 200
	Errors     int64     // publishes that failed
	Refused    int64     // publishes the node refused with 503 (back-pressure)
	FirstError string    // the first failure
	Delivered  int64     // sum of "delivered" in the API's answers
	FirstSend  time.Time // when seq 1 left
	LastSend   time.Time // when the last publish left
	MaxLag     time.Duration
	RTT        *Histogram // HTTP round trip of each publish
}

// publishConfig says what to publish.
type publishConfig struct {
	// urls are the publish endpoints (POST /api/publish of each node):
	// seq goes to urls[seq mod len], round robin over the nodes.
	urls            []string
	apiKey, channel string
	event           string        // "" leaves it to the server (herald: "message")
	rate            int           // publishes per second; 0: as fast as the API answers
	duration        time.Duration // how long to publish
	size            int           // bytes of each publication's data
	conc            int           // HTTP connections (requests in flight at most)
}

type publisher struct {
	cfg    publishConfig
	client *http.Client
	mu     sync.Mutex
	stats  pubStats
}

// publish sends publications through POST /api/publish, paced at
// cfg.rate, for cfg.duration, and returns when the last answer is in.
func publish(ctx context.Context, cfg publishConfig) pubStats {
	// Up to conc connections to each node: at most conc are busy at
	// once, but an idle pool smaller than that would close and reopen
	// them as the senders go round the nodes.
	client := apiClient(cfg.conc * len(cfg.urls))
	defer client.CloseIdleConnections()
	p := &publisher{cfg: cfg, client: client}
	p.stats.RTT = NewHistogram()
	if cfg.rate > 0 {
		p.paced(ctx)
	} else {
		p.flatOut(ctx)
	}
	return p.stats
}

// paced hands seqs to cfg.conc senders on a ticker: at every tick, as many
// as are due by then, so rates above the ticker's resolution keep up too.
// A seq is stamped when it is sent, not when it was due; MaxLag says how
// far behind schedule the sends got.
func (p *publisher) paced(ctx context.Context) {
	total := int64(float64(p.cfg.rate) * p.cfg.duration.Seconds())
	if total < 1 {
		total = 1
	}
	jobs := make(chan int64, p.cfg.conc)
	var wg sync.WaitGroup
	for range p.cfg.conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for seq := range jobs {
				buf = p.send(ctx, seq, buf)
			}
		}()
	}
	period := max(time.Second/time.Duration(p.cfg.rate), time.Millisecond)
	t := time.NewTicker(period)
	defer t.Stop()
	start := time.Now()
	hardStop := time.NewTimer(p.cfg.duration + 30*time.Second) // a stuck server must not hold us forever
	defer hardStop.Stop()
	var seq int64
loop:
	for seq < total {
		elapsed := time.Since(start)
		due := min(int64(elapsed.Seconds()*float64(p.cfg.rate))+1, total)
		for seq < due {
			select {
			case jobs <- seq + 1:
				seq++
				lag := time.Since(start) - time.Duration(float64(seq-1)/float64(p.cfg.rate)*float64(time.Second))
				if lag > p.stats.MaxLag {
					p.mu.Lock()
					p.stats.MaxLag = lag
					p.mu.Unlock()
				}
			case <-ctx.Done():
				break loop
			case <-hardStop.C:
				break loop
			}
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			break loop
		}
	}
	close(jobs)
	wg.Wait()
}

// flatOut keeps cfg.conc requests in flight until cfg.duration is over.
func (p *publisher) flatOut(ctx context.Context) {
	var next atomic.Int64
	end := time.Now().Add(p.cfg.duration)
	var wg sync.WaitGroup
	for range p.cfg.conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for time.Now().Before(end) && ctx.Err() == nil {
				buf = p.send(ctx, next.Add(1), buf)
			}
		}()
	}
	wg.Wait()
}

// apiClient is an HTTP client for the server API with at most conc
// connections, kept open between requests.
func apiClient(conc int) *http.Client {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        conc,
		MaxIdleConnsPerHost: conc,
		MaxConnsPerHost:     conc,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

var keyDelivered = []byte(`"delivered":`)

// send publishes one seq, reusing buf for the body.
func (p *publisher) send(ctx context.Context, seq int64, buf []byte) []byte {
	now := time.Now()
	buf = AppendPublishBodyEvent(buf[:0], p.cfg.channel, p.cfg.event, seq, now.UnixNano(), p.cfg.size)
	p.mu.Lock()
	p.stats.MaxSeq = max(p.stats.MaxSeq, seq)
	if p.stats.FirstSend.IsZero() || now.Before(p.stats.FirstSend) {
		p.stats.FirstSend = now
	}
	if now.After(p.stats.LastSend) {
		p.stats.LastSend = now
	}
	p.mu.Unlock()

	url := p.cfg.urls[int(seq%int64(len(p.cfg.urls)))]
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(buf))
	if err != nil {
		p.fail(err)
		return buf
	}
	req.Header.Set("Authorization", "apikey "+p.cfg.apiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		p.fail(err)
		return buf
	}
	var body [512]byte
	n, _ := io.ReadFull(resp.Body, body[:])
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	p.stats.RTT.Record(int64(time.Since(now)))
	if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "" {
		p.refused(ctx)
		return buf
	}
	if resp.StatusCode != http.StatusOK {
		p.fail(fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(body[:n])))
		return buf
	}
	delivered, _ := intAfter(body[:n], keyDelivered)
	p.mu.Lock()
	p.stats.OK++
	p.stats.Delivered += delivered
	p.mu.Unlock()
	return buf
}

// refusedBackoff is how long a sender waits after a back-pressure
// refusal. Retry-After says a second; a publisher tuned for throughput
// tries again sooner, and the node refuses it again until fan-out has
// caught up, which is what the bench measures. The seq is not retried:
// a refused publish is answered, not lost.
const refusedBackoff = 10 * time.Millisecond

func (p *publisher) refused(ctx context.Context) {
	p.mu.Lock()
	p.stats.Refused++
	p.mu.Unlock()
	_ = sleepCtx(ctx, refusedBackoff)
}

func (p *publisher) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stats.Errors++
	if p.stats.FirstError == "" {
		p.stats.FirstError = err.Error()
	}
}
