package heraldws

import (
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/core"
	"github.com/heraldhq/herald/internal/hub"
	"github.com/heraldhq/herald/internal/protocol/jsonproto"
	"github.com/heraldhq/herald/internal/transport/websocket"
)

// Session is one herald-protocol connection.
type Session struct {
	// client is the connection's core state.
	client core.Client
	srv    *Server
	// conn is set once, before the connection can be subscribed anywhere.
	conn *websocket.Conn

	// mu serializes the connection's commands, the server acting on it,
	// and its end.
	mu sync.Mutex
	// timer ends a connection that sends no connect command in time.
	timer *time.Timer
	// replies collects the replies to the frame being handled, sent
	// together as one frame.
	replies []byte
	// closeAfter, when set by a command, closes the connection once the
	// command's reply is queued.
	closeAfter *core.Error
	// afterReply, when set by a command, runs once the command's reply
	// is queued (a resume's replay, which must follow its reply).
	afterReply func()

	// qmu guards frames and draining: the frames read and not yet
	// handled, and whether the command goroutine is running.
	qmu      sync.Mutex
	frames   []pendingFrame
	draining bool
}

// close sends pending replies, then the disconnect notice and the close
// frame. s.mu is held.
func (s *Session) close(code int, reason string) {
	s.sendReplies()
	s.conn.Close(code, reason)
}

func (s *Session) sendReplies() {
	if len(s.replies) > 0 {
		_ = s.conn.SendText(s.replies)
		s.replies = nil
	}
}

// Farewell implements websocket.Handler: the disconnect notice that
// precedes every close the server starts.
func (s *Session) Farewell(code int, reason string) []byte {
	return websocket.TextFrame(jsonproto.AppendDisconnect(nil, code, reason))
}

// OnClose implements websocket.Handler.
func (s *Session) OnClose(_ *websocket.Conn, code int, reason string) {
	// The transport reports closes from one goroutine for the whole
	// process; s.mu may be held by a slow hook on the command goroutine,
	// and OnDisconnect is the application's. Neither may hold up the next
	// connection's close. The context ends now, so such a hook can see
	// its client is gone.
	s.client.Cancel()
	go s.closed(code, reason)
}

// closed ends the connection in the core, which unsubscribes it and
// tells the application.
func (s *Session) closed(code int, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.timer != nil {
		s.timer.Stop()
	}
	c := s.srv.core
	c.Release()
	c.Metrics().Disconnected(code)
	c.Close(&s.client, code, reason)
}

// Client implements core.Session.
func (s *Session) Client() *core.Client { return &s.client }

// RemoteAddr implements core.Session.
func (s *Session) RemoteAddr() string { return s.conn.RemoteAddr().String() }

// Disconnect implements core.Session. It takes no lock, so a hook may
// disconnect its own user while the command that runs it holds s.mu;
// replies not yet sent go with the connection.
func (s *Session) Disconnect(code int, reason string) {
	if !s.client.Closed() {
		s.conn.Close(code, reason)
	}
}

// Unsubscribed implements core.Session.
func (s *Session) Unsubscribed(ch, reason string) {
	_ = s.conn.SendText(jsonproto.AppendUnsubscribe(nil, ch, reason))
}

// Format implements hub.Subscriber.
func (s *Session) Format() hub.Format { return frames }

// Deliver implements hub.Subscriber; what a resume holds back waits.
func (s *Session) Deliver(m *hub.Message, encoded any) bool {
	if held, needsFlush := s.client.Holds(m, encoded); held {
		return needsFlush
	}
	return s.DeliverNow(m, encoded)
}

// DeliverNow implements core.Replayer.
func (s *Session) DeliverNow(_ *hub.Message, encoded any) bool {
	frame, _ := encoded.([]byte)
	if frame == nil {
		return false
	}
	needsFlush, _ := s.conn.Enqueue(frame)
	return needsFlush
}

// Flush implements hub.Subscriber.
func (s *Session) Flush() { s.conn.Flush() }
