package socketio

import (
	"encoding/json"
	"fmt"

	"github.com/heraldhq/herald/internal/core"
	"github.com/heraldhq/herald/internal/protocol/record"
	"github.com/heraldhq/herald/internal/protocol/sioproto"
)

// builtins let Socket.IO clients use herald's channels with no Go code.
// They are a client's own requests, so the core applies everything it
// applies to a herald-protocol client's subscribe and publish: channel
// policy, the token's channel claim, limits and hooks. Each answers the
// client's acknowledgement with {"ok":true,…} or {"error":"…"}.
var builtins = map[string]func(*Socket, []Arg) any{
	"herald:join":    builtinJoin,
	"herald:leave":   builtinLeave,
	"herald:publish": builtinPublish,
}

// builtinJoin: socket.emit("herald:join", room, ack).
func builtinJoin(s *Socket, args []Arg) any {
	room, ch, err := s.roomArg(args)
	if err != nil {
		return failure(err)
	}
	if err := s.join(room, core.ByClient); err != nil {
		return failure(err)
	}
	return map[string]any{"ok": true, "room": room, "channel": ch}
}

// builtinLeave: socket.emit("herald:leave", room, ack).
func builtinLeave(s *Socket, args []Arg) any {
	room, _, err := s.roomArg(args)
	if err != nil {
		return failure(err)
	}
	if err := s.Leave(room); err != nil {
		return failure(err)
	}
	return map[string]any{"ok": true}
}

// builtinPublish: socket.emit("herald:publish", room, data[, event], ack):
// a publication on the room's channel, received by the room's sockets as
// event (default "message") and by herald-protocol subscribers.
func builtinPublish(s *Socket, args []Arg) any {
	_, ch, err := s.roomArg(args)
	if err != nil {
		return failure(err)
	}
	if len(args) < 2 || args[1].Binary != nil {
		return failure(fmt.Errorf("herald:publish takes (room, data[, event]) with JSON data"))
	}
	event := "message"
	if len(args) > 2 {
		if err := json.Unmarshal(args[2].JSON, &event); err != nil || event == "" || sioproto.IsReservedEvent(event) {
			return failure(fmt.Errorf("herald:publish: the event name must be a non-reserved string"))
		}
	}
	pub := &record.Publication{Channel: ch, Data: append(json.RawMessage(nil), args[1].JSON...)}
	if event != "message" {
		pub.Ext = &sioproto.Routing{Event: event}
	}
	res, err := s.srv.core.Publish(&s.client, pub, core.Publish{From: &s.client, By: core.ByClient, Source: "client"})
	if err != nil {
		return failure(err)
	}
	return map[string]any{"ok": true, "offset": res.Offset}
}

// roomArg reads the room name of a built-in event.
func (s *Socket) roomArg(args []Arg) (string, string, error) {
	var room string
	if len(args) == 0 || args[0].Binary != nil || json.Unmarshal(args[0].JSON, &room) != nil || room == "" {
		return "", "", fmt.Errorf("the first argument must be a room name")
	}
	ch, err := roomChannel(s.nsp.prefix, room)
	return room, ch, err
}

func failure(err error) map[string]string { return map[string]string{"error": err.Error()} }
