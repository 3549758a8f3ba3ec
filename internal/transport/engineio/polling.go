package engineio

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"

	eio "github.com/heraldhq/herald/internal/protocol/eioproto"
	"github.com/heraldhq/herald/internal/transport/websocket"
)

// handshakePolling creates a polling session and answers the handshake GET
// with the open packet.
func (srv *Server) handshakePolling(w http.ResponseWriter, r *http.Request) {
	s := srv.newSession(r)
	var upgrades []string
	if srv.ws != nil {
		upgrades = []string{"websocket"}
	}
	body := srv.openPacket(getBuf(), s.id, upgrades)
	// OnOpen runs before the response leaves, so no request of this session
	// can reach the Handler first. Like the reference (which emits
	// "connection" after the handshake response is written), whatever
	// OnOpen sends waits for the next GET.
	s.lockIn()
	srv.sessions.add(s)
	srv.h.OnOpen(s)
	s.unlockIn()
	writePayload(w, r, body)
	putBuf(body)
}

// servePoll answers a GET of a polling session: at once when packets are
// queued, otherwise when some are flushed, the session closes or an
// upgrade needs the poll released.
func (srv *Server) servePoll(w http.ResponseWriter, r *http.Request, s *Session) {
	s.mu.Lock()
	if s.getActive {
		// Reference Polling.onPollRequest: "overlap from client".
		s.mu.Unlock()
		srv.stats.Polling.ProtocolErrors.Add(1)
		w.WriteHeader(http.StatusBadRequest)
		s.finish(ReasonTransportError, eio.Close, websocket.CloseNormal)
		return
	}
	s.getActive = true
	if !s.pollReadyLocked() {
		pw := &pollWait{ch: make(chan struct{}, 1)}
		s.poll = pw
		s.mu.Unlock()
		select {
		case <-pw.ch:
		case <-r.Context().Done():
		}
		s.mu.Lock()
		s.poll = nil
		if !pw.signaled {
			// The client went away mid-poll: "poll connection closed
			// prematurely" in the reference, a transport error.
			s.getActive = false
			s.mu.Unlock()
			s.endPollingOnError()
			return
		}
	}
	body, endsClose := s.takeLocked()
	s.mu.Unlock()

	writePayload(w, r, body)
	putBuf(body)
	s.mu.Lock()
	s.getActive = false
	s.mu.Unlock()
	if endsClose {
		s.finish(s.closeReason(), eio.Close, websocket.CloseNormal)
	}
	if r.Context().Err() != nil {
		s.endPollingOnError()
	}
}

// endPollingOnError closes the session after a failed polling request,
// unless it has moved to WebSocket (the discarded polling transport's
// errors no longer matter, as in the reference).
func (s *Session) endPollingOnError() {
	if s.ws.Load() == nil {
		s.finish(ReasonTransportError, eio.Close, websocket.CloseNormal)
	}
}

// pollReadyLocked reports whether a GET can be answered right away.
func (s *Session) pollReadyLocked() bool {
	return len(s.buf) > 0 || s.probed || s.state.Load() != stateOpen || s.ws.Load() != nil
}

// takeLocked builds the body answering a GET and reports whether sending
// it completes a server-initiated close. The body is a pooled buffer.
func (s *Session) takeLocked() (body []byte, endsClose bool) {
	if s.ws.Load() != nil {
		// Upgraded meanwhile: the queued packets went to the WebSocket and
		// the discarded polling transport closes with a close packet.
		return appendControl(getBuf(), eio.Close), false
	}
	body = s.buf
	s.setBufLocked(nil)
	if body == nil {
		body = getBuf()
	}
	switch s.state.Load() {
	case stateClosed:
		return appendControl(body, s.pollReply), false
	case stateClosing:
		return appendControl(body, eio.Close), true
	}
	if len(body) == 0 {
		// Released for an upgrade: the reference writes a noop so the
		// client can pause polling and finish the upgrade.
		body = appendControl(body, eio.Noop)
	}
	return body, false
}

// appendControl appends a data-less packet to a payload.
func appendControl(buf []byte, t eio.PacketType) []byte {
	return appendPacket(buf, eio.Packet{Type: t})
}

// servePost decodes a POST body and delivers its packets in order.
func (srv *Server) servePost(w http.ResponseWriter, r *http.Request, s *Session) {
	s.mu.Lock()
	if s.postActive {
		// Reference Polling.onDataRequest: "data request overlap from client".
		s.mu.Unlock()
		srv.stats.Polling.ProtocolErrors.Add(1)
		w.WriteHeader(http.StatusBadRequest)
		s.finish(ReasonTransportError, eio.Close, websocket.CloseNormal)
		return
	}
	s.postActive = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.postActive = false
		s.mu.Unlock()
	}()

	if strings.EqualFold(r.Header.Get("Content-Type"), "application/octet-stream") {
		// v4 clients always send text payloads ("invalid content").
		srv.stats.Polling.ProtocolErrors.Add(1)
		srv.refuse(w, false, eio.ErrorBadRequest, 0, "")
		s.endPollingOnError()
		return
	}
	buf := bodyPool.Get().(*bytes.Buffer)
	defer putBody(buf)
	buf.Reset()
	// Read one byte past the limit so an oversized body is detected
	// without reading (or buffering) the rest of it.
	_, err := buf.ReadFrom(io.LimitReader(r.Body, int64(srv.cfg.MaxPayload)+1))
	if errors.Is(err, os.ErrDeadlineExceeded) {
		// The body took longer than the server allows (herald's
		// http.body_timeout); Node's own HTTP server answers the same.
		srv.stats.Polling.ProtocolErrors.Add(1)
		w.Header().Set("Connection", "close")
		http.Error(w, err.Error(), http.StatusRequestTimeout)
		s.endPollingOnError()
		return
	}
	if err != nil {
		// "data request connection closed prematurely".
		s.endPollingOnError()
		return
	}
	packets, err := eio.DecodePayload(buf.Bytes(), srv.cfg.MaxPayload)
	switch {
	case errors.Is(err, eio.ErrPayloadTooLarge):
		srv.stats.Polling.ProtocolErrors.Add(1)
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		s.endPollingOnError()
		return
	case err != nil:
		srv.stats.Polling.ProtocolErrors.Add(1)
		srv.refuse(w, false, eio.ErrorBadRequest, 0, "")
		s.finish(ReasonParseError, eio.Close, websocket.CloseNormal)
		return
	}
	s.receive(packets)

	h := w.Header()
	// text/html rather than text/plain avoids a download dialog on some
	// user agents (reference Polling.onDataRequest, GH-43).
	h.Set("Content-Type", "text/html")
	h.Set("Content-Length", "2")
	noStore(h, r)
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "ok")
}

// bodyPool recycles POST body buffers.
var bodyPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func putBody(b *bytes.Buffer) {
	if b.Cap() <= maxPooledPayload {
		bodyPool.Put(b)
	}
}

// writePayload answers a GET with a polling payload, with the reference's
// headers (Polling.doWrite and Polling.headers).
func writePayload(w http.ResponseWriter, r *http.Request, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	noStore(h, r)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// noStore adds the cache headers the reference puts on polling responses.
func noStore(h http.Header, r *http.Request) {
	h.Set("Cache-Control", "no-store")
	// Old Internet Explorer flags payloads as XSS without this.
	if ua := r.Header.Get("User-Agent"); strings.Contains(ua, ";MSIE") || strings.Contains(ua, "Trident/") {
		h.Set("X-XSS-Protection", "0")
	}
}
