package socketio

import (
	"fmt"
	"strings"
)

// maxChannel is herald's longest channel name.
const maxChannel = 255

// channelByte reports whether b may appear in a herald channel unescaped.
// '#' and '=' are escaped: '#' would make the channel private to users,
// '=' is the escape character.
func channelByte(b byte) bool {
	switch {
	case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9':
		return true
	}
	return strings.IndexByte("_-.:,@/", b) >= 0
}

// roomChannel maps room of the namespace with prefix to its channel.
// Bytes a channel cannot hold are written =HH, so every room name maps to
// exactly one channel and back.
func roomChannel(prefix, room string) (string, error) {
	if room == "" {
		return "", fmt.Errorf("socketio: empty room name")
	}
	var b strings.Builder
	b.Grow(len(prefix) + len(room))
	b.WriteString(prefix)
	for i := 0; i < len(room); i++ {
		if c := room[i]; channelByte(c) {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "=%02X", c)
		}
	}
	if b.Len() > maxChannel {
		return "", fmt.Errorf("socketio: room %.40q makes a channel longer than %d bytes", room, maxChannel)
	}
	return b.String(), nil
}

// channelRoom is roomChannel backwards; ok is false when ch is not under
// prefix or is not an escaped room.
func channelRoom(prefix, ch string) (string, bool) {
	rest, ok := strings.CutPrefix(ch, prefix)
	if !ok || rest == "" {
		return "", false
	}
	if !strings.Contains(rest, "=") {
		return rest, true
	}
	var b strings.Builder
	for i := 0; i < len(rest); i++ {
		if rest[i] != '=' {
			b.WriteByte(rest[i])
			continue
		}
		if i+2 >= len(rest) {
			return "", false
		}
		var v byte
		if _, err := fmt.Sscanf(rest[i+1:i+3], "%02X", &v); err != nil {
			return "", false
		}
		b.WriteByte(v)
		i += 2
	}
	return b.String(), true
}
