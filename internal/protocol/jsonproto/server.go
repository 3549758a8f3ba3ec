package jsonproto

import (
	"encoding/json"
	"strconv"

	"github.com/heraldhq/herald/internal/protocol/record"
)

// Error is the error half of a reply.
type Error struct {
	// Code is HTTP-like: 400 bad request, 401 not authenticated, 403
	// forbidden, 404 unknown operation, 409 conflict, 429 rate limited,
	// 500 internal, 503 unavailable.
	Code int `json:"code"`
	// Message says what went wrong in words.
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Message }

// Reply codes, named.
const (
	CodeBadRequest   = 400
	CodeUnauthorized = 401
	CodeForbidden    = 403
	CodeUnknownOp    = 404
	CodeConflict     = 409
	CodeRateLimited  = 429
	CodeInternal     = 500
	CodeUnavailable  = 503
)

type reply struct {
	ID     uint64 `json:"id"`
	Result any    `json:"result,omitempty"`
	Error  *Error `json:"error,omitempty"`
}

// AppendReply appends a successful reply; a nil result becomes {}.
func AppendReply(dst []byte, id uint64, result any) []byte {
	if result == nil {
		result = struct{}{}
	}
	return appendJSON(dst, reply{ID: id, Result: result})
}

// AppendError appends an error reply.
func AppendError(dst []byte, id uint64, e *Error) []byte {
	return appendJSON(dst, reply{ID: id, Error: e})
}

// publication is the wire form of a publication.
type publication struct {
	Type    string             `json:"type"`
	Channel string             `json:"channel"`
	Offset  uint64             `json:"offset"`
	Epoch   string             `json:"epoch,omitempty"`
	Time    int64              `json:"time,omitempty"`
	Data    json.RawMessage    `json:"data"`
	Info    *record.ClientInfo `json:"info,omitempty"`
}

// PublicationValue is the JSON object a publication is sent as, for
// embedding in replies (history).
func PublicationValue(p *record.Publication) any {
	return publication{Type: "publication", Channel: p.Channel, Offset: p.Offset, Epoch: p.Epoch,
		Time: p.Time, Data: dataOrNull(p.Data), Info: p.Info}
}

// AppendPublication appends a publication message.
func AppendPublication(dst []byte, p *record.Publication) []byte {
	return appendJSON(dst, PublicationValue(p))
}

type presenceEvent struct {
	Type    string             `json:"type"`
	Channel string             `json:"channel"`
	Info    *record.ClientInfo `json:"info"`
}

// AppendJoin appends a notice that info joined ch.
func AppendJoin(dst []byte, ch string, info *record.ClientInfo) []byte {
	return appendJSON(dst, presenceEvent{"join", ch, info})
}

// AppendLeave appends a notice that info left ch.
func AppendLeave(dst []byte, ch string, info *record.ClientInfo) []byte {
	return appendJSON(dst, presenceEvent{"leave", ch, info})
}

type push struct {
	Type  string          `json:"type"`
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
}

// AppendPush appends a push addressed to the connection's user.
func AppendPush(dst []byte, event string, data json.RawMessage) []byte {
	return appendJSON(dst, push{"push", event, dataOrNull(data)})
}

type unsubscribe struct {
	Type    string `json:"type"`
	Channel string `json:"channel"`
	Reason  string `json:"reason"`
}

// AppendUnsubscribe appends a notice that the server removed the
// connection from ch.
func AppendUnsubscribe(dst []byte, ch, reason string) []byte {
	return appendJSON(dst, unsubscribe{"unsubscribe", ch, reason})
}

type disconnect struct {
	Type   string `json:"type"`
	Code   int    `json:"code"`
	Reason string `json:"reason"`
}

// AppendDisconnect appends the notice sent just before the server closes
// the connection; code is also the WebSocket close code.
func AppendDisconnect(dst []byte, code int, reason string) []byte {
	return appendJSON(dst, disconnect{"disconnect", code, reason})
}

func dataOrNull(d json.RawMessage) json.RawMessage {
	if len(d) == 0 {
		return json.RawMessage("null")
	}
	return d
}

// appendJSON marshals v; the values here always marshal, so a failure is
// a programming error reported as a JSON error object.
func appendJSON(dst []byte, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return append(dst, `{"error":{"code":500,"message":`+strconv.Quote(err.Error())+`}}`...)
	}
	return append(dst, b...)
}
