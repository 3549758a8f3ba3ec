package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// soakLoad publishes to the soak's channels and pushes to its users
// through the HTTP API at steady rates, round robin (the i-th publish is
// seq i/channels+1 of channel i%channels, pushes likewise over the users),
// and keeps the accepted ones for the workers' tables.
type soakLoad struct {
	httpURL, apiKey string
	rate, pushRate  float64 // per second
	channels, users int
	size, conc      int
	client          *http.Client
	mu              sync.Mutex
	pending         []soakEntry // accepted, not yet handed to the workers
	stats           soakLoadStats
	maxLag          time.Duration
}

// soakEntry is one accepted message.
type soakEntry struct {
	kind, stream int
	seq, sentNs  int64
	answered     time.Time
}

// soakLoadStats counts what the load generator did.
type soakLoadStats struct {
	Published int64 `json:"publishes_accepted"`
	Pushed    int64 `json:"pushes_accepted"`
	// Refused got an answer other than 200 (so were not delivered);
	// Failed got none (so may or may not have been).
	Refused    int64   `json:"refused"`
	Failed     int64   `json:"failed"`
	FirstError string  `json:"first_error,omitempty"`
	MaxLagMs   float64 `json:"max_send_lag_ms"` // how far behind the schedule sends got
	RTT        Latency `json:"api_rtt"`
}

type soakJob struct {
	kind, stream int
	seq          int64
}

// run sends until ctx ends, then waits for the answers in flight.
func (l *soakLoad) run(ctx context.Context) {
	l.client = apiClient(l.conc)
	defer l.client.CloseIdleConnections()
	rtt := NewHistogram()
	jobs := make(chan soakJob, l.conc)
	var wg sync.WaitGroup
	for range l.conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for j := range jobs {
				buf = l.send(j, buf, rtt)
			}
		}()
	}
	l.pace(ctx, jobs)
	close(jobs)
	wg.Wait()
	l.mu.Lock()
	l.stats.RTT = summarize(rtt)
	l.stats.MaxLagMs = ms(l.maxLag)
	l.mu.Unlock()
}

// pace hands out jobs on a 10 ms ticker: at every tick, all that are due
// by then. maxLag is the longest it took to hand out a tick's jobs (the
// senders were that far behind the schedule).
func (l *soakLoad) pace(ctx context.Context, jobs chan<- soakJob) {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	start := time.Now()
	var pubs, pushes int64
	for {
		tick := time.Now()
		elapsed := tick.Sub(start).Seconds()
		duePubs, duePushes := int64(elapsed*l.rate), int64(elapsed*l.pushRate)
		for pubs < duePubs || pushes < duePushes {
			for _, j := range l.next(&pubs, duePubs, &pushes, duePushes) {
				select {
				case jobs <- j:
				case <-ctx.Done():
					return
				}
			}
		}
		if lag := time.Since(tick); lag > l.maxLag {
			l.mu.Lock()
			l.maxLag = lag
			l.mu.Unlock()
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}

// next returns the next publish and the next push, of those still due,
// and counts them.
func (l *soakLoad) next(pubs *int64, duePubs int64, pushes *int64, duePushes int64) []soakJob {
	var out []soakJob
	if *pubs < duePubs {
		out = append(out, soakJob{kindPub, int(*pubs % int64(l.channels)), *pubs/int64(l.channels) + 1})
		*pubs++
	}
	if *pushes < duePushes {
		out = append(out, soakJob{kindPush, int(*pushes % int64(l.users)), *pushes/int64(l.users) + 1})
		*pushes++
	}
	return out
}

// send makes one request, reusing buf for its body.
func (l *soakLoad) send(j soakJob, buf []byte, rtt *Histogram) []byte {
	path := "/api/publish"
	if j.kind == kindPush {
		path = "/api/push"
	}
	sent := time.Now()
	buf = appendSoakBody(buf[:0], j.kind, j.stream, j.seq, sent.UnixNano(), l.size)
	req, err := http.NewRequest(http.MethodPost, l.httpURL+path, bytes.NewReader(buf))
	if err != nil {
		l.fail(&l.stats.Failed, err)
		return buf
	}
	req.Header.Set("Authorization", "apikey "+l.apiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := l.client.Do(req)
	if err != nil {
		l.fail(&l.stats.Failed, fmt.Errorf("%s: %w", path, err))
		return buf
	}
	var body [512]byte
	n, _ := io.ReadFull(resp.Body, body[:])
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	now := time.Now()
	rtt.Record(int64(now.Sub(sent)))
	if resp.StatusCode != http.StatusOK {
		l.fail(&l.stats.Refused, fmt.Errorf("%s: %s: %s", path, resp.Status, bytes.TrimSpace(body[:n])))
		return buf
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if j.kind == kindPush {
		l.stats.Pushed++
	} else {
		l.stats.Published++
	}
	l.pending = append(l.pending, soakEntry{j.kind, j.stream, j.seq, sent.UnixNano(), now})
	return buf
}

func (l *soakLoad) fail(counter *int64, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	*counter++
	if l.stats.FirstError == "" {
		l.stats.FirstError = err.Error()
	}
}

// snapshot returns the counts so far.
func (l *soakLoad) snapshot() soakLoadStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stats
}

// takeTable removes the accepted messages answered before cutoff and
// returns them as a workers' table command; "" when there are none.
func (l *soakLoad) takeTable(cutoff time.Time) string {
	l.mu.Lock()
	var take [][4]int64
	keep := l.pending[:0]
	for _, e := range l.pending {
		if e.answered.Before(cutoff) {
			take = append(take, [4]int64{int64(e.kind), int64(e.stream), e.seq, e.sentNs})
		} else {
			keep = append(keep, e)
		}
	}
	l.pending = keep
	l.mu.Unlock()
	if len(take) == 0 {
		return ""
	}
	b, _ := json.Marshal(struct {
		E [][4]int64 `json:"e"`
	}{take})
	return "table " + string(b)
}
