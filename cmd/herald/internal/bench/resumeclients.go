package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// resumeClient is a subscriber of the resume bench and where it stands
// in the channel's stream.
type resumeClient struct {
	conn   *hconn
	offset uint64
	epoch  string
}

type subscribeResult struct {
	Offset    uint64 `json:"offset"`
	Epoch     string `json:"epoch"`
	Recovered *bool  `json:"recovered"`
	Replayed  *int   `json:"replayed"`
}

// subscribeAll connects n clients and subscribes each to the channel;
// any failure fails the bench (nothing has been measured yet).
func subscribeAll(ctx context.Context, wsURL string, n int) ([]*resumeClient, error) {
	clients := make([]*resumeClient, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			c, err := subscribeOne(ctx, wsURL)
			clients[i] = c
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	if err := errors.Join(collect(errs)...); err != nil {
		for _, c := range clients {
			if c != nil {
				c.conn.close()
			}
		}
		return nil, fmt.Errorf("subscribing the clients: %w", err)
	}
	return clients, nil
}

func collect(errs <-chan error) []error {
	var out []error
	for err := range errs {
		if err != nil && len(out) < 3 {
			out = append(out, err)
		}
	}
	return out
}

func subscribeOne(ctx context.Context, wsURL string) (*resumeClient, error) {
	conn, err := dialHerald(ctx, wsURL)
	if err != nil {
		return nil, err
	}
	var r subscribeResult
	err = conn.send(fmt.Appendf(nil, `{"id":1,"op":"subscribe","channel":%q}`, resumeChannel))
	if err == nil {
		err = conn.reply(1, time.Now().Add(15*time.Second), &r, nil)
	}
	if err == nil && (r.Offset == 0 || r.Epoch == "") {
		err = fmt.Errorf("the subscribe reply has no position (offset %d, epoch %q)", r.Offset, r.Epoch)
	}
	if err != nil {
		conn.close()
		return nil, err
	}
	return &resumeClient{conn: conn, offset: r.Offset, epoch: r.Epoch}, nil
}

// resumeOutcome is how one client's resume went.
type resumeOutcome struct {
	reconnected, recovered bool
	reply, done            time.Duration // since the start of all reconnects
	kind                   string        // what failed: dial, subscribe, recovery, stream
	err                    error
}

// resumeAll reconnects every client, conc at a time, each subscribing
// with since its position, and waits until each has the missed
// publications. It returns each client's outcome and the time until the
// last one had them all.
func resumeAll(ctx context.Context, wsURL string, clients []*resumeClient, missed, conc int, timeout time.Duration) ([]resumeOutcome, time.Duration) {
	out := make([]resumeOutcome, len(clients))
	start := time.Now()
	deadline := start.Add(timeout)
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			out[i] = c.resume(ctx, wsURL, start, deadline, missed)
		}()
	}
	wg.Wait()
	total := time.Since(start)
	for _, c := range clients {
		if c.conn != nil {
			c.conn.close()
		}
	}
	return out, total
}

// resume reconnects one client and reads the missed publications, which
// must follow the reply, in order: offsets one after the other from the
// client's, bench seqs 1, 2, ... missed.
func (c *resumeClient) resume(ctx context.Context, wsURL string, start, deadline time.Time, missed int) (o resumeOutcome) {
	conn, err := dialHerald(ctx, wsURL)
	if err != nil {
		c.conn = nil
		return resumeOutcome{kind: "dial", err: err}
	}
	c.conn = conn
	o.reconnected = true
	cmd := fmt.Appendf(nil, `{"id":1,"op":"subscribe","channel":%q,"since":{"offset":%d,"epoch":%q}}`, resumeChannel, c.offset, c.epoch)
	var r subscribeResult
	if err = conn.send(cmd); err == nil {
		err = conn.reply(1, deadline, &r, func(line []byte) error {
			return fmt.Errorf("a message before the subscribe reply: %s", truncate(line, 120))
		})
	}
	o.reply = time.Since(start)
	if err != nil {
		o.kind, o.err = "subscribe", err
		return o
	}
	if r.Recovered == nil || !*r.Recovered || r.Replayed == nil || *r.Replayed != missed {
		o.kind, o.err = "recovery", fmt.Errorf("recovered %v, replayed %v: want true, %d", deref(r.Recovered), deref(r.Replayed), missed)
		return o
	}
	o.recovered = true
	if err := c.readMissed(deadline, missed); err != nil {
		o.kind, o.err = "stream", err
		return o
	}
	o.done = time.Since(start)
	return o
}

func (c *resumeClient) readMissed(deadline time.Time, missed int) error {
	for i := 1; i <= missed; {
		line, err := c.conn.next(deadline)
		if err != nil {
			return fmt.Errorf("after %d of %d: %w", i-1, missed, err)
		}
		seq, _, ok := ParsePublication(line)
		if !ok {
			continue // not a publication (a ping): not part of the stream
		}
		off, _ := intAfter(line, keyOffset)
		if want := c.offset + uint64(i); uint64(off) != want || seq != int64(i) {
			return fmt.Errorf("publication %d of %d is offset %d seq %d, want offset %d seq %d", i, missed, off, seq, want, i)
		}
		i++
	}
	return nil
}

var keyOffset = []byte(`"offset":`)

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// resumePublisher publishes the resume bench's publications one by one.
type resumePublisher struct {
	srv    *target
	size   int
	client *http.Client
}

func newResumePublisher(srv *target, size int) *resumePublisher {
	return &resumePublisher{srv: srv, size: size, client: apiClient(1)}
}

// publish sends bench seq and returns how many connections got it.
func (p *resumePublisher) publish(ctx context.Context, seq int64) (int64, error) {
	body := AppendPublishBody(nil, resumeChannel, seq, time.Now().UnixNano(), p.size)
	status, answer, _, err := postAPI(ctx, p.client, p.srv.httpURL+"/api/publish", p.srv.apiKey, body)
	if err == nil && status != http.StatusOK {
		err = fmt.Errorf("%d: %s", status, answer)
	}
	if err != nil {
		return 0, fmt.Errorf("publishing seq %d: %w", seq, err)
	}
	delivered, _ := intAfter(answer, keyDelivered)
	return delivered, nil
}

// waitConnections waits until the server counts n connections (it
// notices dropped ones when their reads fail, a moment later).
func waitConnections(ctx context.Context, srv *target, n int, limit time.Duration) error {
	end := time.Now().Add(limit)
	for {
		info, err := srv.info(ctx)
		if err != nil {
			return err
		}
		got, _ := info["connections"].(float64)
		if int(got) == n {
			return nil
		}
		if time.Now().After(end) {
			return fmt.Errorf("the server still counts %.0f connections after %s, want %d", got, limit, n)
		}
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
}
