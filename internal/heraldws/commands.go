package heraldws

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/heraldhq/herald/internal/core"
	"github.com/heraldhq/herald/internal/protocol/jsonproto"
	"github.com/heraldhq/herald/internal/transport/websocket"
)

// maxPendingFrames bounds the frames waiting for a connection's command
// goroutine; a client past it (its commands block, it keeps sending) is
// closed with 1008.
const maxPendingFrames = 256

// OnMessage implements websocket.Handler. It runs on a poller goroutine
// that many connections share, so it only queues the frame: commands run
// on the connection's own goroutine, which exists while it has frames to
// handle. Hooks and a publish waiting for a full hub stall that client
// alone.
func (s *Session) OnMessage(_ *websocket.Conn, text bool, payload []byte) {
	f := pendingFrame{text: text, payload: append([]byte(nil), payload...)}
	s.qmu.Lock()
	if len(s.frames) >= maxPendingFrames {
		s.qmu.Unlock()
		s.conn.Close(websocket.ClosePolicyViolation, "too many commands waiting")
		return
	}
	s.frames = append(s.frames, f)
	start := !s.draining
	s.draining = true
	s.qmu.Unlock()
	if start {
		go s.drain()
	}
}

// pendingFrame is a frame waiting for the command goroutine.
type pendingFrame struct {
	text    bool
	payload []byte
}

// drain handles queued frames in order until none are left.
func (s *Session) drain() {
	for {
		s.qmu.Lock()
		if len(s.frames) == 0 {
			s.frames, s.draining = nil, false
			s.qmu.Unlock()
			return
		}
		f := s.frames[0]
		s.frames = s.frames[1:]
		s.qmu.Unlock()
		s.handleFrame(f.text, f.payload)
	}
}

// handleFrame handles each newline-separated command of a frame in order
// and sends the replies back in one frame.
func (s *Session) handleFrame(text bool, payload []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client.Closed() || s.conn.Closing() {
		return
	}
	if !text {
		s.reply(0, nil, &jsonproto.Error{Code: jsonproto.CodeBadRequest,
			Message: "binary frames are not part of herald's protocol: send JSON text frames"})
	} else {
		jsonproto.Split(payload, s.handleLine)
	}
	if !s.conn.Closing() {
		s.sendReplies()
	}
}

// handleLine handles one command. s.mu is held.
func (s *Session) handleLine(line []byte) {
	if s.client.Closed() || s.conn.Closing() {
		return // an earlier command of this frame ended the connection
	}
	cmd, err := jsonproto.DecodeCommand(line)
	if ok, tooMany := s.client.AllowCommand(); !ok {
		if de, ok := errors.AsType[*jsonproto.DecodeError](err); ok {
			cmd.ID = de.ID
		}
		s.rateLimited(cmd.ID, tooMany)
		return
	}
	if err != nil {
		de, _ := errors.AsType[*jsonproto.DecodeError](err)
		s.reply(de.ID, nil, &jsonproto.Error{Code: jsonproto.CodeBadRequest, Message: de.Reason})
		return
	}
	s.srv.core.Metrics().Commands.WithLabelValues(opLabel(cmd.Op)).Inc()
	if !s.client.Connected() && cmd.Op != jsonproto.OpConnect {
		s.reply(cmd.ID, nil, &jsonproto.Error{Code: jsonproto.CodeUnauthorized, Message: "connect first: send a connect command with a token"})
		s.close(core.CloseUnauthorized, "authentication required")
		return
	}
	result, e := s.dispatch(cmd)
	s.reply(cmd.ID, result, e)
	if f := s.afterReply; f != nil {
		s.afterReply = nil
		s.sendReplies()
		f()
	}
	if r := s.closeAfter; r != nil {
		s.closeAfter = nil
		s.close(r.Close, r.Message)
	}
}

// dispatch runs a command and returns its result or error.
func (s *Session) dispatch(cmd jsonproto.Command) (any, *jsonproto.Error) {
	switch cmd.Op {
	case jsonproto.OpConnect:
		return s.cmdConnect(cmd)
	case jsonproto.OpSubscribe:
		return s.cmdSubscribe(cmd)
	case jsonproto.OpUnsubscribe:
		return s.cmdUnsubscribe(cmd)
	case jsonproto.OpPublish:
		return s.cmdPublish(cmd)
	case jsonproto.OpPresence:
		return s.cmdPresence(cmd)
	case jsonproto.OpHistory:
		return s.cmdHistory(cmd)
	case jsonproto.OpPing:
		return nil, nil
	}
	return nil, &jsonproto.Error{Code: jsonproto.CodeUnknownOp,
		Message: fmt.Sprintf("unknown op %q (known: connect, subscribe, unsubscribe, publish, presence, history, ping)", cmd.Op)}
}

// reply queues the reply to command id; id 0 wants no successful reply.
func (s *Session) reply(id uint64, result any, e *jsonproto.Error) {
	if e != nil {
		s.srv.core.Metrics().CommandErrors.WithLabelValues(strconv.Itoa(e.Code)).Inc()
		s.replies = appendLine(s.replies, jsonproto.AppendError(nil, id, e))
		return
	}
	if id != 0 {
		s.replies = appendLine(s.replies, jsonproto.AppendReply(nil, id, result))
	}
}

func appendLine(dst, line []byte) []byte {
	if len(dst) > 0 {
		dst = append(dst, '\n')
	}
	return append(dst, line...)
}

// rateLimited refuses a command over the rate; a run of refusals as long
// as the burst closes the connection with 1008.
func (s *Session) rateLimited(id uint64, tooMany bool) {
	if tooMany {
		s.close(websocket.ClosePolicyViolation, "command rate limit exceeded")
		return
	}
	s.reply(id, nil, &jsonproto.Error{Code: jsonproto.CodeRateLimited,
		Message: fmt.Sprintf("rate limit exceeded: at most %g commands per second", s.srv.core.Limits().CommandRate)})
}

// wireError is a core refusal as a reply.
func wireError(err error) *jsonproto.Error {
	return &jsonproto.Error{Code: core.Code(err), Message: err.Error()}
}

// opLabel bounds the op metric label to known operations.
func opLabel(op string) string {
	switch op {
	case jsonproto.OpConnect, jsonproto.OpSubscribe, jsonproto.OpUnsubscribe, jsonproto.OpPublish,
		jsonproto.OpPresence, jsonproto.OpHistory, jsonproto.OpPing:
		return op
	}
	return "unknown"
}
