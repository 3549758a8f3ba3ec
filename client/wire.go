package client

import (
	"encoding/json"
	"time"

	"github.com/heraldhq/herald/internal/protocol/jsonproto"
)

// Command ops and the command itself are the server's own definitions
// (docs/protocol.md describes them).
const (
	opConnect     = jsonproto.OpConnect
	opSubscribe   = jsonproto.OpSubscribe
	opUnsubscribe = jsonproto.OpUnsubscribe
	opPublish     = jsonproto.OpPublish
	opPresence    = jsonproto.OpPresence
	opHistory     = jsonproto.OpHistory
	opPing        = jsonproto.OpPing
)

// command is one client-to-server message.
type command = jsonproto.Command

// message is any line the server sends: a reply (no type) or a server
// message (with a type). One struct serves both so each line is decoded
// once.
type message struct {
	// Reply fields.
	ID     uint64          `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *Error          `json:"error"`

	// Server message fields; a publication also appears in history.
	Type    string          `json:"type"`
	Channel string          `json:"channel"`
	Offset  uint64          `json:"offset"`
	Epoch   string          `json:"epoch"`
	Time    int64           `json:"time"`
	Data    json.RawMessage `json:"data"`
	Info    *ClientInfo     `json:"info"`
	Event   string          `json:"event"`
	Code    int             `json:"code"`
	Reason  string          `json:"reason"`
}

func (m *message) publication() Publication {
	p := Publication{Channel: m.Channel, Offset: m.Offset, Epoch: m.Epoch, Data: m.Data, Info: m.Info}
	if m.Time != 0 {
		p.Time = time.UnixMilli(m.Time)
	}
	return p
}

// clientInfo is m's info, or the zero ClientInfo when absent.
func (m *message) clientInfo() ClientInfo {
	if m.Info == nil {
		return ClientInfo{}
	}
	return *m.Info
}

// connectResult is the wire form of ConnectInfo.
type connectResult struct {
	Client  string `json:"client"`
	User    string `json:"user"`
	Node    string `json:"node"`
	Version string `json:"version"`
	Expires int64  `json:"expires"`
}

func (r connectResult) info() ConnectInfo {
	ci := ConnectInfo{Client: r.Client, User: r.User, Node: r.Node, Version: r.Version}
	if r.Expires != 0 {
		ci.Expires = time.Unix(r.Expires, 0)
	}
	return ci
}

// historyResult is the wire form of HistoryResult.
type historyResult struct {
	Publications []message `json:"publications"`
	Offset       uint64    `json:"offset"`
	Epoch        string    `json:"epoch"`
}

// eachLine calls f with every non-blank newline-separated line of frame.
func eachLine(frame []byte, f func(line []byte)) { jsonproto.Split(frame, f) }

// appendCommands encodes cmds as one frame, a line each. json.Marshal
// compacts embedded raw JSON, so no command spans two lines.
func appendCommands(dst []byte, cmds []command) ([]byte, error) {
	for i := range cmds {
		b, err := json.Marshal(&cmds[i])
		if err != nil {
			return nil, err
		}
		if len(dst) > 0 {
			dst = append(dst, '\n')
		}
		dst = append(dst, b...)
	}
	return dst, nil
}
