package socketio

import (
	"errors"

	"github.com/heraldhq/herald/internal/core"
)

// Join puts the socket in rooms: each is the herald channel the room maps
// to, so the socket receives what is published there whatever sent it.
// The node's subscription limit and OnSubscribe hook apply, as to every
// subscription; channel policies, which bind what clients ask for by
// themselves, do not (the built-in herald:join event applies them).
func (s *Socket) Join(rooms ...string) error {
	var errs []error
	for _, room := range rooms {
		errs = append(errs, s.join(room, core.ByApp))
	}
	return errors.Join(errs...)
}

// join puts the socket in room, as by asks.
func (s *Socket) join(room string, by core.Asker) error {
	if room == s.ID() {
		return nil // every socket is in its own room already
	}
	ch, err := roomChannel(s.nsp.prefix, room)
	if err != nil {
		return err
	}
	if s.state.Load() == socketClosed {
		return ErrDisconnected
	}
	sub, e := s.srv.core.Subscribe(&s.client, ch, by, nil)
	switch {
	case e == nil:
		s.joinedAt(ch, sub)
		return nil
	case errors.Is(e, core.ErrAlreadySubscribed):
		return nil
	case errors.Is(e, core.ErrClosed):
		return ErrDisconnected
	}
	return e
}

// Leave takes the socket out of room.
func (s *Socket) Leave(room string) error {
	ch, err := roomChannel(s.nsp.prefix, room)
	if err != nil {
		return err
	}
	s.srv.core.Unsubscribe(&s.client, ch)
	return nil
}

// LeaveAll takes the socket out of every room but its own.
func (s *Socket) LeaveAll() {
	for _, ch := range s.client.Channels() {
		s.srv.core.Unsubscribe(&s.client, ch)
	}
}
