// Package hub maps channels to the connections subscribed on this node and
// users to their connections, and fans messages out to them.
//
// The hub knows no protocol: a subscriber is anything that says which
// Format it takes messages in, queues them and flushes. Fan-out encodes
// each message once per format and hands the same bytes to every
// subscriber of that format.
package hub

import "github.com/heraldhq/herald/internal/protocol/record"

// Kind says what a Message carries.
type Kind uint8

// Message kinds.
const (
	// KindPublication is a publication on Channel: Pub.
	KindPublication Kind = iota
	// KindJoin and KindLeave say that Client joined or left Channel.
	KindJoin
	KindLeave
	// KindPush is addressed to Targets, the connections of one user: Push.
	KindPush
	// KindDirect is addressed to Targets with a Payload only they
	// understand (a packet for one socket, say). It goes through the hub
	// so it keeps its place among the subscriber's messages.
	KindDirect
)

// Message is one thing to deliver to a channel's subscribers, or to
// Targets.
type Message struct {
	// Kind says which of the fields below is set.
	Kind Kind
	// Channel is where it goes.
	Channel string
	// Pub is the publication, for KindPublication.
	Pub *record.Publication
	// Client is who joined or left, for KindJoin and KindLeave.
	Client *record.ClientInfo
	// Push is the push, for KindPush.
	Push *record.Push
	// Targets, when set, are the receivers instead of the channel's
	// subscribers (pushes, KindDirect).
	Targets []Subscriber
	// Payload is the content of KindDirect.
	Payload any

	// owed estimates the bytes fan-out will queue for m: counted in the
	// hub's pending bytes from Broadcast until m has been delivered.
	owed int64
}

// frameOverhead approximates what each protocol adds around a message's
// data: the envelope, the channel, the frame header.
const frameOverhead = 64

// size estimates m's encoded size, for the backlog: exact enough to
// bound memory, cheap enough to take for every message.
func (m *Message) size() int {
	n := frameOverhead + len(m.Channel)
	switch {
	case m.Pub != nil:
		n += len(m.Pub.Data)
	case m.Push != nil:
		n += len(m.Push.Data) + len(m.Push.Event)
	case m.Payload != nil:
		if s, ok := m.Payload.(Sized); ok {
			n += s.Size()
		}
	}
	return n
}

// Sized is a KindDirect payload that knows its size on the wire, so the
// backlog counts a large direct packet at its weight while it waits for
// fan-out.
type Sized interface{ Size() int }

// Format is one way of putting messages on the wire: herald's JSON frames,
// the Socket.IO packets of one namespace. Formats are compared by
// identity, so each is a pointer.
type Format interface {
	// Encode returns m in this format, or nil when subscribers of this
	// format do not receive m's kind. Fan-out calls it once per message
	// and format, and shares the result: it must be treated as read-only.
	Encode(m *Message) any
}

// Subscriber is a connection that receives messages.
type Subscriber interface {
	// Format is the format the subscriber takes messages in.
	Format() Format
	// Deliver queues m, which encoded holds in the subscriber's format,
	// and reports whether the subscriber now needs a Flush. It must not
	// block and must not call back into the Hub.
	Deliver(m *Message, encoded any) bool
	// Flush writes what Deliver queued.
	Flush()
}

// maxEncodings is how many formats one delivery shares encodings
// between; a rare message wanted in more is encoded per subscriber
// beyond that.
const maxEncodings = 4

// encodings are one message's encodings during its delivery. Only the
// fan-out goroutine delivers, so they need no lock.
type encodings struct {
	n       int
	formats [maxEncodings]Format
	values  [maxEncodings]any
}

// of returns m in format f, encoding it the first time f is asked for.
func (e *encodings) of(f Format, m *Message) any {
	for i := range e.n {
		if e.formats[i] == f {
			return e.values[i]
		}
	}
	v := f.Encode(m)
	if e.n < maxEncodings {
		e.formats[e.n], e.values[e.n] = f, v
		e.n++
	}
	return v
}
