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
	"sync/atomic"

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
	// KindDirect is addressed to Targets with a Payload only they
	// understand (a Socket.IO packet for one socket, say). It goes through
	// the hub so it keeps its place among the subscriber's messages.
	KindDirect
)

// maxEncodings is how many encodings a message shares between its
// subscribers; a rare message wanted in more forms is encoded per
// subscriber beyond that.
const maxEncodings = 4

// Format kinds of the wire formats herald speaks.
const (
	// FormatHeraldFrame is a herald-protocol WebSocket frame ([]byte).
	FormatHeraldFrame uint8 = iota
	// FormatSocketIO is a Socket.IO packet for one namespace (owned by
	// package socketio).
	FormatSocketIO
)

// Format names an encoding of a message: a wire format, and for formats
// that depend on it, the Socket.IO namespace the subscriber is in.
type Format struct {
	// Kind is assigned by the package that owns the wire format.
	Kind uint8
	// Namespace is the Socket.IO namespace, for formats that embed it.
	Namespace string
}

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
	// Targets, when set, are the receivers instead of the channel's
	// subscribers (pushes, KindDirect).
	Targets []Subscriber
	// Payload is the content of KindDirect.
	Payload any

	// encMu guards claiming an entry of enc; encoding itself runs once
	// per entry under the entry's sync.Once.
	encMu sync.Mutex
	enc   [maxEncodings]encoding
}

type encoding struct {
	format Format
	used   atomic.Bool
	once   sync.Once
	value  any
}

// Encoded returns the message in format f, encoding it with enc the first
// time any subscriber asks, so the bytes are built once per format and
// shared by every subscriber. The result must be treated as read-only.
func (m *Message) Encoded(f Format, enc func(*Message) any) any {
	e := m.entry(f)
	if e == nil {
		return enc(m) // more formats than entries: encode for this subscriber alone
	}
	e.once.Do(func() { e.value = enc(m) })
	return e.value
}

// entry finds or claims the cache entry for f; nil when all are taken.
func (m *Message) entry(f Format) *encoding {
	for i := range m.enc {
		e := &m.enc[i]
		if e.used.Load() && e.format == f {
			return e
		}
	}
	m.encMu.Lock()
	defer m.encMu.Unlock()
	for i := range m.enc {
		e := &m.enc[i]
		if !e.used.Load() {
			e.format = f
			e.used.Store(true) // publishes format to the lock-free readers above
			return e
		}
		if e.format == f {
			return e
		}
	}
	return nil
}

// Subscriber is a connection that receives messages.
type Subscriber interface {
	// Deliver queues m and reports whether the subscriber now needs a
	// Flush. It must not block and must not call back into the Hub.
	Deliver(m *Message) bool
	// Flush writes what Deliver queued.
	Flush()
}
