package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/protocol/jsonproto"
)

// Subscribe subscribes to ch; its publications then arrive at
// OnPublication. The client remembers ch, and the position of the last
// publication delivered, and after each reconnect subscribes again from
// there, so that the publications missed meanwhile arrive first
// (OnResume says whether all of them could). Each publication is
// delivered once. Subscribing twice is error 409.
func (c *Client) Subscribe(ctx context.Context, ch string) (SubscribeResult, error) {
	return c.subscribe(ctx, ch, nil)
}

// SubscribeFrom is Subscribe resuming at from, the position of the last
// publication the application has: the publications after it are
// replayed ahead of the live ones, and the result's Resume says whether
// that is all of them. A zero from asks for everything the channel's
// history keeps. An offset without its epoch is refused: offsets mean
// nothing outside their stream.
func (c *Client) SubscribeFrom(ctx context.Context, ch string, from Position) (SubscribeResult, error) {
	if from.Offset > 0 && from.Epoch == "" {
		return SubscribeResult{}, fmt.Errorf("herald: SubscribeFrom %s: offset %d has no epoch", ch, from.Offset)
	}
	return c.subscribe(ctx, ch, &from)
}

func (c *Client) subscribe(ctx context.Context, ch string, from *Position) (SubscribeResult, error) {
	cmd := command{Op: opSubscribe, Channel: ch}
	if from != nil {
		cmd.Since = &jsonproto.Since{Offset: from.Offset, Epoch: from.Epoch}
	}
	var r subscribeReply
	if err := c.do(ctx, cmd, ch, &r); err != nil {
		return SubscribeResult{}, err
	}
	out := SubscribeResult{Channel: r.Channel, Offset: r.Offset, Epoch: r.Epoch}
	if from != nil {
		res, _ := resumed(*from, r)
		out.Resume = &res
	}
	return out, nil
}

// Unsubscribe unsubscribes from ch and forgets it for reconnects. It
// succeeds while disconnected: the server holds no subscription then.
func (c *Client) Unsubscribe(ctx context.Context, ch string) error {
	// Forget first, so a reconnect racing with this call cannot bring the
	// subscription back.
	c.mu.Lock()
	delete(c.subs, ch)
	c.mu.Unlock()
	err := c.do(ctx, command{Op: opUnsubscribe, Channel: ch}, "", nil)
	if _, ok := errors.AsType[*DisconnectError](err); ok {
		return nil
	}
	return err
}

// Publish publishes data to ch and returns where it landed. data is sent
// as is when it is a json.RawMessage (which must be valid JSON), else as
// json.Marshal encodes it. The channel's policy decides whether clients
// may publish (403 otherwise).
func (c *Client) Publish(ctx context.Context, ch string, data any) (PublishResult, error) {
	raw, ok := data.(json.RawMessage)
	if ok && !json.Valid(raw) {
		return PublishResult{}, errors.New("herald: publish data is not valid JSON")
	}
	if !ok {
		var err error
		if raw, err = json.Marshal(data); err != nil {
			return PublishResult{}, fmt.Errorf("herald: encoding publish data: %w", err)
		}
	}
	var r PublishResult
	err := c.do(ctx, command{Op: opPublish, Channel: ch, Data: raw}, "", &r)
	return r, err
}

// Presence lists the connections subscribed to ch, for channels whose
// policy keeps presence.
func (c *Client) Presence(ctx context.Context, ch string) ([]ClientInfo, error) {
	var r struct {
		Clients []ClientInfo `json:"clients"`
	}
	err := c.do(ctx, command{Op: opPresence, Channel: ch}, "", &r)
	return r.Clients, err
}

// History returns ch's kept publications with an offset greater than
// *since (all kept ones when since is nil), oldest first, at most limit
// of them (all when 0).
func (c *Client) History(ctx context.Context, ch string, since *uint64, limit int) (HistoryResult, error) {
	var r historyResult
	cmd := command{Op: opHistory, Channel: ch, Limit: limit}
	if since != nil {
		cmd.Since = &jsonproto.Since{Offset: *since}
	}
	if err := c.do(ctx, cmd, "", &r); err != nil {
		return HistoryResult{}, err
	}
	out := HistoryResult{Offset: r.Offset, Epoch: r.Epoch, Publications: make([]Publication, len(r.Publications))}
	for i := range r.Publications {
		out.Publications[i] = r.Publications[i].publication()
	}
	return out, nil
}

// Ping sends a ping command and returns the round-trip time.
func (c *Client) Ping(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	if err := c.do(ctx, command{Op: opPing}, "", nil); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// do runs a command and decodes its result into out (unless nil).
func (c *Client) do(ctx context.Context, cmd command, sub string, out any) error {
	raw, err := c.call(ctx, cmd, sub)
	if err != nil || out == nil {
		return err
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("herald: reading the %s reply: %w", cmd.Op, err)
	}
	return nil
}
