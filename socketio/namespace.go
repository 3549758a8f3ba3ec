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

	mu           sync.RWMutex
	onConnect    func(*Socket) error
	onDisconnect func(*Socket, string)
	onError      func(*Socket, error)
	middlewares  []func(*Socket) error
	events       map[string]*eventHandler
	// sockets are the connected sockets, by id.
	sockets map[string]*Socket
	// rooms indexes the sockets of each room.
	rooms map[string]map[*Socket]struct{}
}

func newNamespace(srv *Server, name string) *Namespace {
	return &Namespace{srv: srv, name: name, prefix: srv.cfg.prefixFor(name),
		events: map[string]*eventHandler{}, sockets: map[string]*Socket{}, rooms: map[string]map[*Socket]struct{}{}}
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
	n.sockets[s.id] = s
	n.mu.Unlock()
}

func (n *Namespace) removeSocket(s *Socket) {
	n.mu.Lock()
	delete(n.sockets, s.id)
	n.mu.Unlock()
}

func (n *Namespace) socket(id string) *Socket {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.sockets[id]
}

// indexRoom records that s joined (or left) room.
func (n *Namespace) indexRoom(room string, s *Socket, joined bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	set := n.rooms[room]
	if joined {
		if set == nil {
			set = map[*Socket]struct{}{}
			n.rooms[room] = set
		}
		set[s] = struct{}{}
		return
	}
	delete(set, s)
	if len(set) == 0 {
		delete(n.rooms, room)
	}
}

// roomNames lists the rooms with sockets, sorted.
func (n *Namespace) roomNames() []string {
	n.mu.RLock()
	defer n.mu.RUnlock()
	out := make([]string, 0, len(n.rooms))
	for r := range n.rooms {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// roomSockets returns the sockets in room.
func (n *Namespace) roomSockets(room string) []*Socket {
	n.mu.RLock()
	defer n.mu.RUnlock()
	out := make([]*Socket, 0, len(n.rooms[room]))
	for s := range n.rooms[room] {
		out = append(out, s)
	}
	return out
}

func (n *Namespace) roomLen(room string) int {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return len(n.rooms[room])
}

func (n *Namespace) allSockets() []*Socket {
	n.mu.RLock()
	defer n.mu.RUnlock()
	out := make([]*Socket, 0, len(n.sockets))
	for _, s := range n.sockets {
		out = append(out, s)
	}
	return out
}
