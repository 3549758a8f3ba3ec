package core

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Access says who may do something on a channel.
type Access uint8

// Access levels, from most to least open.
const (
	AccessAnyone Access = iota
	AccessAuthenticated
	// AccessSubscribers: connections subscribed to the channel (publish only).
	AccessSubscribers
	AccessNobody
)

// Policy is what clients may do on the channels of a namespace.
type Policy struct {
	Subscribe, Publish Access
	// Presence keeps who is subscribed; JoinLeave tells subscribers.
	Presence, JoinLeave bool
	// HistorySize publications are kept, each for HistoryTTL (0: until
	// newer ones push it out).
	HistorySize int
	HistoryTTL  time.Duration
}

// maxChannelLength bounds channel names.
const maxChannelLength = 255

// ValidateChannel checks a channel name: 1-255 characters from letters,
// digits and _ - . : # , @ = /. The part before the first ':' is the
// namespace; a '#' starts the list of users (comma-separated) who alone
// may subscribe, so "#alice" is alice's private channel.
func ValidateChannel(ch string) error {
	if ch == "" {
		return fmt.Errorf("%w: channel is empty", ErrBadChannel)
	}
	if len(ch) > maxChannelLength {
		return fmt.Errorf("%w: channel is longer than %d bytes", ErrBadChannel, maxChannelLength)
	}
	for i := 0; i < len(ch); i++ {
		if !channelByte(ch[i]) {
			return fmt.Errorf("%w: %q has a character %q that is not allowed (use letters, digits and _-.:#,@=/)", ErrBadChannel, ch, ch[i])
		}
	}
	if i := strings.IndexByte(ch, '#'); i >= 0 && i == len(ch)-1 {
		return fmt.Errorf("%w: %q ends in '#' without a user", ErrBadChannel, ch)
	}
	return nil
}

func channelByte(b byte) bool {
	switch {
	case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9':
		return true
	}
	return strings.IndexByte("_-.:#,@=/", b) >= 0
}

// namespaceOf returns the namespace of ch; "" when it has none.
func namespaceOf(ch string) string {
	i := strings.IndexByte(ch, ':')
	j := strings.IndexByte(ch, '#')
	if i < 0 || (j >= 0 && j < i) {
		return ""
	}
	return ch[:i]
}

// channelUsers returns the users a channel is limited to, or nil.
func channelUsers(ch string) []string {
	i := strings.IndexByte(ch, '#')
	if i < 0 {
		return nil
	}
	return strings.Split(ch[i+1:], ",")
}

// PolicyFor returns the policy of ch's namespace, and false when the
// namespace is not configured.
func (c *Core) PolicyFor(ch string) (Policy, bool) {
	ns := namespaceOf(ch)
	if ns == "" {
		return c.cfg.DefaultChannel, true
	}
	p, ok := c.cfg.Namespaces[ns]
	return p, ok
}

// checkChannel validates ch as input.
func checkChannel(ch string) *Error {
	if err := ValidateChannel(ch); err != nil {
		return badRequest(err)
	}
	return nil
}

// mayRead applies the channel's subscribe policy and the credentials'
// channel claim to a client asking to read ch (subscribe, presence,
// history).
func (c *Core) mayRead(cl *Client, ch string) (Policy, *Error) {
	p, ok := c.PolicyFor(ch)
	if !ok {
		return p, forbidden("unknown namespace %q", namespaceOf(ch))
	}
	user := cl.info.User
	// A private channel is for its users only, and only as far as its
	// namespace lets anyone subscribe at all.
	if users := channelUsers(ch); users != nil && (user == "" || !slices.Contains(users, user)) {
		return p, forbidden("channel %q is private to %s", ch, strings.Join(users, ","))
	}
	switch {
	case p.Subscribe == AccessAuthenticated && user == "":
		return p, forbidden("subscribing to %q needs an authenticated connection", ch)
	case p.Subscribe != AccessAnyone && p.Subscribe != AccessAuthenticated:
		return p, forbidden("clients may not subscribe to %q", ch)
	case !cl.allowsChannel(ch):
		return p, forbidden("the connection's token does not allow channel %q", ch)
	}
	return p, nil
}

// mayPublish applies the channel's publish policy to a client asking to
// publish to ch.
func (c *Core) mayPublish(cl *Client, ch string) *Error {
	p, ok := c.PolicyFor(ch)
	if !ok {
		return forbidden("unknown namespace %q", namespaceOf(ch))
	}
	switch p.Publish {
	case AccessAnyone:
		return nil
	case AccessAuthenticated:
		if cl.info.User == "" {
			return forbidden("publishing to %q needs an authenticated connection", ch)
		}
		return nil
	case AccessSubscribers:
		if !cl.Subscribed(ch) {
			return forbidden("subscribe to %q before publishing to it", ch)
		}
		return nil
	}
	return forbidden("clients may not publish to %q", ch)
}
