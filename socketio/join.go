package socketio

import (
	"context"
	"errors"
	"fmt"
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
	s.roomMu.Lock()
	defer s.roomMu.Unlock()
	if s.state.Load() == socketClosed {
		return ErrDisconnected
	}
	if s.inRoom(room) {
		return nil
	}
	if max := s.srv.backend.Limits().MaxRooms; s.roomCount() >= max {
		return fmt.Errorf("socketio: room limit reached: at most %d rooms per socket", max)
	}
	// The hub is called under roomMu but not s.mu: fan-out takes s.mu
	// while it holds hub locks.
	if err := s.srv.backend.Subscribe(context.Background(), s, ch, &s.info); err != nil {
		return err
	}
	s.mu.Lock()
	s.rooms.add(room)
	s.mu.Unlock()
	s.nsp.indexRoom(room, s, true)
	return nil
}

func (s *Socket) roomCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rooms.len()
}

// Leave takes the socket out of room.
func (s *Socket) Leave(room string) error {
	s.roomMu.Lock()
	defer s.roomMu.Unlock()
	return s.leave(room)
}

// leave is Leave with roomMu held.
func (s *Socket) leave(room string) error {
	ch, err := roomChannel(s.nsp.prefix, room)
	if err != nil {
		return err
	}
	s.mu.Lock()
	ok := s.rooms.remove(room)
	s.mu.Unlock()
	if ok {
		s.nsp.indexRoom(room, s, false)
		s.srv.backend.Unsubscribe(context.Background(), s, ch, &s.info)
	}
	return nil
}

// LeaveAll takes the socket out of every room but its own.
func (s *Socket) LeaveAll() { s.leaveAll() }

func (s *Socket) leaveAll() {
	s.roomMu.Lock()
	defer s.roomMu.Unlock()
	s.mu.Lock()
	rooms := s.rooms.all()
	s.mu.Unlock()
	for _, r := range rooms {
		_ = s.leave(r)
	}
}
