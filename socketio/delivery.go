package socketio

import (
	"github.com/heraldhq/herald/internal/core"
	"github.com/heraldhq/herald/internal/hub"
)

// sink is how the hub and the core see a socket: the same struct as
// Socket, with the methods only they call, so they stay off the API
// users program against.
type sink Socket

var (
	_ core.Session  = (*sink)(nil)
	_ core.Replayer = (*sink)(nil)
)

func (s *Socket) sink() *sink { return (*sink)(s) }

// Format implements hub.Subscriber: the socket's namespace's packets.
func (k *sink) Format() hub.Format { return k.nsp.format }

// Deliver implements hub.Subscriber: a message on one of the socket's
// room channels, or a push to its user, becomes an event; a packet the
// socket itself sent through the hub is queued as it is. While recovery
// catches a room up from its stream, that room's messages wait.
func (k *sink) Deliver(m *hub.Message, encoded any) bool {
	if held, needsFlush := k.client.Holds(m, encoded); held {
		return needsFlush
	}
	return k.DeliverNow(m, encoded)
}

// DeliverNow implements core.Replayer: Deliver without the wait, which
// the replay of a room's stream goes through, filtered as live events are.
func (k *sink) DeliverNow(m *hub.Message, encoded any) bool {
	s := (*Socket)(k)
	ev, _ := encoded.(*encodedEvent)
	if ev == nil {
		return false
	}
	if m.Kind == hub.KindDirect {
		needs := false
		if ev.text != nil { // a packet; none when only after matters
			needs = s.send(ev, ev.replayable)
		}
		if ev.after != nil {
			s.run(ev.after)
		}
		return needs
	}
	if m.Kind == hub.KindPublication && !s.takes(ev, m.Channel) {
		return false
	}
	return s.send(ev, ev.replayable)
}

// Flush implements hub.Subscriber.
func (k *sink) Flush() { (*Socket)(k).flush() }

// Client implements core.Session.
func (k *sink) Client() *core.Client { return &k.client }

// RemoteAddr implements core.Session.
func (k *sink) RemoteAddr() string { return k.req.RemoteAddr() }

// Disconnect implements core.Session: the node disconnects a user's
// sockets (HTTP API, Go API) and sockets whose token expired as a server
// namespace disconnect, which clients do not reconnect after; a socket
// kept for recovery ends, so its client cannot get it back. Socket.IO has
// no place for herald's code and reason.
func (k *sink) Disconnect(int, string) {
	s := (*Socket)(k)
	if s.state.Load() == socketRecoverable {
		s.close("server namespace disconnect")
		return
	}
	s.Disconnect()
}

// Unsubscribed implements core.Session: the socket left the room ch maps
// to, and is told with a "herald:unsubscribe" event (room, reason).
func (k *sink) Unsubscribed(ch, reason string) {
	s := (*Socket)(k)
	if room, ok := channelRoom(s.nsp.prefix, ch); ok {
		_ = s.Emit("herald:unsubscribe", room, reason)
	}
}

// post sends a packet of this socket's own through the hub, behind every
// message already on its way to it: what a handler emits after a room
// broadcast arrives after it, as with the reference server.
func (s *Socket) post(ev *encodedEvent) {
	s.srv.core.Hub().SendTo([]hub.Subscriber{s.sink()}, &hub.Message{Kind: hub.KindDirect, Payload: ev})
}

// takes reports whether the socket takes a publication that arrived on
// channel: not when it is in an excepted room, and of a broadcast to
// several rooms only the copy of the first one it is in, so it gets the
// broadcast once.
func (s *Socket) takes(ev *encodedEvent, channel string) bool {
	if s.excluded(ev) {
		return false
	}
	if len(ev.channels) == 0 {
		return true
	}
	for _, ch := range ev.channels {
		if s.client.Subscribed(ch) {
			return ch == channel
		}
	}
	return false
}

// excluded reports whether the socket is in one of an event's excepted
// rooms.
func (s *Socket) excluded(ev *encodedEvent) bool {
	for _, id := range ev.except {
		if id == s.ID() {
			return true
		}
	}
	for _, ch := range ev.exceptChannels {
		if s.client.Subscribed(ch) {
			return true
		}
	}
	return false
}
