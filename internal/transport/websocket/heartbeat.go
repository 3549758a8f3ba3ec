package websocket

import "time"

// heartbeat pings connections that have gone quiet and drops those that do
// not answer. One goroutine serves every connection, so an idle connection
// costs no timer and no goroutine of its own.
func (e *Engine) heartbeat() {
	defer e.wg.Done()
	t := time.NewTicker(e.beatPeriod())
	defer t.Stop()
	for {
		select {
		case <-e.done:
			return
		case now := <-t.C:
			e.beat(now.UnixNano())
		}
	}
}

// beatPeriod checks often enough to keep the configured times to within a
// quarter, and at most once a second.
func (e *Engine) beatPeriod() time.Duration {
	p := min(e.cfg.PingInterval, e.cfg.PongTimeout) / 4
	return max(min(p, time.Second), 5*time.Millisecond)
}

func (e *Engine) beat(now int64) {
	interval, timeout := int64(e.cfg.PingInterval), int64(e.cfg.PongTimeout)
	var due, dead, stuck []*Conn
	e.conns.each(func(c *Conn) {
		sent, last := c.pingSent.Load(), c.lastRead.Load()
		// A closing connection was already failed (or is ending anyway).
		if p := c.partialSince.Load(); p != 0 && now-p > interval+timeout && c.state.Load() == stateOpen {
			stuck = append(stuck, c)
			return
		}
		switch {
		case sent != 0 && last < sent:
			if now-sent > timeout {
				dead = append(dead, c)
			}
		case now-max(last, sent) >= interval:
			due = append(due, c)
		}
	})
	for _, c := range dead {
		if c.closing() {
			// Its close frame, ours or the one below, had a beat to leave;
			// a peer this silent will not answer it.
			c.abort()
			continue
		}
		e.stats.HeartbeatTimeouts.Add(1)
		c.dropUnresponsive()
	}
	for _, c := range stuck {
		c.fail(&closeError{ClosePolicyViolation, "message not completed in time"})
	}
	for _, c := range due {
		c.pingSent.Store(now)
		c.sendControl(pingFrame)
	}
}

// dropUnresponsive ends a connection whose peer did not answer a ping:
// a close frame 1011 "ping timeout" goes out, best effort, with no
// farewell (the peer is not listening), and the next beat drops the
// socket unless the peer answered the close first. 1011 ("unexpected
// condition") is the code the Python websockets library sends for a
// keepalive timeout; clients reconnect after it.
func (c *Conn) dropUnresponsive() {
	c.startClose(CloseInternalError, PingTimeoutReason, CloseInternalError, PingTimeoutReason, nil)
}

// PingTimeoutReason is the reason of the close (code 1011) that ends a
// connection whose peer did not answer a ping.
const PingTimeoutReason = "ping timeout"
