package heraldws

import (
	"github.com/heraldhq/herald/internal/hub"
	"github.com/heraldhq/herald/internal/protocol/jsonproto"
	"github.com/heraldhq/herald/internal/transport/websocket"
)

// frameFormat is herald's wire format in the hub: one WebSocket text frame
// per message, built once per message and shared by every
// herald-protocol subscriber.
type frameFormat struct{}

var frames = &frameFormat{}

// Encode implements hub.Format.
func (*frameFormat) Encode(m *hub.Message) any {
	var payload []byte
	switch m.Kind {
	case hub.KindPublication:
		payload = jsonproto.AppendPublication(nil, m.Pub)
	case hub.KindJoin:
		payload = jsonproto.AppendJoin(nil, m.Channel, m.Client)
	case hub.KindLeave:
		payload = jsonproto.AppendLeave(nil, m.Channel, m.Client)
	case hub.KindPush:
		payload = jsonproto.AppendPush(nil, m.Push.Event, m.Push.Data)
	default: // a kind herald-protocol clients are never sent (KindDirect)
		return []byte(nil)
	}
	return websocket.TextFrame(payload)
}
