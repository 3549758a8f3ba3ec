package socketio

import "github.com/heraldhq/herald/internal/protocol/sioproto"

// BroadcastToRoom sends an event to every socket in room of namespace nsp
// (and, as a publication, to herald-protocol subscribers of its channel).
func (srv *Server) BroadcastToRoom(nsp, room, event string, args ...any) error {
	return srv.To(nsp, room).Emit(event, args...)
}

// JoinRoom puts s in room; nsp must be s's namespace.
func (srv *Server) JoinRoom(nsp, room string, s *Socket) error {
	if s.nsp.name != nsp {
		return errNamespace(nsp, s)
	}
	return s.Join(room)
}

// LeaveRoom takes s out of room; nsp must be s's namespace.
func (srv *Server) LeaveRoom(nsp, room string, s *Socket) error {
	if s.nsp.name != nsp {
		return errNamespace(nsp, s)
	}
	return s.Leave(room)
}

// LeaveAllRooms takes s out of every room but its own.
func (srv *Server) LeaveAllRooms(nsp string, s *Socket) error {
	if s.nsp.name != nsp {
		return errNamespace(nsp, s)
	}
	s.LeaveAll()
	return nil
}

// Rooms lists the rooms of nsp with sockets on this node.
func (srv *Server) Rooms(nsp string) []string {
	if n := srv.existing(nsp); n != nil {
		return n.roomNames()
	}
	return nil
}

// RoomLen is how many sockets of nsp on this node are in room.
func (srv *Server) RoomLen(nsp, room string) int {
	if n := srv.existing(nsp); n != nil {
		return n.roomLen(room)
	}
	return 0
}

// ClearRoom takes every socket of nsp on this node out of room.
func (srv *Server) ClearRoom(nsp, room string) {
	if n := srv.existing(nsp); n != nil {
		for _, s := range n.roomSockets(room) {
			_ = s.Leave(room)
		}
	}
}

// Socket returns the connected socket with id in nsp, or nil.
func (srv *Server) Socket(nsp, id string) *Socket {
	if n := srv.existing(nsp); n != nil {
		return n.socket(id)
	}
	return nil
}

func errNamespace(nsp string, s *Socket) error {
	return &ConnectError{Message: "socket " + s.ID() + " is in namespace " + s.nsp.name + ", not " + nsp}
}

// socketioConnect is the CONNECT answer for s.
func socketioConnect(s *Socket) sioproto.Packet {
	return sioproto.Packet{Type: sioproto.Connect, Namespace: s.nsp.name, Data: s.connectPayload()}
}
