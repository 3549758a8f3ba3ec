package broker

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/heraldhq/herald/internal/protocol/pbwire"
	"github.com/heraldhq/herald/internal/protocol/record"
	"google.golang.org/protobuf/encoding/protowire"
)

// Joins, leaves, pushes and presence entries cross NATS in the same
// canonical protocol buffer form as records (pbwire), behind a version
// byte of their own.
const natsWireVersion byte = 1

// Fields of a client and of a push.
const (
	natsFieldClient protowire.Number = 1
	natsFieldUser   protowire.Number = 2
	natsFieldInfo   protowire.Number = 3

	natsFieldPushUser  protowire.Number = 1
	natsFieldPushEvent protowire.Number = 2
	natsFieldPushData  protowire.Number = 3
)

func appendNATSClient(b []byte, c *record.ClientInfo) []byte {
	b = append(b, natsWireVersion)
	b = pbwire.AppendString(b, natsFieldClient, c.Client)
	b = pbwire.AppendString(b, natsFieldUser, c.User)
	return pbwire.AppendBytes(b, natsFieldInfo, c.Info)
}

func decodeNATSClient(b []byte) (*record.ClientInfo, error) {
	r, err := natsWireReader(b)
	if err != nil {
		return nil, err
	}
	c := &record.ClientInfo{}
	for r.Next() {
		switch r.Field() {
		case natsFieldClient:
			c.Client = r.String()
		case natsFieldUser:
			c.User = r.String()
		case natsFieldInfo:
			c.Info = json.RawMessage(r.Bytes())
		default:
			r.Unknown()
		}
	}
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("broker: a client from NATS: %w", err)
	}
	return c, nil
}

func appendNATSPush(b []byte, p *record.Push) []byte {
	b = append(b, natsWireVersion)
	b = pbwire.AppendString(b, natsFieldPushUser, p.User)
	b = pbwire.AppendString(b, natsFieldPushEvent, p.Event)
	return pbwire.AppendBytes(b, natsFieldPushData, p.Data)
}

func decodeNATSPush(b []byte) (*record.Push, error) {
	r, err := natsWireReader(b)
	if err != nil {
		return nil, err
	}
	p := &record.Push{}
	for r.Next() {
		switch r.Field() {
		case natsFieldPushUser:
			p.User = r.String()
		case natsFieldPushEvent:
			p.Event = r.String()
		case natsFieldPushData:
			p.Data = json.RawMessage(r.Bytes())
		default:
			r.Unknown()
		}
	}
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("broker: a push from NATS: %w", err)
	}
	return p, nil
}

func natsWireReader(b []byte) (*pbwire.Reader, error) {
	if len(b) == 0 {
		return nil, errors.New("broker: empty message from NATS")
	}
	if b[0] != natsWireVersion {
		return nil, fmt.Errorf("broker: NATS message version %d is not one this node reads", b[0])
	}
	return pbwire.NewReader(b[1:]), nil
}
