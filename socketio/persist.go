package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/core"
	"github.com/heraldhq/herald/internal/transport/websocket"
)

// With the channel streams on disk (history.store: disk), the sockets a
// graceful shutdown ends are saved in data_dir, and the next node on that
// directory gives each back to its client, as it would a socket kept for
// recovery: what a socket's client needs of them is where it stands in
// each room's stream, which the disk keeps. A socket is saved when every
// room it is in keeps a stream; it is given back while recovery_window
// lasts from the shutdown, unless its client missed one of the events
// only its log held (emits to it alone), which end with the node. A node
// that crashes saves none.

// sessionsFile is the file in data_dir; it holds private ids.
const sessionsFile = "socketio-sessions.json"

// savedSessions is what the file holds.
type savedSessions struct {
	// Offset is the last recovery offset the node gave: the next node
	// numbers on from it, so a client's offset stays comparable.
	Offset   uint64          `json:"offset"`
	Sessions []*savedSession `json:"sessions"`
}

// savedSession is one socket, as its next node needs it.
type savedSession struct {
	PID       string `json:"pid"`
	SID       string `json:"sid"`
	Namespace string `json:"namespace"`
	User      string `json:"user,omitempty"`
	// Gone is when the client lost the socket (unix nanoseconds).
	Gone int64 `json:"gone"`
	// Trimmed and Last bound the offsets the client may come back with.
	Trimmed uint64 `json:"trimmed"`
	Last    uint64 `json:"last"`
	// Carried are the logged events no stream holds (emits to the socket
	// alone), oldest first, as its client was or would have been sent them.
	Carried []savedEvent `json:"carried,omitempty"`
	// LogOnly are the offsets of such events in a file written before
	// herald carried them: a client that missed one gets a new socket.
	LogOnly []uint64 `json:"log_only,omitempty"`
	// Logged are the logged room broadcasts, oldest first, and Marks the
	// last one of each room the socket was sent (see outbox.sinceFor).
	Logged []savedMark          `json:"logged,omitempty"`
	Marks  map[string]savedMark `json:"marks"`
}

// savedEvent is one logged event, numbered.
type savedEvent struct {
	Offset uint64   `json:"o"`
	At     int64    `json:"at"` // when it was numbered (unix nanoseconds)
	Text   []byte   `json:"t"`
	Bins   [][]byte `json:"b,omitempty"`
}

type savedMark struct {
	Offset  uint64 `json:"o,omitempty"` // recovery offset, for Logged
	Channel string `json:"ch,omitempty"`
	Stream  uint64 `json:"s"`
	Epoch   string `json:"e"`
}

// sessionStore holds the sockets saved for their clients: the file's
// (data_dir), and, in a cluster, those on their way to another node.
type sessionStore struct {
	dir string
	mu  sync.Mutex
	// saved are the sessions waiting for their clients, by private id:
	// read at start, fetched from another node for a client that left
	// before it could have it, or of sockets the shutdown ended.
	saved map[string]*savedSession
	// taken is set once the shutdown has taken them all to save them,
	// stored are their pids, and written is closed once they are saved.
	taken   bool
	stored  map[string]bool
	written chan struct{}
}

// loadSessions reads the sessions a previous node saved and removes the file: a
// session is given back once at most.
func (srv *Server) loadSessions(dir string) error {
	st := &srv.sessions
	st.dir, st.saved, st.written = dir, map[string]*savedSession{}, make(chan struct{})
	if dir == "" || !srv.recoveryOn() {
		return nil
	}
	path := filepath.Join(dir, sessionsFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var f savedSessions
	if err := json.Unmarshal(b, &f); err != nil {
		srv.core.Log().Warn("socket.io: ignoring unreadable saved sessions", "file", path, "err", err)
	}
	for _, ss := range f.Sessions {
		st.saved[ss.PID] = ss
	}
	srv.offsets.Store(f.Offset)
	return os.Remove(path)
}

// saving reports whether a socket ending for reason is to be saved: in
// data_dir, or in a cluster in the shared broker (handover.go).
func (srv *Server) saving(reason string) bool {
	return (srv.sessions.dir != "" || srv.core.Clustered()) && srv.closing.Load() && srv.recoveryOn() && recoverableReasons[reason]
}

// keepForNextNode records the socket for the next node (on data_dir, or
// any node of the cluster), when the shutdown is to save it. s.out.mu held; the socket has let go of
// its connection, so nothing more reaches its client.
func (s *Socket) keepForNextNode(prev int32, reason string) {
	if s.pid == "" || (prev != socketConnected && prev != socketRecoverable) || !s.srv.saving(reason) {
		return
	}
	if ss := s.snapshot(s.goneAt(prev), 0); ss != nil && !s.srv.sessions.add(ss) {
		go s.srv.storeLate(ss) // off the outbox lock
	}
}

// add keeps ss for its client, unless the shutdown has taken what it
// saves already.
func (st *sessionStore) add(ss *savedSession) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.taken {
		return false
	}
	st.saved[ss.PID] = ss
	return true
}

// snapshot is the socket as another node needs it to give it back to a
// client that has every event up to after: nil if one of its rooms keeps
// no stream, as only this node saw that room's broadcasts. s.out.mu held.
func (s *Socket) snapshot(gone time.Time, after uint64) *savedSession {
	o := &s.out
	ss := &savedSession{PID: s.pid, SID: s.ID(), Namespace: s.nsp.name, User: s.User(), Gone: gone.UnixNano(),
		Trimmed: o.trimmed, Last: o.last(), Marks: map[string]savedMark{}}
	for _, ch := range s.client.Channels() {
		m, ok := o.mark(ch)
		if !s.srv.keepsStream(ch) || !ok {
			return nil
		}
		ss.Marks[ch] = savedMark{Stream: m.offset, Epoch: m.epoch}
	}
	for i := range int(o.log.n) {
		ev := o.log.at(i)
		switch m := ev.stream; {
		case m.kept():
			ss.Logged = append(ss.Logged, savedMark{Offset: ev.numbered.offset, Channel: m.channel, Stream: m.offset, Epoch: m.epoch})
		case ev.numbered.offset > after:
			ss.Carried = append(ss.Carried, savedEvent{Offset: ev.numbered.offset, At: ev.numbered.at.UnixNano(),
				Text: ev.numbered.text, Bins: ev.bins})
		}
	}
	ss.trimCarried(maxCarriedBytes)
	ss.trimLogged(maxLoggedMarks)
	return ss
}

// maxLoggedMarks bounds the logged broadcasts' marks a saved socket
// keeps (about 60 bytes each), so that a large recovery_events still fits
// a broker message; a client behind the oldest kept gets a new socket.
const maxLoggedMarks = 4096

func (ss *savedSession) trimLogged(limit int) {
	if drop := len(ss.Logged) - limit; drop > 0 {
		ss.Trimmed = max(ss.Trimmed, ss.Logged[drop-1].Offset)
		ss.Logged = ss.Logged[drop:]
	}
}

// trimCarried drops the oldest carried events beyond limit bytes: a
// client that missed one of those gets a new socket, never a gap.
func (ss *savedSession) trimCarried(limit int) {
	size := 0
	for i := len(ss.Carried) - 1; i >= 0; i-- {
		if size += ss.Carried[i].size(); size > limit {
			ss.Trimmed = max(ss.Trimmed, ss.Carried[i].Offset)
			ss.Carried = ss.Carried[i+1:]
			return
		}
	}
}

func (se savedEvent) size() int {
	n := len(se.Text)
	for _, b := range se.Bins {
		n += len(b)
	}
	return n
}

// writeSessions saves the ended sockets, and those saved before that
// are still within the window, for the next node: in the shared broker
// in a cluster, else in data_dir.
func (srv *Server) writeSessions(ctx context.Context) {
	st := &srv.sessions
	if !srv.recoveryOn() || st.dir == "" && !srv.core.Clustered() {
		return
	}
	st.mu.Lock()
	f := savedSessions{Offset: srv.offsets.Load()}
	st.stored = map[string]bool{}
	for pid, ss := range st.saved {
		if srv.withinWindow(ss) {
			f.Sessions = append(f.Sessions, ss)
			st.stored[pid] = true
		}
		delete(st.saved, pid) // saved now, not to be given here too
	}
	st.taken = true
	st.mu.Unlock()
	if len(f.Sessions) == 0 {
		return
	}
	if srv.core.Clustered() {
		srv.storeSessions(ctx, f.Sessions)
		return
	}
	b, err := json.Marshal(f)
	if err == nil {
		tmp := filepath.Join(st.dir, sessionsFile+".tmp")
		if err = os.WriteFile(tmp, b, 0o600); err == nil {
			err = os.Rename(tmp, filepath.Join(st.dir, sessionsFile))
		}
	}
	if err != nil {
		srv.core.Log().Error("socket.io: saving sockets for recovery after restart", "err", err)
	}
}

func (srv *Server) withinWindow(ss *savedSession) bool {
	return time.Since(time.Unix(0, ss.Gone)) <= srv.cfg.RecoveryWindow
}

// takeSaved removes and returns the session saved under the CONNECT
// payload's pid for namespace n, if its client may have it back with the
// payload's offset.
func (srv *Server) takeSaved(n *Namespace, auth []byte) (*savedSession, uint64) {
	var a connectAuth
	if json.Unmarshal(auth, &a) != nil || a.PID == "" || a.Offset == "" {
		return nil, 0
	}
	st := &srv.sessions
	st.mu.Lock()
	ss := st.saved[a.PID]
	if ss == nil || ss.Namespace != n.name {
		st.mu.Unlock()
		return nil, 0
	}
	delete(st.saved, a.PID)
	st.mu.Unlock()
	after, err := strconv.ParseUint(a.Offset, 36, 64)
	if err != nil || !srv.givesBack(ss, after) {
		return nil, 0
	}
	return ss, after
}

// givesBack reports whether a client that has every event up to after
// may have ss back: the socket's log held every event since, and the
// window has not passed.
func (srv *Server) givesBack(ss *savedSession, after uint64) bool {
	for _, off := range ss.LogOnly {
		if off > after {
			return false
		}
	}
	return after >= ss.Trimmed && after <= ss.Last && srv.withinWindow(ss)
}

// take removes and returns the session saved under pid, if still within
// the window: one saved before a restart, or fetched from another node
// for a client that left before it could have it.
func (st *sessionStore) take(pid, nsp string, within func(*savedSession) bool) *savedSession {
	st.mu.Lock()
	defer st.mu.Unlock()
	ss := st.saved[pid]
	if ss == nil || ss.Namespace != nsp {
		return nil
	}
	delete(st.saved, pid)
	if !within(ss) {
		return nil
	}
	return ss
}

// forget drops the saved sessions no longer within the window.
func (st *sessionStore) forget(within func(*savedSession) bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for pid, ss := range st.saved {
		if !within(ss) {
			delete(st.saved, pid)
		}
	}
}

// storing reports whether a node that is shutting down may yet store
// the socket under pid in the shared broker: until it has taken them all,
// any; then those it took, until they are stored.
func (st *sessionStore) storing(pid string) bool {
	select {
	case <-st.written:
		return false
	default:
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return !st.taken || st.stored[pid]
}

// sinceFor is outbox.sinceFor on what was saved.
func (ss *savedSession) sinceFor(ch string, after uint64) core.Since {
	for _, m := range ss.Logged {
		if m.Offset > after && m.Channel == ch {
			return core.Since{Offset: m.Stream - 1, Epoch: m.Epoch}
		}
	}
	m := ss.Marks[ch]
	return core.Since{Offset: m.Stream, Epoch: m.Epoch}
}

// revive puts the socket, given back its saved session's id, in the
// session's rooms, each resuming its stream where the client stands, and
// returns with the subscriptions the events only the session carried. ok
// is false when one cannot be recovered: the socket then leaves them and
// goes on as a new one. The subscriptions are started, and the carried
// events sent, once the client has heard CONNECT.
func (s *Socket) revive(ss *savedSession, after uint64) (subs []core.Subscription, carried []*encodedEvent, ok bool) {
	if s.User() != ss.User {
		s.pid = s.srv.newPID() // not the saved socket's user: a new socket
		return nil, nil, false
	}
	for ch := range ss.Marks {
		since := ss.sinceFor(ch, after)
		sub, e := s.srv.core.Subscribe(&s.client, ch, core.ByApp, &since)
		if e == nil {
			subs = append(subs, sub)
			s.joinedAt(ch, core.Subscription{Position: broker.StreamPosition{Offset: since.Offset, Epoch: since.Epoch}})
		}
		if e != nil || !sub.Resume.Recovered {
			startAll(subs) // ends the wait; the rooms are left at once
			s.LeaveAll()
			s.pid = s.srv.newPID() // the client is told it did not recover
			return nil, nil, false
		}
	}
	// The socket's offsets go on from where its client stands, whichever
	// node numbered them.
	s.srv.offsetsFrom(max(ss.Last, after))
	s.out.mu.Lock()
	s.out.trimmed = after
	s.out.mu.Unlock()
	for _, se := range ss.Carried {
		if se.Offset > after {
			carried = append(carried, se.event())
		}
	}
	s.recovered.Store(true)
	return subs, carried, true
}

// event is the saved event as the socket sends it again.
func (se savedEvent) event() *encodedEvent {
	ev := newEncodedEvent(se.Text, se.Bins, false)
	n := &ev.numbered
	n.once.Do(func() {
		n.offset, n.at, n.text = se.Offset, time.Unix(0, se.At), se.Text
		n.frame = websocket.TextFrame(append([]byte{'4'}, se.Text...))
	})
	return ev
}

// offsetsFrom makes the server number its next events after n.
func (srv *Server) offsetsFrom(n uint64) {
	for {
		cur := srv.offsets.Load()
		if cur >= n || srv.offsets.CompareAndSwap(cur, n) {
			return
		}
	}
}
