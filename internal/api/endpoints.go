package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/heraldhq/herald/internal/core"
	"github.com/heraldhq/herald/internal/protocol/record"
)

// maxBroadcastChannels bounds one broadcast request.
const maxBroadcastChannels = 1000

type publishRequest struct {
	Channel string          `json:"channel"`
	Data    json.RawMessage `json:"data"`
	Event   string          `json:"event"`
}

func (s *server) publish(r *http.Request) (int, any) {
	var req publishRequest
	if err := s.decode(r, &req); err != nil {
		return fail(err)
	}
	if req.Channel == "" {
		return fail(missing("channel"))
	}
	if len(req.Data) == 0 {
		return fail(missing("data"))
	}
	res, err := s.publishOne(r, req.Channel, req.Event, req.Data, core.Refuse)
	if err != nil {
		return fail(err)
	}
	return http.StatusOK, res
}

// publishOne publishes for the server: no channel policy, no hook. b is
// Refuse, or Admitted for a broadcast whose request was already let in.
func (s *server) publishOne(r *http.Request, ch, event string, data json.RawMessage, b core.Backoff) (core.PublishResult, error) {
	return s.core.Publish(r.Context(), s.cfg.Publication(ch, event, data), core.Publish{Source: "api", Backoff: b})
}

type broadcastRequest struct {
	Channels []string        `json:"channels"`
	Data     json.RawMessage `json:"data"`
	Event    string          `json:"event"`
}

type broadcastResult struct {
	Channel string `json:"channel"`
	core.PublishResult
}

type broadcastResponse struct {
	Results   []broadcastResult `json:"results"`
	Delivered int               `json:"delivered"`
}

func (s *server) broadcast(r *http.Request) (int, any) {
	var req broadcastRequest
	if err := s.decode(r, &req); err != nil {
		return fail(err)
	}
	switch {
	case len(req.Channels) == 0:
		return fail(missing("channels"))
	case len(req.Channels) > maxBroadcastChannels:
		return fail(&Error{http.StatusBadRequest, fmt.Sprintf("too many channels: %d, at most %d per broadcast",
			len(req.Channels), maxBroadcastChannels)})
	case len(req.Data) == 0:
		return fail(missing("data"))
	}
	for i, ch := range req.Channels {
		if err := core.ValidateChannel(ch); err != nil {
			return fail(&Error{http.StatusBadRequest, fmt.Sprintf("channels[%d]: %v", i, err)})
		}
	}
	// Back-pressure takes a broadcast whole or refuses it whole, so a
	// refusal never leaves it half published.
	if err := s.core.MakeRoom(r.Context(), core.Refuse, "api"); err != nil {
		return fail(err)
	}
	var resp broadcastResponse
	for i, ch := range req.Channels {
		res, err := s.publishOne(r, ch, req.Event, req.Data, core.Admitted)
		if err != nil {
			return fail(fmt.Errorf("channels[%d]: %w (the channels before it were published)", i, err))
		}
		resp.Results = append(resp.Results, broadcastResult{ch, res})
		resp.Delivered += res.Delivered
	}
	return http.StatusOK, resp
}

type pushRequest struct {
	User  string          `json:"user"`
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
}

type countResponse struct {
	Delivered int `json:"delivered"`
}

func (s *server) push(r *http.Request) (int, any) {
	var req pushRequest
	if err := s.decode(r, &req); err != nil {
		return fail(err)
	}
	switch {
	case req.User == "":
		return fail(missing("user"))
	case req.Event == "":
		return fail(missing("event"))
	case len(req.Data) == 0:
		return fail(missing("data"))
	}
	n, err := s.core.Push(r.Context(), &record.Push{User: req.User, Event: req.Event, Data: req.Data}, core.Refuse)
	if err != nil {
		return fail(err)
	}
	return http.StatusOK, countResponse{n}
}

type userRequest struct {
	User    string `json:"user"`
	Channel string `json:"channel"`
}

func (s *server) disconnect(r *http.Request) (int, any) {
	var req struct {
		User string `json:"user"`
	}
	if err := s.decode(r, &req); err != nil {
		return fail(err)
	}
	if req.User == "" {
		return fail(missing("user"))
	}
	t, err := s.core.DisconnectUser(r.Context(), req.User)
	return tally("disconnected", t, err)
}

// tally answers a cluster-wide order: the count, and the nodes that did
// not answer in time, if any (the answer is then partial, not an error).
func tally(name string, t core.Tally, err error) (int, any) {
	if err != nil && !errors.Is(err, core.ErrPartial) {
		return fail(err)
	}
	out := map[string]any{name: t.Count}
	if len(t.Missing) > 0 {
		out["missing_nodes"] = t.Missing
	}
	return http.StatusOK, out
}

func (s *server) unsubscribe(r *http.Request) (int, any) {
	var req userRequest
	if err := s.decode(r, &req); err != nil {
		return fail(err)
	}
	if req.User == "" {
		return fail(missing("user"))
	}
	if req.Channel == "" {
		return fail(missing("channel"))
	}
	t, err := s.core.UnsubscribeUser(r.Context(), req.User, req.Channel)
	return tally("unsubscribed", t, err)
}

func (s *server) presence(r *http.Request) (int, any) {
	ch := r.URL.Query().Get("channel")
	if ch == "" {
		return fail(&Error{http.StatusBadRequest, `missing query parameter "channel"`})
	}
	clients, err := s.core.Presence(r.Context(), ch)
	if err != nil {
		return fail(err)
	}
	return http.StatusOK, map[string]any{"channel": ch, "clients": clients}
}

func (s *server) channels(*http.Request) (int, any) {
	return http.StatusOK, map[string]any{"channels": s.core.Channels()}
}

func (s *server) info(r *http.Request) (int, any) {
	v, err := s.cfg.Info(r.Context())
	if err != nil {
		return fail(err)
	}
	return http.StatusOK, v
}
