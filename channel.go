package herald

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// maxChannelLength bounds channel names.
const maxChannelLength = 255

// ErrBadChannel is wrapped by errors about malformed channel names.
var ErrBadChannel = errors.New("invalid channel")

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

// policyFor returns the policy of ch's namespace, and false when the
// namespace is not configured.
func (n *Node) policyFor(ch string) (ChannelPolicy, bool) {
	ns := namespaceOf(ch)
	if ns == "" {
		return n.cfg.DefaultChannel, true
	}
	p, ok := n.cfg.Namespaces[ns]
	return p, ok
}

// errPermission is the reason a client may not do something on a channel.
type errPermission string

func (e errPermission) Error() string { return string(e) }

// checkSubscribe says whether a connection of user (empty: anonymous) may
// subscribe to ch by the configured rules.
func (n *Node) checkSubscribe(ch, user string) (ChannelPolicy, error) {
	p, ok := n.policyFor(ch)
	if !ok {
		return p, errPermission(fmt.Sprintf("unknown namespace %q", namespaceOf(ch)))
	}
	// A private channel is for its users only, and only as far as its
	// namespace lets anyone subscribe at all.
	if users := channelUsers(ch); users != nil && (user == "" || !slices.Contains(users, user)) {
		return p, errPermission(fmt.Sprintf("channel %q is private to %s", ch, strings.Join(users, ",")))
	}
	switch p.Subscribe {
	case AccessAnyone:
		return p, nil
	case AccessAuthenticated:
		if user == "" {
			return p, errPermission(fmt.Sprintf("subscribing to %q needs an authenticated connection", ch))
		}
		return p, nil
	default:
		return p, errPermission(fmt.Sprintf("clients may not subscribe to %q", ch))
	}
}

// checkPublish says whether a connection of user may publish to ch.
func (n *Node) checkPublish(ch, user string, subscribed bool) (ChannelPolicy, error) {
	p, ok := n.policyFor(ch)
	if !ok {
		return p, errPermission(fmt.Sprintf("unknown namespace %q", namespaceOf(ch)))
	}
	switch p.Publish {
	case AccessAnyone:
		return p, nil
	case AccessAuthenticated:
		if user == "" {
			return p, errPermission(fmt.Sprintf("publishing to %q needs an authenticated connection", ch))
		}
		return p, nil
	case AccessSubscribers:
		if !subscribed {
			return p, errPermission(fmt.Sprintf("subscribe to %q before publishing to it", ch))
		}
		return p, nil
	default:
		return p, errPermission(fmt.Sprintf("clients may not publish to %q", ch))
	}
}
