package socketio

import (
	"context"
	"errors"
)

// Join puts the socket in rooms: each is the herald channel the room maps
// to, so the socket receives what is published there whatever sent it.
func (s *Socket) Join(rooms ...string) error {
	var errs []error
	for _, room := range rooms {
		errs = append(errs, s.join(room))
	}
	return errors.Join(errs...)
}

func (s *Socket) join(room string) error {
	if room == s.id {
		return nil // every socket is in its own room already
	}
	ch, err := roomChannel(s.nsp.prefix, room)
	if err != nil {
		return err
	}
	s.mu.Lock()
	if s.state.Load() == socketClosed {
		s.mu.Unlock()
		return ErrDisconnected
	}
	if _, ok := s.rooms[room]; ok {
		s.mu.Unlock()
		return nil
	}
	s.rooms[room] = struct{}{}
	s.mu.Unlock()
	// The hub is called without s.mu: fan-out holds hub locks while it
	// delivers to this socket.
	if err := s.srv.backend.Subscribe(context.Background(), s, ch, s.info); err != nil {
		s.mu.Lock()
		delete(s.rooms, room)
		s.mu.Unlock()
		return err
	}
	s.nsp.indexRoom(room, s, true)
	return nil
}

// Leave takes the socket out of room.
func (s *Socket) Leave(room string) error {
	ch, err := roomChannel(s.nsp.prefix, room)
	if err != nil {
		return err
	}
	s.mu.Lock()
	_, ok := s.rooms[room]
	delete(s.rooms, room)
	s.mu.Unlock()
	if ok {
		s.nsp.indexRoom(room, s, false)
		s.srv.backend.Unsubscribe(context.Background(), s, ch, s.info)
	}
	return nil
}

// LeaveAll takes the socket out of every room but its own.
func (s *Socket) LeaveAll() { s.leaveAll() }

func (s *Socket) leaveAll() {
	s.mu.Lock()
	rooms := make([]string, 0, len(s.rooms))
	for r := range s.rooms {
		rooms = append(rooms, r)
	}
	s.mu.Unlock()
	for _, r := range rooms {
		_ = s.Leave(r)
	}
}
