package socketio

import (
	"github.com/heraldhq/herald/internal/hub"
)

// Deliver implements hub.Subscriber: a message on one of the socket's
// room channels, or a push to its user, becomes an event; a packet the
// socket itself sent through the hub is queued as it is.
func (s *Socket) Deliver(m *hub.Message) bool {
	if m.Kind == hub.KindDirect {
		ev := m.Payload.(*encodedEvent)
		needs := false
		if ev.text != nil { // a packet; none when only after matters
			needs = s.send(ev, ev.replayable)
		}
		if ev.after != nil {
			s.run(ev.after)
		}
		return needs
	}
	ev := m.Encoded(s.nsp.format(), s.nsp.encodeMessage).(*encodedEvent)
	if ev == nil {
		return false
	}
	if p := m.Pub; p != nil {
		if s.excluded(p.Except) || ev.rooms != nil && !s.takesFrom(ev.rooms, p.Channels, m.Channel) {
			return false
		}
	}
	return s.send(ev, ev.replayable)
}

// post sends a packet of this socket's own through the hub, behind every
// message already on its way to it: what a handler emits after a room
// broadcast arrives after it, as with the reference server.
func (s *Socket) post(ev *encodedEvent) {
	s.srv.backend.Hub().SendTo([]hub.Subscriber{s}, &hub.Message{Kind: hub.KindDirect, Payload: ev})
}

// Flush implements hub.Subscriber.
func (s *Socket) Flush() { s.flush() }

// takesFrom reports whether, of a broadcast to several rooms, the socket
// takes the copy that arrived on channel: the one of the first room it is
// in, so it gets the broadcast once.
func (s *Socket) takesFrom(rooms, channels []string, channel string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, room := range rooms {
		if room != "" && s.rooms.has(room) {
			return channels[i] == channel
		}
	}
	return false
}

// excluded reports whether the socket is in one of the except rooms.
func (s *Socket) excluded(except []string) bool {
	for _, r := range except {
		if s.inRoom(r) {
			return true
		}
	}
	return false
}

// ServerDisconnect is how the node disconnects a user's sockets (HTTP
// API, Go API): as a server namespace disconnect, which clients do not
// reconnect after. code and reason are herald's; Socket.IO has no place
// for them.
func (s *Socket) ServerDisconnect(code int, reason string) { s.Disconnect() }

// ServerUnsubscribe is how the node removes a user's sockets from a
// channel: the socket leaves the room the channel maps to and is told
// with a "herald:unsubscribe" event (room, reason). It reports whether
// the socket was in that room.
func (s *Socket) ServerUnsubscribe(ch, reason string) bool {
	room, ok := channelRoom(s.nsp.prefix, ch)
	if !ok || !s.inRoom(room) || room == s.id {
		return false
	}
	if err := s.Leave(room); err != nil {
		return false
	}
	_ = s.Emit("herald:unsubscribe", room, reason)
	return true
}
