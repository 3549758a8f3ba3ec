package herald

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/heraldhq/herald/internal/api"
)

// APIHandler serves the HTTP server API at /api/ alone.
func (n *Node) APIHandler() http.Handler {
	if n.cfg.APIKey == "" {
		n.log.Warn("api_key is not set: the server API refuses every request")
	}
	return api.New(apiBackend{n}, api.Config{
		APIKey:  n.cfg.APIKey,
		MaxBody: int64(n.cfg.Limits.MaxAPIBody),
		Observe: func(endpoint string, status int) {
			n.metrics.apiRequests.WithLabelValues(endpoint, strconv.Itoa(status)).Inc()
		},
	})
}

// apiBackend adapts the node to the API, mapping errors to statuses.
type apiBackend struct{ n *Node }

func (b apiBackend) CheckChannel(ch string) error { return ValidateChannel(ch) }

func (b apiBackend) Publish(ctx context.Context, ch, event string, data json.RawMessage) (api.PublishResult, error) {
	res, err := b.n.serverPublish(ctx, ch, event, data, "api")
	if err != nil {
		return api.PublishResult{}, apiError(err)
	}
	return api.PublishResult{Offset: res.Offset, Epoch: res.Epoch, Delivered: res.Delivered}, nil
}

func (b apiBackend) Push(ctx context.Context, user, event string, data json.RawMessage) (int, error) {
	count, err := b.n.PushToUser(ctx, user, event, data)
	if err != nil {
		return 0, apiError(err)
	}
	return count, nil
}

func (b apiBackend) Disconnect(ctx context.Context, user string) int {
	return b.n.Disconnect(ctx, user)
}

func (b apiBackend) Unsubscribe(ctx context.Context, user, ch string) int {
	return b.n.Unsubscribe(ctx, user, ch)
}

func (b apiBackend) Presence(ctx context.Context, ch string) (any, error) {
	list, err := b.n.Presence(ctx, ch)
	if err != nil {
		return nil, apiError(err)
	}
	return list, nil
}

func (b apiBackend) Channels() any { return b.n.hub.Channels() }

func (b apiBackend) Info() any { return b.n.Info() }

// apiError gives node errors their HTTP status.
func apiError(err error) error {
	switch {
	case errors.Is(err, ErrBadChannel), errors.Is(err, ErrBadData), errors.Is(err, ErrPresenceOff), errors.Is(err, errBadPush):
		return &api.Error{Status: http.StatusBadRequest, Message: err.Error()}
	case errors.Is(err, ErrShuttingDown):
		return &api.Error{Status: http.StatusServiceUnavailable, Message: err.Error()}
	}
	return err
}
