package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald/internal/core"
)

// In a cluster a client whose transport dropped may come back through
// any node. A private id starts with the id of the node that made it;
// a node given a pid it holds no socket for asks that node alone, which
// hands the kept socket over once (its rooms' positions in their streams
// and the emits to it alone that its log holds) and ends it, remembering
// where it went for recovery_window: a client that moves again is
// followed there, a few nodes at most. The new node gives the socket back
// as one saved before a restart (persist.go), the CONNECT being checked
// as a new one's. A socket in a room whose channel keeps no stream is not
// handed over: only the old node saw that room's broadcasts.

const opHandover = "sio.handover"

const (
	// handoverTimeout bounds one node's answer; the CONNECT waits for it.
	// A node that is shutting down answers once it has stored its
	// sockets (within storeTimeout, but quickly for all but many).
	handoverTimeout = 2 * time.Second
	// storeTimeout bounds storing the sockets at shutdown, and
	// storeWorkers are the puts in flight.
	storeTimeout = 5 * time.Second
	storeWorkers = 32
	// maxHandoverHops bounds how many nodes a socket is followed through.
	maxHandoverHops = 4
	// maxHandovers bounds the CONNECTs a node waits on other nodes for at
	// once; past it a CONNECT goes on as a new socket's.
	maxHandovers = 256
)

// handoverArgs ask a node for the socket kept under PID in namespace Nsp,
// for a client that has every event up to After, moving to node To.
type handoverArgs struct {
	PID   string `json:"pid"`
	Nsp   string `json:"nsp"`
	After uint64 `json:"after"`
	To    string `json:"to"`
}

// handoverReply is the socket, or the node it went to, or word that the
// node is shutting down and has stored its sockets in the shared broker.
type handoverReply struct {
	Session *savedSession `json:"session,omitempty"`
	Moved   string        `json:"moved,omitempty"`
	Stored  bool          `json:"stored,omitempty"`
}

// handoffs remembers, by pid, the node each socket handed over went to.
type handoffs struct {
	mu  sync.Mutex
	to  map[string]handoff
	sem chan struct{} // the CONNECTs waiting on other nodes
}

type handoff struct {
	node string
	at   time.Time
}

func (h *handoffs) init() {
	h.to = map[string]handoff{}
	h.sem = make(chan struct{}, maxHandovers)
}

func (h *handoffs) note(pid, node string) {
	h.mu.Lock()
	h.to[pid] = handoff{node: node, at: time.Now()}
	h.mu.Unlock()
}

func (h *handoffs) lookup(pid string) (string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ho, ok := h.to[pid]
	return ho.node, ok
}

// forget drops what is older than cutoff: its client can no longer
// recover.
func (h *handoffs) forget(cutoff time.Time) {
	h.mu.Lock()
	for pid, ho := range h.to {
		if ho.at.Before(cutoff) {
			delete(h.to, pid)
		}
	}
	h.mu.Unlock()
}

// newPID returns a private id: in a cluster, led by this node's id.
func (srv *Server) newPID() string {
	if srv.core.Clustered() {
		return srv.core.ID() + randomID()
	}
	return randomID()
}

// handOver answers another node's handoverArgs.
func (srv *Server) handOver(ctx context.Context, raw json.RawMessage) (any, error) {
	var a handoverArgs
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, err
	}
	if srv.closing.Load() {
		// Its sockets go to the shared broker: answer once they are there.
		select {
		case <-srv.sessions.written:
		case <-ctx.Done():
		}
		return handoverReply{Stored: true}, nil
	}
	if n := srv.existing(a.Nsp); n != nil {
		if s := srv.recovery.take(a.PID, n); s != nil {
			ss := s.handOff(a.After)
			srv.handoffs.note(a.PID, a.To)
			return handoverReply{Session: ss}, nil
		}
	}
	if to, ok := srv.handoffs.lookup(a.PID); ok {
		return handoverReply{Moved: to}, nil
	}
	return handoverReply{}, nil
}

// handOff ends the socket, kept for recovery, for good and returns it as
// its client's next node needs it: nil if the client may not have it
// back (its token expired, the window passed, its log no longer holds
// every event after the client's offset) or it cannot be recovered there.
func (s *Socket) handOff(after uint64) *savedSession {
	var ss *savedSession
	s.end("transport close", func(prev int32, _ string) {
		o := &s.out
		if prev == socketRecoverable && !s.client.Expired() && after >= o.trimmed && after <= o.last() &&
			time.Since(s.disconnectedSince()) <= s.srv.cfg.RecoveryWindow {
			ss = s.snapshot(s.disconnectedSince(), after)
		}
	})
	return ss
}

// holderOf names the node to ask for the socket a CONNECT payload's pid
// names, when this node has none and the client may recover: the node
// that made the pid, or the one this node handed the socket to.
func (srv *Server) holderOf(n *Namespace, auth []byte) (handoverArgs, string, bool) {
	var a connectAuth
	own := srv.core.ID()
	if !srv.core.Clustered() || !srv.recoveryOn() || json.Unmarshal(auth, &a) != nil ||
		len(a.PID) != len(own)+socketIDLen || srv.recovery.holds(a.PID) {
		return handoverArgs{}, "", false
	}
	after, err := strconv.ParseUint(a.Offset, 36, 64)
	if err != nil {
		return handoverArgs{}, "", false
	}
	node := a.PID[:len(own)]
	if node == own {
		if node, ok := srv.handoffs.lookup(a.PID); ok && node != own {
			return handoverArgs{PID: a.PID, Nsp: n.name, After: after, To: own}, node, true
		}
		return handoverArgs{}, "", false
	}
	return handoverArgs{PID: a.PID, Nsp: n.name, After: after, To: own}, node, true
}

// fetchSession asks node, and the nodes it points to, for the socket,
// and the shared broker when the trail ends at a node that is gone or
// going (it stored its sockets as it shut down); nil when none has it.
func (srv *Server) fetchSession(ctx context.Context, a handoverArgs, node string) *savedSession {
	ss, stored := srv.followHandoffs(ctx, a, node)
	if ss == nil && stored {
		ss = srv.takeStored(ctx, a)
	}
	if ss == nil || ss.Namespace != a.Nsp || !srv.givesBack(ss, a.After) {
		return nil
	}
	return ss
}

// followHandoffs asks node, and the nodes it points to, for the socket.
// stored says the trail ended at a node that did not answer or is
// shutting down: the socket may be in the shared broker.
func (srv *Server) followHandoffs(ctx context.Context, a handoverArgs, node string) (ss *savedSession, stored bool) {
	seen := map[string]bool{srv.core.ID(): true}
	for range maxHandoverHops {
		if seen[node] {
			return nil, false
		}
		seen[node] = true
		if !srv.core.NodeLive(ctx, node) {
			return nil, true
		}
		raw, err := srv.core.AskNode(ctx, node, opHandover, a, handoverTimeout)
		var r handoverReply
		if err == nil {
			err = json.Unmarshal(raw, &r)
		}
		switch {
		case errors.Is(err, core.ErrNoAnswer):
			return nil, true
		case err != nil:
			if ctx.Err() == nil {
				srv.core.Log().Warn("socket.io: asking a node for a socket to recover", "node", node, "err", err)
			}
			return nil, false
		case r.Session != nil || r.Stored || r.Moved == "":
			return r.Session, r.Stored
		}
		node = r.Moved
	}
	return nil, false
}

// takeStored takes the socket from the shared broker.
func (srv *Server) takeStored(ctx context.Context, a handoverArgs) *savedSession {
	b, err := srv.core.TakeSession(ctx, a.PID)
	if err != nil || b == nil {
		return nil
	}
	var ss savedSession
	if err := json.Unmarshal(b, &ss); err != nil {
		srv.core.Log().Warn("socket.io: a stored socket that does not decode", "err", err)
		return nil
	}
	return &ss
}

// storeSessions puts the sockets the shutdown saved in the shared
// broker, for whichever node their clients come back through, each for
// what is left of its recovery window.
func (srv *Server) storeSessions(ctx context.Context, list []*savedSession) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	work := make(chan *savedSession)
	var failed atomic.Int64
	var wg sync.WaitGroup
	for range storeWorkers {
		wg.Go(func() {
			for ss := range work {
				ttl := srv.cfg.RecoveryWindow - time.Since(time.Unix(0, ss.Gone))
				b, err := json.Marshal(ss)
				if ttl <= 0 || err != nil {
					continue
				}
				if srv.core.KeepSession(ctx, ss.PID, b, ttl) != nil {
					failed.Add(1)
				}
			}
		})
	}
	for _, ss := range list {
		work <- ss
	}
	close(work)
	wg.Wait()
	if n := failed.Load(); n > 0 {
		srv.core.Log().Error("socket.io: storing sockets for recovery on another node", "failed", n, "of", len(list))
	}
}
