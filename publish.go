package herald

import (
	"context"
	"encoding/json"

	"github.com/heraldhq/herald/internal/core"
	"github.com/heraldhq/herald/internal/protocol/record"
	"github.com/heraldhq/herald/internal/protocol/sioproto"
)

// PublishResult says where a publication landed.
type PublishResult struct {
	// Offset is the publication's position in the channel's stream.
	Offset uint64 `json:"offset"`
	// Epoch is the stream's epoch.
	Epoch string `json:"epoch"`
	// Delivered is how many connections on this node were subscribed to
	// the channel when the publication was accepted.
	Delivered int `json:"delivered"`
}

// ClientInfo says who a connection is, as presence reports it.
type ClientInfo struct {
	Client string          `json:"client"`
	User   string          `json:"user,omitempty"`
	Info   json.RawMessage `json:"info,omitempty"`
}

// Publish sends data (JSON) to every subscriber of ch, whatever protocol
// each speaks, and keeps it in the channel's history as its namespace
// says. Socket.IO subscribers receive it as event "message". Clients'
// channel policies and the hooks do not apply to the server. While the
// node's fan-out backlog is past limits.max_node_queue_bytes, Publish
// waits for room until ctx ends, then returns an error wrapping
// ErrOverloaded and ctx's error.
func (n *Node) Publish(ctx context.Context, ch string, data json.RawMessage) (PublishResult, error) {
	return n.PublishEvent(ctx, ch, "", data)
}

// PublishEvent is Publish with the event name Socket.IO subscribers
// receive (empty means "message").
func (n *Node) PublishEvent(ctx context.Context, ch, event string, data json.RawMessage) (PublishResult, error) {
	res, err := n.core.Publish(ctx, serverPublication(ch, event, data), core.Publish{Source: "go", Backoff: core.Wait})
	return PublishResult(res), err
}

// serverPublication is what the server publishes on ch: data, and the
// event name for Socket.IO subscribers.
func serverPublication(ch, event string, data json.RawMessage) *record.Publication {
	pub := &record.Publication{Channel: ch, Data: data}
	if event != "" {
		pub.Ext = &sioproto.Routing{Event: event}
	}
	return pub
}

// PushToUser sends an event to every connection of user, on every node
// of the cluster, and returns how many of them are on this node. It
// waits for room as Publish does.
func (n *Node) PushToUser(ctx context.Context, user, event string, data json.RawMessage) (int, error) {
	return n.core.Push(ctx, &record.Push{User: user, Event: event, Data: data}, core.Wait)
}

// Disconnect closes every connection of user on every node (close code
// 4003; Socket.IO sockets get a server disconnect) and returns how many
// there were. When some node does not answer in time the count leaves
// its connections out and the error, matching ErrPartial, names it.
func (n *Node) Disconnect(ctx context.Context, user string) (int, error) {
	t, err := n.core.DisconnectUser(ctx, user)
	return t.Count, err
}

// Unsubscribe removes every connection of user on every node from ch,
// telling each client, and returns how many were subscribed; partial
// answers as for Disconnect.
func (n *Node) Unsubscribe(ctx context.Context, user, ch string) (int, error) {
	t, err := n.core.UnsubscribeUser(ctx, user, ch)
	return t.Count, err
}

// Presence lists who is subscribed to ch, sorted by client id. It fails
// when the channel's namespace does not keep presence.
func (n *Node) Presence(ctx context.Context, ch string) ([]ClientInfo, error) {
	list, err := n.core.Presence(ctx, ch)
	if err != nil {
		return nil, err
	}
	out := make([]ClientInfo, len(list))
	for i, c := range list {
		out[i] = ClientInfo(*c)
	}
	return out, nil
}
