package socketio

import (
	"github.com/heraldhq/herald/internal/hub"
)

// Deliver implements hub.Subscriber: a message on one of the socket's
// room channels, or a push to its user, becomes an event.
func (s *Socket) Deliver(m *hub.Message) bool {
	ev := m.Encoded(s.nsp.format(), s.nsp.encodeMessage).(*encodedEvent)
	if ev == nil {
		return false
	}
	if p := m.Pub; p != nil {
		if s.excluded(p.Except) || (p.Group != 0 && s.seen(p.Group)) {
			return false
		}
	}
	return s.send(ev, !ev.volatile)
}

// Flush implements hub.Subscriber.
func (s *Socket) Flush() { s.flush() }

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
