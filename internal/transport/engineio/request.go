package engineio

import (
	"net/http"
	"net/url"
	"strings"
)

// Request is what a session's handshake request said. A server holds one
// for every open connection, so it keeps the text in one string, not the
// parsed forms: net/http's header map and its strings cost several times
// the bytes they hold, and few sessions are ever asked for them.
type Request struct {
	// text is the remote address, the request URI, then every header line
	// as "Key: value\n" (keys canonical); the ends mark the first two.
	text              string
	remoteEnd, uriEnd int32
}

// upgradeHeaders are the WebSocket handshake's own headers: they describe
// the upgrade, not the client, and are not kept.
var upgradeHeaders = map[string]bool{
	"Connection": true, "Upgrade": true, "Sec-Websocket-Key": true,
	"Sec-Websocket-Version": true, "Sec-Websocket-Extensions": true,
}

func newRequest(r *http.Request) *Request {
	uri := r.URL.RequestURI()
	n := len(r.RemoteAddr) + len(uri)
	for key, values := range r.Header {
		if upgradeHeaders[key] {
			continue
		}
		for _, v := range values {
			n += len(key) + len(v) + 3
		}
	}
	var b strings.Builder
	b.Grow(n) // exactly: a builder left to grow would keep up to twice that
	b.WriteString(r.RemoteAddr)
	b.WriteString(uri)
	for key, values := range r.Header {
		if upgradeHeaders[key] {
			continue
		}
		for _, v := range values {
			b.WriteString(key)
			b.WriteString(": ")
			b.WriteString(v)
			b.WriteByte('\n')
		}
	}
	// Header bytes are bounded by net/http's MaxHeaderBytes, far below 2 GiB.
	return &Request{text: b.String(), remoteEnd: int32(len(r.RemoteAddr)), uriEnd: int32(len(r.RemoteAddr) + len(uri))}
}

// RemoteAddr is the address of the client that made the request.
func (q *Request) RemoteAddr() string { return q.text[:q.remoteEnd] }

// Header returns the request's headers, a new map on every call, less
// the WebSocket handshake's own (Connection, Upgrade, Sec-WebSocket-*).
func (q *Request) Header() http.Header {
	lines := q.text[q.uriEnd:]
	h := make(http.Header, strings.Count(lines, "\n"))
	for line := range strings.Lines(lines) {
		key, value, _ := strings.Cut(strings.TrimSuffix(line, "\n"), ": ")
		h[key] = append(h[key], value)
	}
	return h
}

// URL returns the request's path and query, a new value on every call.
func (q *Request) URL() url.URL {
	u, err := url.ParseRequestURI(q.text[q.remoteEnd:q.uriEnd])
	if err != nil { // it parsed once already, as the request's URL
		return url.URL{}
	}
	return *u
}
