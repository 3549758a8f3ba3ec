package bench

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// A soak worker's slots: each holds one connection at a time, opened at
// the start, closed and reopened by the churn, reopened after the server
// closed it.

func (w *soakWorker) dialAll(ctx context.Context) {
	var wg sync.WaitGroup
	for i := range w.f.conns {
		select {
		case w.dialSem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return
		}
		wg.Add(1)
		go func() {
			defer func() { <-w.dialSem; wg.Done() }()
			w.connect(ctx, i)
		}()
	}
	wg.Wait()
}

// connect opens slot i's connection, trying three times.
func (w *soakWorker) connect(ctx context.Context, i int) {
	var err error
	for attempt := range 3 {
		if attempt > 0 && sleepCtx(ctx, time.Duration(attempt)*200*time.Millisecond) != nil {
			return
		}
		var c *soakConn
		if c, err = w.dialLife(ctx, w.f.firstSlot+i); err == nil {
			w.adopt(i, c)
			return
		}
		if ctx.Err() != nil {
			return
		}
	}
	w.mu.Lock()
	w.failed++
	if w.firstError == "" {
		w.firstError = err.Error()
	}
	w.mu.Unlock()
}

// adopt makes c slot i's open connection and starts reading it.
func (w *soakWorker) adopt(i int, c *soakConn) {
	w.mu.Lock()
	defer w.mu.Unlock()
	select {
	case <-w.done:
		c.close()
		return
	default:
	}
	w.lives = append(w.lives, c.life)
	w.open[i] = c
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		byServer, err := c.read()
		if byServer {
			w.lost(i, c, err)
		}
	}()
}

// lost handles a connection the server or the network ended: it counts,
// and the slot reconnects a second later, as a client would.
func (w *soakWorker) lost(i int, c *soakConn, err error) {
	c.life.end(lifeClosedByServer)
	w.mu.Lock()
	w.serverClosed++
	if w.firstError == "" {
		w.firstError = "closed by the server: " + err.Error()
	}
	if w.open[i] == c {
		w.open[i] = nil
	}
	w.mu.Unlock()
	w.reconnectLater(i, time.Second)
}

// reconnectLater reopens slot i after wait, unless the worker is quiet.
func (w *soakWorker) reconnectLater(i int, wait time.Duration) {
	if w.quiet.Load() {
		return
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		select {
		case <-w.done:
			return
		case <-time.After(wait):
		}
		select {
		case w.dialSem <- struct{}{}:
		case <-w.done:
			return
		}
		defer func() { <-w.dialSem }()
		if !w.quiet.Load() {
			w.connect(w.ctx, i)
		}
	}()
}

// churnLoop closes and reopens f.churn percent of the connections a
// minute, a few every second, until the worker is quiet.
func (w *soakWorker) churnLoop() {
	defer w.wg.Done()
	if w.f.churn <= 0 {
		return
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	perSecond := float64(w.f.conns) * w.f.churn / 100 / 60
	due := 0.0
	for {
		select {
		case <-w.done:
			return
		case <-t.C:
		}
		if w.quiet.Load() {
			return
		}
		due += perSecond
		for ; due >= 1; due-- {
			w.churnOne()
		}
	}
}

// churnOne closes one open connection chosen at random and reopens its
// slot.
func (w *soakWorker) churnOne() {
	w.mu.Lock()
	i, c := -1, (*soakConn)(nil)
	for range 8 { // a slot being redialed is skipped; try a few
		j := rand.IntN(len(w.open))
		if w.open[j] != nil {
			i, c = j, w.open[j]
			break
		}
	}
	if c != nil {
		w.open[i] = nil
		w.churned++
	}
	w.mu.Unlock()
	if c == nil {
		return
	}
	c.close()
	w.reconnectLater(i, 0)
}

// shutdown closes every connection and waits for the readers and the
// reconnects to end.
func (w *soakWorker) shutdown() {
	w.quiet.Store(true)
	w.mu.Lock()
	close(w.done)
	open := slices.Clone(w.open)
	w.mu.Unlock()
	for _, c := range open {
		if c != nil {
			c.close()
		}
	}
	w.wg.Wait()
}
