package record

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/heraldhq/herald/internal/protocol/pbwire"
	"google.golang.org/protobuf/encoding/protowire"
)

// Version is the first byte of every encoded record: the layout that
// follows it. A decoder refuses versions it does not know.
const Version byte = 1

// Field numbers of the version 1 layout (docs/record.md).
const (
	fieldChannel protowire.Number = 1
	fieldOffset  protowire.Number = 2
	fieldEpoch   protowire.Number = 3
	fieldTime    protowire.Number = 4
	fieldData    protowire.Number = 5
	fieldInfo    protowire.Number = 6
	fieldExt     protowire.Number = 7

	fieldClient protowire.Number = 1
	fieldUser   protowire.Number = 2
	fieldDetail protowire.Number = 3

	fieldExtKind  protowire.Number = 1
	fieldExtValue protowire.Number = 2
)

// AppendBinary appends p's encoding: the version byte, then p as a
// protocol buffer in canonical form. It refuses what Decode would: a
// record this node writes, every node reads.
func (p *Publication) AppendBinary(dst []byte) ([]byte, error) {
	if err := p.check(); err != nil {
		return dst, err
	}
	var ext []byte
	if p.Ext != nil {
		if p.Ext.ExtensionKind() == 0 {
			return dst, errors.New("record: an extension needs a non-zero kind")
		}
		var err error
		if ext, err = p.Ext.AppendBinary(nil); err != nil {
			return dst, fmt.Errorf("record: encoding the extension: %w", err)
		}
	}
	b := append(dst, Version)
	b = pbwire.AppendString(b, fieldChannel, p.Channel)
	b = pbwire.AppendUint(b, fieldOffset, p.Offset)
	b = pbwire.AppendString(b, fieldEpoch, p.Epoch)
	b = pbwire.AppendUint(b, fieldTime, uint64(p.Time))
	b = pbwire.AppendBytes(b, fieldData, p.Data)
	if p.Info != nil {
		b = pbwire.AppendMessage(b, fieldInfo, p.Info.append)
	}
	if p.Ext != nil {
		b = pbwire.AppendMessage(b, fieldExt, func(m []byte) []byte {
			m = pbwire.AppendUint(m, fieldExtKind, uint64(p.Ext.ExtensionKind()))
			return pbwire.AppendBytes(m, fieldExtValue, ext)
		})
	}
	return b, nil
}

func (c *ClientInfo) append(b []byte) []byte {
	b = pbwire.AppendString(b, fieldClient, c.Client)
	b = pbwire.AppendString(b, fieldUser, c.User)
	return pbwire.AppendBytes(b, fieldDetail, c.Info)
}

// Decode reads a record AppendBinary wrote. It accepts nothing else:
// malformed, truncated or non-canonical bytes, an unknown version or
// field, a publication without a channel, or data that is not JSON give
// an error, so what it accepts re-encodes to the same bytes. An extension
// comes back as a RawExtension for its owner to parse.
func Decode(b []byte) (*Publication, error) {
	if len(b) == 0 {
		return nil, errors.New("record: empty input")
	}
	if b[0] != Version {
		return nil, fmt.Errorf("record: version %d is not one this node reads (it reads %d)", b[0], Version)
	}
	p := &Publication{}
	r := pbwire.NewReader(b[1:])
	for r.Next() {
		p.decodeField(r)
	}
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Publication) decodeField(r *pbwire.Reader) {
	switch r.Field() {
	case fieldChannel:
		p.Channel = r.String()
	case fieldOffset:
		p.Offset = r.Uint()
	case fieldEpoch:
		p.Epoch = r.String()
	case fieldTime:
		p.Time = int64(r.Uint())
	case fieldData:
		p.Data = r.Bytes()
	case fieldInfo:
		if m, ok := r.Message(); ok {
			p.Info = decodeInfo(r, m)
		}
	case fieldExt:
		if m, ok := r.Message(); ok {
			p.Ext = decodeExt(r, m)
		}
	default:
		r.Unknown()
	}
}

// nested reports an embedded message's error through its parent.
type nested interface{ Err() error }

func decodeInfo(parent *pbwire.Reader, m []byte) *ClientInfo {
	c := &ClientInfo{}
	r := pbwire.NewReader(m)
	for r.Next() {
		switch r.Field() {
		case fieldClient:
			c.Client = r.String()
		case fieldUser:
			c.User = r.String()
		case fieldDetail:
			c.Info = r.Bytes()
		default:
			r.Unknown()
		}
	}
	failInto(parent, r, "info")
	return c
}

func decodeExt(parent *pbwire.Reader, m []byte) Extension {
	var x RawExtension
	r := pbwire.NewReader(m)
	for r.Next() {
		switch r.Field() {
		case fieldExtKind:
			if k := r.Uint(); k <= math.MaxUint32 {
				x.Kind = ExtensionKind(k)
			} else {
				r.Fail("kind is larger than 32 bits")
			}
		case fieldExtValue:
			x.Value = r.Bytes()
		default:
			r.Unknown()
		}
	}
	if r.Err() == nil && x.Kind == 0 {
		parent.Fail("ext: no kind")
	}
	failInto(parent, r, "ext")
	return x
}

func failInto(parent *pbwire.Reader, r nested, what string) {
	if err := r.Err(); err != nil {
		parent.Fail(what + ": " + err.Error())
	}
}

// check applies what a publication must be beyond its wire form.
func (p *Publication) check() error {
	switch {
	case !utf8.ValidString(p.Channel) || !utf8.ValidString(p.Epoch) ||
		p.Info != nil && (!utf8.ValidString(p.Info.Client) || !utf8.ValidString(p.Info.User)):
		return errors.New("record: a name is not valid UTF-8")
	case p.Channel == "":
		return errors.New("record: publication has no channel")
	case p.Data != nil && !json.Valid(p.Data):
		return errors.New("record: data is not valid JSON")
	case p.Info != nil && p.Info.Info != nil && !json.Valid(p.Info.Info):
		return errors.New("record: publisher info is not valid JSON")
	}
	return nil
}
