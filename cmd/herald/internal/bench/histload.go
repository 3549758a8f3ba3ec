package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// spreadStats is what a flat-out publisher over many channels did.
type spreadStats struct {
	OK, Errors, Refused int64
	FirstError          string
	Seconds             float64 // from the first send to the last answer
	RTT                 *Histogram
}

// spreadPublisher keeps conc publishes in flight through POST
// /api/publish, each to the next of its channels in turn, for a while.
// Unlike publisher it spreads over channels, so that what is measured is
// the node's publish path (the stream append above all), not one
// channel's ordering.
type spreadPublisher struct {
	url, apiKey string
	channels    []string
	size        int
	client      *http.Client
	next        atomic.Int64
	mu          sync.Mutex
	stats       spreadStats
}

func publishSpread(ctx context.Context, url, apiKey string, channels []string, conc, size int, d time.Duration) spreadStats {
	p := &spreadPublisher{url: url, apiKey: apiKey, channels: channels, size: size, client: apiClient(conc)}
	defer p.client.CloseIdleConnections()
	p.stats.RTT = NewHistogram()
	start := time.Now()
	end := start.Add(d)
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for time.Now().Before(end) && ctx.Err() == nil {
				buf = p.send(ctx, buf)
			}
		}()
	}
	wg.Wait()
	p.stats.Seconds = time.Since(start).Seconds()
	return p.stats
}

func (p *spreadPublisher) send(ctx context.Context, buf []byte) []byte {
	seq := p.next.Add(1)
	now := time.Now()
	ch := p.channels[int(seq-1)%len(p.channels)]
	buf = AppendPublishBody(buf[:0], ch, seq, now.UnixNano(), p.size)
	status, body, retry, err := postAPI(ctx, p.client, p.url, p.apiKey, buf)
	p.stats.RTT.Record(int64(time.Since(now)))
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case err != nil:
		p.failLocked(err)
	case status == http.StatusServiceUnavailable && retry:
		p.stats.Refused++
		p.mu.Unlock()
		_ = sleepCtx(ctx, refusedBackoff)
		p.mu.Lock()
	case status != http.StatusOK:
		p.failLocked(fmt.Errorf("%d: %s", status, bytes.TrimSpace(body)))
	default:
		p.stats.OK++
	}
	return buf
}

func (p *spreadPublisher) failLocked(err error) {
	p.stats.Errors++
	if p.stats.FirstError == "" {
		p.stats.FirstError = err.Error()
	}
}

// postAPI sends one server API request and returns the status, the start
// of the answer and whether it carried Retry-After.
func postAPI(ctx context.Context, client *http.Client, url, apiKey string, body []byte) (int, []byte, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, false, err
	}
	req.Header.Set("Authorization", "apikey "+apiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, false, err
	}
	defer resp.Body.Close()
	var b [512]byte
	n, _ := io.ReadFull(resp.Body, b[:])
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, b[:n], resp.Header.Get("Retry-After") != "", nil
}
