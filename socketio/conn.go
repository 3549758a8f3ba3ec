package socketio

import (
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/protocol/sioproto"
	"github.com/heraldhq/herald/internal/transport/engineio"
)

// conn is one Engine.IO connection and the sockets it carries, one per
// namespace. A server holds one per client, so it is kept small: the
// decoder is embedded and idle, the sockets are a short list, and the
// connect timer is let go once a namespace is joined.
type conn struct {
	srv  *Server
	sess *engineio.Session
	// dec assembles packets; only the connection's reading path uses it.
	dec sioproto.Decoder

	mu sync.Mutex
	// sockets has one socket per namespace; a client rarely joins more
	// than a few, so a list beats a map.
	sockets []*Socket
	closed  bool
	// counted is true when the node counted the connection.
	counted bool
	// timer closes a connection that joins no namespace in time; nil
	// once one is joined.
	timer *time.Timer
}

// engineHandler is how the Engine.IO transport reaches the server: the
// sessions' lives, kept off the Server that users program against.
type engineHandler struct{ srv *Server }

var _ engineio.Handler = engineHandler{}

// OnOpen implements engineio.Handler.
func (h engineHandler) OnOpen(sess *engineio.Session) {
	s := h.srv
	c := &conn{srv: s, sess: sess, dec: *sioproto.NewDecoder(s.decoderLimits())}
	c.timer = time.AfterFunc(s.cfg.ConnectTimeout, c.connectTimedOut)
	sess.SetValue(c)
	s.open.Add(1)
	if e := s.core.Reserve(); e != nil {
		sess.Close("forced server close") // the node filled up after admission let it in
		return
	}
	c.counted = true
	s.core.Metrics().ConnectionsAccepted.WithLabelValues("socketio").Inc()
}

// decoderLimits bound the binary packets a client may send: a packet's
// attachments together may take what one Engine.IO payload may.
func (s *Server) decoderLimits() sioproto.Limits {
	return sioproto.Limits{MaxAttachments: s.cfg.MaxAttachments, MaxAttachmentBytes: s.cfg.MaxPayload}
}

// OnMessage implements engineio.Handler: it decodes Socket.IO packets and
// routes them to their namespace's socket.
func (h engineHandler) OnMessage(sess *engineio.Session, data []byte, binary bool) {
	c, _ := sess.Value().(*conn)
	if c == nil {
		return
	}
	// The decoder keeps frames of a binary packet until it is complete;
	// data is only valid during this call.
	pkt, done, err := c.dec.Add(append([]byte(nil), data...), binary)
	if err != nil {
		h.srv.core.Log().Debug("socket.io: bad packet", "sid", sess.ID(), "err", err)
		sess.CloseForBadInput("forced close")
		return
	}
	if done {
		c.route(pkt)
	}
}

// OnClose implements engineio.Handler.
func (h engineHandler) OnClose(sess *engineio.Session, reason string) {
	s := h.srv
	c, _ := sess.Value().(*conn)
	if c == nil {
		return
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.stopTimer()
	sockets := c.sockets
	c.sockets = nil
	counted := c.counted
	c.mu.Unlock()
	if counted {
		s.core.Release()
	}
	// The session may report its close from inside a send that holds a
	// socket's outbox lock (a slow consumer cut off mid-fan-out), so the
	// sockets wind down on their own goroutine.
	s.closers.Add(1)
	s.open.Add(-1)
	go func() {
		defer s.closers.Add(-1)
		for _, so := range sockets {
			so.transportClosed(reason)
		}
	}()
}

// socket returns the connection's socket in namespace nsp; c.mu held.
func (c *conn) socket(nsp string) *Socket {
	for _, so := range c.sockets {
		if so.nsp.name == nsp {
			return so
		}
	}
	return nil
}

// put makes so the connection's socket of its namespace; c.mu held.
func (c *conn) put(so *Socket) {
	for i, old := range c.sockets {
		if old.nsp == so.nsp {
			c.sockets[i] = so
			return
		}
	}
	c.sockets = append(c.sockets, so)
}

// list returns a copy of the connection's sockets.
func (c *conn) list() []*Socket {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*Socket(nil), c.sockets...)
}

// route hands a packet to the socket of its namespace, or starts one.
func (c *conn) route(p sioproto.Packet) {
	c.mu.Lock()
	so := c.socket(p.Namespace)
	c.mu.Unlock()
	waiting := so == nil && c.srv.fetches.waiting(c, p.Namespace)
	switch {
	case so == nil && !waiting && p.Type == sioproto.Connect:
		c.connect(p.Namespace, p.Data)
	case so != nil && p.Type != sioproto.Connect && p.Type != sioproto.ConnectError:
		so.onPacket(p)
	default:
		// The reference closes the connection on a packet that does not
		// fit the state (a second CONNECT, an event before CONNECT).
		c.sess.CloseForBadInput("forced server close")
	}
}

// connect starts a socket in namespace nsp for the CONNECT payload auth.
func (c *conn) connect(nsp string, auth json.RawMessage) {
	n := c.srv.namespace(nsp)
	if n == nil {
		c.sendPacket(sioproto.Packet{Type: sioproto.ConnectError, Namespace: nsp,
			Data: json.RawMessage(`{"message":"Invalid namespace"}`)})
		return
	}
	if len(auth) == 0 {
		auth = json.RawMessage("{}")
	}
	saved, after := c.srv.takeSaved(n, auth)
	if saved == nil {
		if a, ok := c.srv.elsewhere(auth); ok && c.startFetch(n.name) {
			c.srv.closers.Add(1)
			go c.fetchThenOpen(n, auth, a)
			return
		}
	}
	if !c.open(n, auth, saved, after) {
		c.srv.keepSaved(saved)
	}
}

// maxFetches bounds the CONNECTs of one connection waiting on the
// cluster at once (a client reconnecting sends one per namespace).
const maxFetches = 4

// fetchThenOpen gets the socket the CONNECT asks for from the cluster,
// then starts it. Should the connection be gone by then, the socket is
// kept here for the client's next try.
func (c *conn) fetchThenOpen(n *Namespace, auth json.RawMessage, a handoverArgs) {
	defer c.srv.closers.Add(-1)
	saved := c.srv.fetch(n, a)
	if !c.open(n, auth, saved, a.After) {
		c.srv.keepSaved(saved)
	}
	c.srv.fetches.done(c, n.name)
}

// startFetch notes that a CONNECT to nsp waits on the cluster: until it
// is answered, another packet for nsp is out of place.
func (c *conn) startFetch(nsp string) bool {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	return !closed && c.srv.fetches.start(c, nsp)
}

// fetches are the namespaces, by connection, whose CONNECT waits on the
// cluster for the socket it recovers; kept off conn, which every client
// has, for what few have for a moment.
type fetches struct {
	mu sync.Mutex
	m  map[*conn][]string
}

func (f *fetches) start(c *conn, nsp string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.m[c]) >= maxFetches {
		return false
	}
	if f.m == nil {
		f.m = map[*conn][]string{}
	}
	f.m[c] = append(f.m[c], nsp)
	return true
}

func (f *fetches) done(c *conn, nsp string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if left := slices.DeleteFunc(f.m[c], func(n string) bool { return n == nsp }); len(left) > 0 {
		f.m[c] = left
	} else {
		delete(f.m, c)
	}
}

func (f *fetches) waiting(c *conn, nsp string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Contains(f.m[c], nsp)
}

// open starts the socket of a CONNECT, with the session it recovers;
// false when the connection has closed (or closes, for a CONNECT out of
// place).
func (c *conn) open(n *Namespace, auth json.RawMessage, saved *savedSession, after uint64) bool {
	so := c.srv.newSocket(n, c, auth, saved)
	c.mu.Lock()
	if c.closed || c.socket(n.name) != nil {
		// Closed, or a second CONNECT to n came in while the first
		// waited on the cluster: out of place, as any second CONNECT.
		closed := c.closed
		c.mu.Unlock()
		so.abandon()
		if !closed {
			c.sess.CloseForBadInput("forced server close")
		}
		return false
	}
	c.put(so)
	c.mu.Unlock()
	so.run(func() { so.admit(auth, saved, after) })
	return true
}

// forget drops the socket of namespace nsp from the connection.
func (c *conn) forget(so *Socket) {
	c.mu.Lock()
	for i, s := range c.sockets {
		if s == so {
			c.sockets = slices.Delete(c.sockets, i, i+1) // zeroes the freed slot
			break
		}
	}
	c.mu.Unlock()
}

// joined stops the connect timer once a namespace is joined.
func (c *conn) joined() {
	c.mu.Lock()
	c.stopTimer()
	c.mu.Unlock()
}

// stopTimer stops the connect timer and lets go of it; c.mu held.
func (c *conn) stopTimer() {
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
}

func (c *conn) connectTimedOut() {
	c.mu.Lock()
	for _, so := range c.sockets {
		if so.state.Load() == socketConnected {
			c.mu.Unlock()
			return
		}
	}
	c.mu.Unlock()
	c.sess.Close("forced server close")
}

// sendPacket writes one packet to the connection, outside any socket.
func (c *conn) sendPacket(p sioproto.Packet) {
	text, bins, err := sioproto.Encode(p)
	if err != nil {
		c.srv.core.Log().Error("socket.io: encoding a packet", "err", err)
		return
	}
	_ = c.sess.SendText(text)
	for _, b := range bins {
		_ = c.sess.SendBinary(b)
	}
}
