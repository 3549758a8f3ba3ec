package herald

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/hub"
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
// says. Clients' channel policies do not apply to the server.
func (n *Node) Publish(ctx context.Context, ch string, data json.RawMessage) (PublishResult, error) {
	return n.PublishEvent(ctx, ch, "", data)
}

// PublishEvent is Publish with the event name Socket.IO subscribers
// receive (empty means "message").
func (n *Node) PublishEvent(ctx context.Context, ch, event string, data json.RawMessage) (PublishResult, error) {
	return n.serverPublish(ctx, ch, event, data, "go")
}

// serverPublish publishes for the server API or the Go API.
func (n *Node) serverPublish(ctx context.Context, ch, event string, data json.RawMessage, source string) (PublishResult, error) {
	if err := checkServerPublish(ch, data); err != nil {
		return PublishResult{}, err
	}
	return n.publish(ctx, ch, data, nil, event, source)
}

// checkServerPublish validates what the server API and Go API publish.
func checkServerPublish(ch string, data json.RawMessage) error {
	if err := ValidateChannel(ch); err != nil {
		return err
	}
	if len(data) == 0 || !json.Valid(data) {
		return fmt.Errorf("%w: data must be valid JSON", ErrBadData)
	}
	return nil
}

// ErrBadData is wrapped by errors about invalid payloads.
var ErrBadData = fmt.Errorf("invalid data")

var errBadPush = fmt.Errorf("invalid push")

// publish is where every publication enters, whoever sent it.
func (n *Node) publish(ctx context.Context, ch string, data json.RawMessage, from *broker.ClientInfo, event, source string) (PublishResult, error) {
	return n.publishPub(ctx, &broker.Publication{Channel: ch, Data: data, Info: from, Event: event}, source)
}

// publishPub publishes pub, kept in history as its channel's policy says.
func (n *Node) publishPub(ctx context.Context, pub *broker.Publication, source string) (PublishResult, error) {
	if n.closing.Load() {
		return PublishResult{}, ErrShuttingDown
	}
	ch := pub.Channel
	p, _ := n.policyFor(ch)
	delivered := n.hub.NumSubscribers(ch)
	keep := broker.PublishOptions{HistorySize: p.HistorySize, HistoryTTL: p.HistoryTTL}
	if pub.Volatile {
		keep = broker.PublishOptions{} // volatile messages are not worth keeping
	}
	pos, err := n.broker.Publish(ctx, pub, keep)
	if err != nil {
		return PublishResult{}, err
	}
	n.metrics.publications.WithLabelValues(source).Inc()
	n.rates.published.Add(1)
	return PublishResult{Offset: pos.Offset, Epoch: pos.Epoch, Delivered: delivered}, nil
}

// PushToUser sends an event to every connection of user on this node and
// returns how many connections it reached.
func (n *Node) PushToUser(ctx context.Context, user, event string, data json.RawMessage) (int, error) {
	if user == "" {
		return 0, fmt.Errorf("%w: push needs a user", errBadPush)
	}
	if event == "" {
		return 0, fmt.Errorf("%w: push needs an event name", errBadPush)
	}
	if len(data) == 0 || !json.Valid(data) {
		return 0, fmt.Errorf("%w: data must be valid JSON", ErrBadData)
	}
	n.metrics.pushes.Inc()
	m := &hub.Message{Kind: hub.KindPush, Pub: &broker.Publication{Event: event, Data: data}}
	return n.hub.SendTo(n.hub.UserConns(user), m), nil
}

// Disconnect closes every connection of user on this node (close code
// 4003) and returns how many there were.
func (n *Node) Disconnect(ctx context.Context, user string) int {
	subs := n.hub.UserConns(user)
	for _, s := range subs {
		if sess, ok := s.(session); ok {
			sess.ServerDisconnect(CloseDisconnected, "disconnected by the server")
		}
	}
	return len(subs)
}

// Unsubscribe removes every connection of user on this node from ch,
// telling each client, and returns how many were subscribed.
func (n *Node) Unsubscribe(ctx context.Context, user, ch string) int {
	count := 0
	for _, s := range n.hub.UserConns(user) {
		if sess, ok := s.(session); ok && sess.ServerUnsubscribe(ch, "unsubscribed by the server") {
			count++
		}
	}
	return count
}

// Presence lists who is subscribed to ch. It fails when the channel's
// namespace does not keep presence.
func (n *Node) Presence(ctx context.Context, ch string) ([]ClientInfo, error) {
	if err := ValidateChannel(ch); err != nil {
		return nil, err
	}
	if p, _ := n.policyFor(ch); !p.Presence {
		return nil, fmt.Errorf("%w: presence is off for channel %q", ErrPresenceOff, ch)
	}
	list, err := n.presenceList(ctx, ch)
	if err != nil {
		return nil, err
	}
	out := make([]ClientInfo, len(list))
	for i, c := range list {
		out[i] = ClientInfo{Client: c.Client, User: c.User, Info: c.Info}
	}
	return out, nil
}

// ErrPresenceOff is wrapped when presence is asked of a channel that does
// not keep it.
var ErrPresenceOff = fmt.Errorf("presence off")

// presenceList returns ch's presence sorted by client id.
func (n *Node) presenceList(ctx context.Context, ch string) ([]*broker.ClientInfo, error) {
	m, err := n.presence.Presence(ctx, ch)
	if err != nil {
		return nil, err
	}
	out := make([]*broker.ClientInfo, 0, len(m))
	for _, c := range m {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Client < out[j].Client })
	return out, nil
}
