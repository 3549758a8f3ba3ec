package websocket

import (
	"bufio"
	"net/http"

	"github.com/gobwas/ws"
	"github.com/lesismal/nbio"
)

// Upgrade completes the WebSocket handshake on r and returns the
// connection, now served by the poller. h may be called before Upgrade
// returns, and is called only if Upgrade succeeds. On a bad handshake the
// client has been answered with an HTTP error and the error is returned.
func (e *Engine) Upgrade(w http.ResponseWriter, r *http.Request, h Handler) (*Conn, error) {
	u := ws.HTTPUpgrader{Timeout: e.cfg.HandshakeTimeout}
	netConn, rw, _, err := u.Upgrade(r, w)
	if err != nil {
		if netConn != nil {
			_ = netConn.Close()
		}
		return nil, err
	}
	early := buffered(rw)
	c := newConn(e, h, netConn.RemoteAddr())
	e.stats.Accepted.Add(1)

	nb, err := nbio.NBConn(netConn)
	if err != nil {
		// Not a plain socket (TLS from net/http, say): read it the blocking way.
		c.wire = streamWire{conn: netConn, timeout: e.cfg.WriteTimeout}
		e.conns.add(c)
		go c.readLoop(netConn)
	} else {
		nb.SetSession(c)
		c.wire = pollerWire{nb: nb}
		e.conns.add(c) // before the poller can report a close
		c.published.Store(true)
		if _, err := e.nb.AddConn(nb); err != nil {
			c.mu.Lock()
			c.state.Store(stateClosed) // so the handler hears nothing of it
			c.dropOwedLocked()         // a heartbeat ping may have been queued meanwhile
			c.mu.Unlock()
			_ = nb.Close()
			e.conns.remove(c)
			return nil, err
		}
	}
	if len(early) > 0 {
		// RFC 6455 §4.1: a client must wait for the server's handshake
		// before sending frames.
		c.fail(&closeError{CloseProtocolError, "data sent before the handshake completed"})
	}
	return c, nil
}

// buffered returns the bytes net/http read past the request.
func buffered(rw *bufio.ReadWriter) []byte {
	if rw == nil || rw.Reader.Buffered() == 0 {
		return nil
	}
	b, _ := rw.Reader.Peek(rw.Reader.Buffered())
	return b
}
