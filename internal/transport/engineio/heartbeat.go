package engineio

import (
	"time"

	eio "github.com/heraldhq/herald/internal/protocol/eioproto"
	"github.com/heraldhq/herald/internal/transport/websocket"
)

// scanPeriod checks often enough to keep every configured time to within a
// quarter, at most once a second and at least every 5ms.
func scanPeriod(cfg Config) time.Duration {
	p := min(cfg.PingInterval, cfg.PingTimeout, cfg.UpgradeTimeout) / 4
	return max(min(p, time.Second), 5*time.Millisecond)
}

// heartbeat is the server's only timer: one goroutine scanning every
// session for a due ping, a missed pong, an unfinished upgrade or an
// unanswered close, so an idle session costs no timer and no goroutine.
func (srv *Server) heartbeat() {
	defer srv.wg.Done()
	t := time.NewTicker(srv.tick)
	defer t.Stop()
	var sc scan
	for {
		select {
		case <-srv.done:
			return
		case <-t.C:
			srv.beat(&sc, srv.now())
		}
	}
}

// scan holds one beat's findings; reused across beats.
type scan struct {
	ping, dead, upgrade, closing, flush []*Session
}

// beat acts on everything due at now. Sessions are collected under the
// registry's shard locks and acted on after, since acting may remove them.
func (srv *Server) beat(sc *scan, now int64) {
	srv.sessions.each(func(s *Session) {
		switch s.state.Load() {
		case stateOpen:
			if d := s.pingDeadline.Load(); d != 0 {
				if now >= d {
					sc.dead = append(sc.dead, s)
				}
			} else if now >= s.nextPing.Load() {
				sc.ping = append(sc.ping, s)
			}
			if d := s.upgradeDeadline.Load(); d != 0 && now >= d {
				sc.upgrade = append(sc.upgrade, s)
			}
		case stateClosing:
			if d := s.closeDeadline.Load(); d != 0 && now >= d {
				sc.closing = append(sc.closing, s)
			}
		}
	})
	for _, s := range sc.dead {
		s.stats().HeartbeatTimeouts.Add(1)
		s.finish(ReasonPingTimeout, eio.Close, websocket.CloseNormal)
	}
	for _, s := range sc.closing {
		s.finish(s.closeReason(), eio.Close, websocket.CloseNormal)
	}
	for _, s := range sc.upgrade {
		s.expireUpgrade(now)
	}
	timeout := int64(srv.cfg.PingTimeout)
	for _, s := range sc.ping {
		// Deadline first, so a pong can never precede it.
		s.pingDeadline.Store(now + timeout)
		if needsFlush, _ := s.enqueue(eio.Ping, nil, false, pingFrame); needsFlush {
			sc.flush = append(sc.flush, s)
		}
	}
	// Queue every ping, then flush: one write per connection.
	for _, s := range sc.flush {
		s.Flush()
	}
	for _, l := range []*[]*Session{&sc.ping, &sc.dead, &sc.upgrade, &sc.closing, &sc.flush} {
		clear(*l)
		*l = (*l)[:0]
	}
}
