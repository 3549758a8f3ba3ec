package broker

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/heraldhq/herald/internal/protocol/record"
)

// What a channel's pub/sub topic carries starts with its kind.
const (
	// kindPublication: "p" OFFSET "," EPOCH "," RECORD. The publishing
	// node encodes the record once, without offset and epoch; the publish
	// script, which assigns them, writes them in front.
	kindPublication = 'p'
	// kindJoin and kindLeave: the kind, then the client as a record
	// without data, so its info travels byte for byte as publications
	// carry it.
	kindJoin  = 'j'
	kindLeave = 'l'
)

// dispatch hands what arrived on topic to the handler. It runs on the
// pub/sub connection's reader, one message after another, which keeps
// each channel's publications in the order the scripts numbered them.
func (b *RedisBroker) dispatch(topic, msg string) {
	rest, _ := strings.CutPrefix(topic, b.keys.prefix+":")
	var err error
	switch {
	case strings.HasPrefix(rest, "c:"):
		err = b.dispatchChannel(msg)
	case strings.HasPrefix(rest, "u:"):
		var push *record.Push
		if push, err = decodePush(msg); err == nil {
			b.handler.HandlePush(push)
		}
	default: // this node's topic, or every node's
		b.handler.HandleControl([]byte(msg))
	}
	if err != nil {
		b.opts.Log.Warn("a Redis message that does not decode", "topic", topic, "err", err)
	}
}

func (b *RedisBroker) dispatchChannel(msg string) error {
	if msg == "" {
		return errors.New("empty message")
	}
	switch msg[0] {
	case kindPublication:
		pub, err := decodePublished(msg[1:])
		if err != nil {
			return err
		}
		b.deliverInOrder(pub)
	case kindJoin, kindLeave:
		ch, info, err := decodeClient(msg[1:])
		if err != nil {
			return err
		}
		if msg[0] == kindJoin {
			b.handler.HandleJoin(ch, info)
		} else {
			b.handler.HandleLeave(ch, info)
		}
	default:
		return fmt.Errorf("unknown kind %q", msg[0])
	}
	return nil
}

// decodePublished reads OFFSET "," EPOCH "," RECORD.
func decodePublished(s string) (*record.Publication, error) {
	off, rest, ok := strings.Cut(s, ",")
	epoch, rec, ok2 := strings.Cut(rest, ",")
	if !ok || !ok2 {
		return nil, errors.New("a publication without its position")
	}
	offset, err := strconv.ParseUint(off, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("a publication's offset: %w", err)
	}
	pub, err := record.Decode([]byte(rec))
	if err != nil {
		return nil, err
	}
	pub.Offset, pub.Epoch = offset, epoch
	return pub, nil
}

// encodeClient is ch and info as a record without data.
func encodeClient(dst []byte, ch string, info *record.ClientInfo) ([]byte, error) {
	return (&record.Publication{Channel: ch, Info: info}).AppendBinary(dst)
}

func decodeClient(s string) (string, *record.ClientInfo, error) {
	p, err := record.Decode([]byte(s))
	if err != nil {
		return "", nil, err
	}
	if p.Info == nil {
		return "", nil, errors.New("a client event names no client")
	}
	return p.Channel, p.Info, nil
}

func encodeClientEvent(kind byte, ch string, info *record.ClientInfo) ([]byte, error) {
	return encodeClient([]byte{kind}, ch, info)
}

// encodePush writes the user and the event, each after its length, then
// the data as it is.
func encodePush(push *record.Push) []byte {
	b := make([]byte, 0, 2*binary.MaxVarintLen32+len(push.User)+len(push.Event)+len(push.Data))
	b = binary.AppendUvarint(b, uint64(len(push.User)))
	b = append(b, push.User...)
	b = binary.AppendUvarint(b, uint64(len(push.Event)))
	b = append(b, push.Event...)
	return append(b, push.Data...)
}

func decodePush(s string) (*record.Push, error) {
	user, rest, err := cutLengthPrefixed(s)
	if err != nil {
		return nil, err
	}
	event, data, err := cutLengthPrefixed(rest)
	if err != nil {
		return nil, err
	}
	push := &record.Push{User: user, Event: event}
	if data != "" {
		push.Data = []byte(data)
	}
	return push, nil
}

func cutLengthPrefixed(s string) (string, string, error) {
	n, w := binary.Uvarint([]byte(s[:min(len(s), binary.MaxVarintLen64)]))
	if w <= 0 || n > uint64(len(s)-w) {
		return "", "", errors.New("a push cut short")
	}
	end := w + int(n)
	return s[w:end], s[end:], nil
}
