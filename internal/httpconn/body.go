package httpconn

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// BodyTimeoutError is what reading a request body returns once the body
// has taken longer than LimitBody allows. It matches os.ErrDeadlineExceeded,
// so a handler answers it without knowing this package: 408.
type BodyTimeoutError struct {
	Limit time.Duration
}

func (e *BodyTimeoutError) Error() string {
	return fmt.Sprintf("request body not received within %v (http.body_timeout)", e.Limit)
}

func (e *BodyTimeoutError) Unwrap() error { return os.ErrDeadlineExceeded }

// LimitBody gives every request with a body timeout to deliver it, counted
// from the end of its headers, by setting the connection's read deadline;
// net/http clears the deadline once the body has been read to its end.
// Requests without a body (long-polls, WebSocket upgrades) get no deadline.
// While the handler waits for the body, t may shed the connection.
func (t *Tracker) LimitBody(h http.Handler, timeout time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, limited := r.Body.(*timedBody); limited || r.Body == nil || r.Body == http.NoBody {
			h.ServeHTTP(w, r) // no body, or an outer LimitBody has it
			return
		}
		// A ResponseWriter that cannot take deadlines (a test recorder, a
		// wrapper without Unwrap) leaves the body unbounded.
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(timeout))
		c, _ := r.Context().Value(connKey{}).(net.Conn)
		if c != nil {
			t.move(c, body, serving)
		}
		b := &timedBody{ReadCloser: r.Body, limit: timeout, done: func() {
			if c != nil {
				t.move(c, serving, body)
			}
		}}
		r.Body = b
		defer b.finish()
		h.ServeHTTP(w, r)
	})
}

// timedBody reports the end of the body and names a timeout.
type timedBody struct {
	io.ReadCloser
	limit time.Duration
	once  sync.Once
	done  func()
}

func (b *timedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.finish()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			err = &BodyTimeoutError{Limit: b.limit}
		}
	}
	return n, err
}

func (b *timedBody) finish() { b.once.Do(b.done) }
