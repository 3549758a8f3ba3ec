// Package hub maps channels to the connections subscribed on this node and
// users to their connections, and fans messages out to them.
//
// The hub knows no transport: a subscriber is anything that can queue a
// message and flush. Each message is encoded at most once per wire format
// (see Message.Encoded) and the bytes are shared by every subscriber that
// speaks that format.
package hub

import (
	"sync"

	"github.com/heraldhq/herald/internal/broker"
)

// Kind says what a Message carries.
type Kind uint8

// Message kinds.
const (
	KindPublication Kind = iota
	KindJoin
	KindLeave
	// KindPush is addressed to connections, not a channel: Pub carries
	// the event name and data.
	KindPush
)

// MaxEncodings is how many wire formats a message can cache bytes for.
const MaxEncodings = 4

// Message is one thing to deliver to a channel's subscribers.
type Message struct {
	// Kind says which of the fields below is set.
	Kind Kind
	// Channel is where it goes.
	Channel string
	// Pub is the publication, for KindPublication.
	Pub *broker.Publication
	// Client is who joined or left, for KindJoin and KindLeave.
	Client *broker.ClientInfo

	enc [MaxEncodings]encoding
}

// size estimates the message's bytes on the wire.
func (m *Message) size() int {
	if m.Pub != nil {
		return len(m.Pub.Data) + len(m.Channel) + 64
	}
	return len(m.Channel) + 128
}

type encoding struct {
	once  sync.Once
	bytes []byte
}

// Encoded returns the message in wire format slot, encoding it with enc
// the first time any subscriber asks. Slots are assigned by the packages
// that own wire formats; the bytes must be treated as read-only.
func (m *Message) Encoded(slot int, enc func(*Message) []byte) []byte {
	e := &m.enc[slot]
	e.once.Do(func() { e.bytes = enc(m) })
	return e.bytes
}

// Subscriber is a connection that receives messages.
type Subscriber interface {
	// Deliver queues m and reports whether the subscriber now needs a
	// Flush. It must not block and must not call back into the Hub.
	Deliver(m *Message) bool
	// Flush writes what Deliver queued.
	Flush()
}
