package socketio

import (
	"sort"
	"sync"
)

// Namespace is one Socket.IO namespace: its handlers and its sockets.
type Namespace struct {
	srv    *Server
	name   string
	prefix string // of the herald channels its rooms map to
	// format is the namespace's packets, as the hub encodes them.
	format *nsFormat

	mu           sync.RWMutex
	onConnect    func(*Socket) error
	onDisconnect func(*Socket, string)
	onError      func(*Socket, error)
	middlewares  []func(*Socket) error
	events       map[string]*eventHandler
	// sockets are the connected sockets, by id.
	sockets map[string]*Socket
}

func newNamespace(srv *Server, name string) *Namespace {
	n := &Namespace{srv: srv, name: name, prefix: srv.cfg.prefixFor(name),
		events: map[string]*eventHandler{}, sockets: map[string]*Socket{}}
	n.format = &nsFormat{n}
	return n
}

// Name is the namespace's name, such as "/" or "/chat".
func (n *Namespace) Name() string { return n.name }

// handler returns the handler registered for event.
func (n *Namespace) handler(event string) *eventHandler {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.events[event]
}

func (n *Namespace) addSocket(s *Socket) {
	n.mu.Lock()
	n.sockets[s.ID()] = s
	n.mu.Unlock()
}

func (n *Namespace) removeSocket(s *Socket) {
	n.mu.Lock()
	if n.sockets[s.ID()] == s {
		delete(n.sockets, s.ID())
	}
	n.mu.Unlock()
}

func (n *Namespace) socket(id string) *Socket {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.sockets[id]
}

// The hub is the one index of who is in which room: a room is the
// channel it maps to, and its sockets are the channel's subscribers that
// are sockets of this namespace.

// roomNames lists the rooms with sockets on this node, sorted.
func (n *Namespace) roomNames() []string {
	var out []string
	for _, cc := range n.srv.core.Channels() { // sorted by channel
		if room, ok := channelRoom(n.prefix, cc.Channel); ok && len(n.channelSockets(cc.Channel)) > 0 {
			out = append(out, room)
		}
	}
	sort.Strings(out)
	return out
}

// roomSockets returns the namespace's sockets in room on this node.
func (n *Namespace) roomSockets(room string) []*Socket {
	ch, err := roomChannel(n.prefix, room)
	if err != nil {
		return nil
	}
	return n.channelSockets(ch)
}

// channelSockets returns the namespace's sockets subscribed to ch.
func (n *Namespace) channelSockets(ch string) []*Socket {
	var out []*Socket
	for _, sub := range n.srv.core.Hub().Subscribers(ch) {
		if k, ok := sub.(*sink); ok && k.nsp == n {
			out = append(out, (*Socket)(k))
		}
	}
	return out
}

func (n *Namespace) roomLen(room string) int { return len(n.roomSockets(room)) }

func (n *Namespace) allSockets() []*Socket {
	n.mu.RLock()
	defer n.mu.RUnlock()
	out := make([]*Socket, 0, len(n.sockets))
	for _, s := range n.sockets {
		out = append(out, s)
	}
	return out
}
