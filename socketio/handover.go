package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/heraldhq/herald/internal/core"
)

// In a cluster a client whose transport dropped may come back through
// any node. A private id starts with the id of the node that made it. A
// node given a pid it holds no socket for asks that node, which hands
// its kept socket over once (where its client stands in each room's
// stream, and the emits to it alone that its log holds) and ends it.
// When that node no longer has it, the shared broker may: a node keeping
// a socket that came from elsewhere notes there, at each drop, that it
// has it; a node that shuts down stores its sockets there. The new node
// gives the socket back as one saved before a restart (persist.go), the
// CONNECT being checked as a new one's. A socket in a room whose channel
// keeps no stream is not handed over: only its node saw that room's
// broadcasts.

const opHandover = "sio.handover"

const (
	// handoverTimeout bounds one node's answer; the CONNECT waits for it.
	handoverTimeout = 2 * time.Second
	// storeTimeout bounds storing the sockets at shutdown, and the wait of
	// a CONNECT for one of them; storeWorkers are the puts in flight.
	storeTimeout = 5 * time.Second
	storeWorkers = 32
	// maxHandovers bounds the CONNECTs a node waits on the cluster for at
	// once; past it a CONNECT goes on as a new socket's.
	maxHandovers = 256
	// maxCarriedBytes bounds the emits a handed-over socket carries, well
	// under a broker message's size (NATS: 1 MiB by default).
	maxCarriedBytes = 256 << 10
)

// handoverArgs ask a node for the socket kept under PID in namespace Nsp,
// for a client that has every event up to After.
type handoverArgs struct {
	PID   string `json:"pid"`
	Nsp   string `json:"nsp"`
	After uint64 `json:"after"`
}

// handoverReply is the socket, or word that the node is shutting down
// and may yet store it in the shared broker.
type handoverReply struct {
	Session *savedSession `json:"session,omitempty"`
	Stored  bool          `json:"stored,omitempty"`
	// Refused says the node had the socket but its client may not have
	// it back (see handOff); it is gone.
	Refused bool `json:"refused,omitempty"`
}

// storedSocket is what the shared broker keeps under a pid: the socket a
// node saved as it shut down, or the node keeping it.
type storedSocket struct {
	Session *savedSession `json:"session,omitempty"`
	Node    string        `json:"node,omitempty"`
}

// newPID returns a private id: in a cluster, led by this node's id.
func (srv *Server) newPID() string {
	if srv.core.Clustered() {
		return srv.core.ID() + randomID()
	}
	return randomID()
}

// pidNode is the node that made pid, if pid has a cluster pid's shape.
func (srv *Server) pidNode(pid string) (string, bool) {
	n := len(srv.core.ID())
	if len(pid) != n+socketIDLen {
		return "", false
	}
	return pid[:n], true
}

// handOver answers another node's handoverArgs.
func (srv *Server) handOver(_ context.Context, raw json.RawMessage) (any, error) {
	var a handoverArgs
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, err
	}
	if n := srv.existing(a.Nsp); n != nil {
		if s := srv.recovery.take(a.PID, n); s != nil {
			ss := s.handOff(a.After)
			return handoverReply{Session: ss, Refused: ss == nil}, nil
		}
	}
	if ss := srv.sessions.take(a.PID, a.Nsp, srv.withinWindow); ss != nil {
		return handoverReply{Session: ss}, nil
	}
	// A node shutting down may yet store it.
	return handoverReply{Stored: srv.closing.Load() && srv.sessions.storing(a.PID)}, nil
}

// handOff ends the socket, kept for recovery, for good and returns it as
// its client's next node needs it: nil if the client may not have it
// back (its token expired, the window passed, its log no longer holds
// every event after the client's offset) or it cannot be recovered there.
func (s *Socket) handOff(after uint64) *savedSession {
	var ss *savedSession
	s.end("transport close", func(prev int32, _ string) {
		if prev == socketRecoverable && !s.client.Expired() {
			ss = s.snapshot(s.disconnectedSince(), after)
		}
	})
	if ss == nil || !s.srv.givesBack(ss, after) {
		return nil
	}
	return ss
}

// elsewhere reports whether the CONNECT payload asks for a socket another
// node may hold: a cluster pid this node keeps nothing under.
func (srv *Server) elsewhere(auth []byte) (handoverArgs, bool) {
	var a connectAuth
	if !srv.core.Clustered() || !srv.recoveryOn() || srv.closing.Load() || json.Unmarshal(auth, &a) != nil {
		return handoverArgs{}, false
	}
	after, err := strconv.ParseUint(a.Offset, 36, 64)
	if _, ok := srv.pidNode(a.PID); !ok || err != nil || srv.recovery.holds(a.PID) {
		return handoverArgs{}, false
	}
	return handoverArgs{PID: a.PID, After: after}, true
}

// fetch gets the socket a CONNECT to n asks for from the cluster; nil
// when the cluster has none the client may have.
func (srv *Server) fetch(n *Namespace, a handoverArgs) *savedSession {
	select {
	case srv.handovers <- struct{}{}:
		defer func() { <-srv.handovers }()
	default:
		srv.core.Metrics().Handovers.WithLabelValues("busy").Inc()
		return nil
	}
	a.Nsp = n.name
	ctx, cancel := context.WithTimeout(context.Background(), handoverTimeout+storeTimeout)
	defer cancel()
	ss, from := srv.fetchSession(ctx, a)
	switch {
	case ss == nil && from == "":
		from = "none"
	case ss == nil:
	case ss.Namespace != a.Nsp || !srv.givesBack(ss, a.After):
		ss, from = nil, "refused"
	}
	srv.core.Metrics().Handovers.WithLabelValues(from).Inc()
	return ss
}

// fetchSession asks the node that made the pid for the socket, then the
// shared broker, and the node the broker names, a few at most; from says
// where it came from.
func (srv *Server) fetchSession(ctx context.Context, a handoverArgs) (*savedSession, string) {
	own := srv.core.ID()
	node, _ := srv.pidNode(a.PID)
	noted := false // node is the one the broker named
	for range 3 {
		take := srv.takeStored
		if node != own && srv.core.NodeLive(ctx, node) {
			r, answered := srv.askNode(ctx, node, a)
			switch {
			case r.Session != nil:
				return r.Session, "node"
			case r.Refused:
				return nil, "refused"
			case r.Stored:
				take = srv.awaitStored
			case noted && !answered:
				srv.writeNote(a.PID, node, false) // left for a later try, unless it stored it meanwhile
				return nil, ""
			}
		}
		// The node did not have it, or is gone: the broker has it if the
		// node stored it, or names the node keeping it.
		rec := take(ctx, a.PID)
		if rec.Session != nil {
			return rec.Session, "broker"
		}
		if rec.Node == "" || rec.Node == node {
			return nil, ""
		}
		node, noted = rec.Node, true
	}
	return nil, ""
}

// askNode asks node for the socket; answered is false when the node did
// not answer.
func (srv *Server) askNode(ctx context.Context, node string, a handoverArgs) (r handoverReply, answered bool) {
	raw, err := srv.core.AskNode(ctx, node, opHandover, a, handoverTimeout)
	if err == nil {
		err = json.Unmarshal(raw, &r)
	}
	if err != nil && !errors.Is(err, core.ErrNoAnswer) {
		srv.core.Log().Warn("socket.io: asking a node for a socket to recover", "node", node, "err", err)
	}
	return r, err == nil
}

// awaitStored takes what a node that is shutting down stores under pid,
// as soon as it is there.
func (srv *Server) awaitStored(ctx context.Context, pid string) storedSocket {
	wait := 20 * time.Millisecond
	for {
		if rec := srv.takeStored(ctx, pid); rec.Session != nil || rec.Node != "" {
			return rec
		}
		select {
		case <-ctx.Done():
			return storedSocket{}
		case <-time.After(wait):
			wait = min(2*wait, 500*time.Millisecond)
		}
	}
}

// takeStored takes what the shared broker keeps under pid.
func (srv *Server) takeStored(ctx context.Context, pid string) storedSocket {
	var rec storedSocket
	b, err := srv.core.TakeSession(ctx, pid)
	if err == nil && b != nil {
		if err := json.Unmarshal(b, &rec); err != nil {
			srv.core.Log().Warn("socket.io: a stored socket that does not decode", "err", err)
		}
	}
	return rec
}

// keepSaved keeps a socket given back to a client that left before it
// could have it, for its next try, here or through another node. Once
// the shutdown has taken what it saves, it goes to the broker at once.
func (srv *Server) keepSaved(ss *savedSession) {
	if ss == nil {
		return
	}
	if srv.sessions.add(ss) {
		srv.noteHolder(ss.PID)
		return
	}
	srv.storeLate(ss)
}

// storeLate saves a socket that ended after the shutdown took what it
// saves: in a cluster straight to the broker; on data_dir, which is
// written already, it is lost, and said so.
func (srv *Server) storeLate(ss *savedSession) {
	if !srv.core.Clustered() {
		srv.core.Log().Warn("socket.io: a socket ended after the shutdown saved the others is not saved", "sid", ss.SID)
		return
	}
	srv.storeSessions(context.Background(), []*savedSession{ss})
}

// noteHolder notes in the shared broker, for the rest of the recovery
// window, that this node keeps the socket under pid, when another node
// made pid: that is where a node given the pid looks when the pid's node
// does not have it. A node shutting down stores the socket instead.
func (srv *Server) noteHolder(pid string) {
	if node, ok := srv.pidNode(pid); !ok || node == srv.core.ID() || !srv.core.Clustered() || srv.closing.Load() {
		return
	}
	srv.writeNote(pid, srv.core.ID(), true)
}

// writeNote notes, in the background, that node keeps the socket under
// pid: over what the broker keeps there, or only where it keeps nothing.
func (srv *Server) writeNote(pid, node string, replace bool) {
	b, _ := json.Marshal(storedSocket{Node: node})
	keep := srv.core.AddSession
	if replace {
		keep = srv.core.KeepSession
	}
	srv.closers.Add(1)
	go func() {
		defer srv.closers.Add(-1)
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		defer cancel()
		_ = keep(ctx, pid, b, srv.cfg.RecoveryWindow) // a failure is counted and logged
	}()
}

// storeSessions puts the sockets the shutdown saved in the shared
// broker, for whichever node their clients come back through, each for
// what is left of its recovery window.
func (srv *Server) storeSessions(ctx context.Context, list []*savedSession) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	work := make(chan *savedSession)
	failed := make(chan error, storeWorkers)
	for range storeWorkers {
		go func() {
			var err error
			for ss := range work {
				ttl := srv.cfg.RecoveryWindow - time.Since(time.Unix(0, ss.Gone))
				b, e := json.Marshal(storedSocket{Session: ss})
				if e == nil && ttl > 0 {
					e = srv.core.KeepSession(ctx, ss.PID, b, ttl)
				}
				if e != nil && err == nil {
					err = e
				}
			}
			failed <- err
		}()
	}
	for _, ss := range list {
		work <- ss
	}
	close(work)
	var errs []error
	for range storeWorkers {
		if err := <-failed; err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		srv.core.Log().Error("socket.io: storing sockets for recovery on another node", "sockets", len(list), "err", errors.Join(errs...))
	}
}
