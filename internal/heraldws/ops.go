package heraldws

import (
	"github.com/heraldhq/herald/internal/core"
	"github.com/heraldhq/herald/internal/protocol/jsonproto"
	"github.com/heraldhq/herald/internal/protocol/record"
)

type connectResult struct {
	Client  string `json:"client"`
	User    string `json:"user,omitempty"`
	Expires int64  `json:"expires,omitempty"`
	Node    string `json:"node"`
	Version string `json:"version"`
}

func (s *Session) cmdConnect(cmd jsonproto.Command) (any, *jsonproto.Error) {
	cl, c := &s.client, s.srv.core
	if cl.Connected() {
		switch {
		case cmd.Token == "":
			return s.connectResult(), nil
		case cl.User() != "":
			return nil, &jsonproto.Error{Code: jsonproto.CodeConflict, Message: "already connected as " + cl.User()}
		case cl.NumChannels() > 0:
			return nil, &jsonproto.Error{Code: jsonproto.CodeConflict, Message: "connect with a token before subscribing"}
		}
	}
	creds, e := c.Credentials(cl, cmd.Token)
	if e == nil {
		e = c.Connect(cl, creds)
	}
	if e != nil {
		// The connection closes with the refusal's code right after the reply.
		s.closeAfter = e
		return nil, &jsonproto.Error{Code: e.Code, Message: e.Message}
	}
	return s.connectResult(), nil
}

func (s *Session) connectResult() connectResult {
	r := connectResult{Client: s.client.ID(), User: s.client.User(), Node: s.srv.core.ID(), Version: s.srv.cfg.Version}
	if t := s.client.ExpiresAt(); !t.IsZero() {
		r.Expires = t.Unix()
	}
	return r
}

type subscribeResult struct {
	Channel string `json:"channel"`
	Offset  uint64 `json:"offset"`
	Epoch   string `json:"epoch"`
	// Recovered and Replayed answer a subscribe with since.
	Recovered *bool `json:"recovered,omitempty"`
	Replayed  *int  `json:"replayed,omitempty"`
}

// cmdSubscribe subscribes; with since, the replay and then the live
// publications follow the reply (afterReply).
func (s *Session) cmdSubscribe(cmd jsonproto.Command) (any, *jsonproto.Error) {
	var since *core.Since
	if cmd.Since != nil {
		since = &core.Since{Offset: cmd.Since.Offset, Epoch: cmd.Since.Epoch}
	}
	sub, e := s.srv.core.Subscribe(&s.client, cmd.Channel, core.ByClient, since)
	if e != nil {
		return nil, wireError(e)
	}
	r := subscribeResult{Channel: cmd.Channel, Offset: sub.Position.Offset, Epoch: sub.Position.Epoch}
	if res := sub.Resume; res != nil {
		r.Recovered, r.Replayed = &res.Recovered, &res.Replayed
		s.afterReply = sub.Start
	}
	return r, nil
}

func (s *Session) cmdUnsubscribe(cmd jsonproto.Command) (any, *jsonproto.Error) {
	if err := core.ValidateChannel(cmd.Channel); err != nil {
		return nil, &jsonproto.Error{Code: jsonproto.CodeBadRequest, Message: err.Error()}
	}
	s.srv.core.Unsubscribe(&s.client, cmd.Channel)
	return nil, nil
}

type publishResult struct {
	Offset uint64 `json:"offset"`
	Epoch  string `json:"epoch"`
}

func (s *Session) cmdPublish(cmd jsonproto.Command) (any, *jsonproto.Error) {
	if err := core.ValidateChannel(cmd.Channel); err != nil {
		return nil, &jsonproto.Error{Code: jsonproto.CodeBadRequest, Message: err.Error()}
	}
	if len(cmd.Data) == 0 {
		return nil, &jsonproto.Error{Code: jsonproto.CodeBadRequest, Message: `publish needs "data"`}
	}
	pub := &record.Publication{Channel: cmd.Channel, Data: cmd.Data}
	res, err := s.srv.core.Publish(&s.client, pub, core.Publish{From: &s.client, By: core.ByClient, Source: "client"})
	if err != nil {
		return nil, wireError(err)
	}
	return publishResult{Offset: res.Offset, Epoch: res.Epoch}, nil
}

type presenceResult struct {
	Clients []*record.ClientInfo `json:"clients"`
}

func (s *Session) cmdPresence(cmd jsonproto.Command) (any, *jsonproto.Error) {
	clients, err := s.srv.core.ClientPresence(&s.client, cmd.Channel)
	if err != nil {
		return nil, wireError(err)
	}
	return presenceResult{Clients: clients}, nil
}

type historyResult struct {
	Publications []any  `json:"publications"`
	Offset       uint64 `json:"offset"`
	Epoch        string `json:"epoch"`
}

func (s *Session) cmdHistory(cmd jsonproto.Command) (any, *jsonproto.Error) {
	q := core.HistoryQuery{Limit: cmd.Limit, Epoch: cmd.Epoch}
	if cmd.Since != nil {
		q.Since, q.Epoch = cmd.Since.Offset, cmd.Since.Epoch
	}
	pubs, pos, err := s.srv.core.ClientHistory(&s.client, cmd.Channel, q)
	if err != nil {
		return nil, wireError(err)
	}
	out := make([]any, len(pubs))
	for i, pub := range pubs {
		out[i] = jsonproto.PublicationValue(pub)
	}
	return historyResult{Publications: out, Offset: pos.Offset, Epoch: pos.Epoch}, nil
}
