package client_test

import (
	"io"
	"net"
	"sync"
	"testing"
)

// proxy forwards TCP connections to a real server and can cut them all
// and turn new ones away, so that a test decides when a client is away
// without the server going down or telling the client anything.
type proxy struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	mu    sync.Mutex
	conns []net.Conn
	down  bool
}

// startProxy forwards to target (host:port) until the test ends.
func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		_ = ln.Close()
		p.cut()
		p.wg.Wait()
	})
	return p
}

// url is the proxied WebSocket endpoint.
func (p *proxy) url() string { return "ws://" + p.ln.Addr().String() + "/ws" }

// cut drops every forwarded connection and refuses new ones until restore.
func (p *proxy) cut() {
	p.mu.Lock()
	p.down = true
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

// restore lets connections through again.
func (p *proxy) restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		out, err := p.dialTarget(in)
		if err != nil {
			_ = in.Close()
			continue
		}
		p.wg.Add(2)
		go p.pipe(in, out)
		go p.pipe(out, in)
	}
}

// dialTarget connects in to the server, unless the proxy is down.
func (p *proxy) dialTarget(in net.Conn) (net.Conn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		return nil, net.ErrClosed
	}
	out, err := net.Dial("tcp", p.target)
	if err != nil {
		return nil, err
	}
	p.conns = append(p.conns, in, out)
	return out, nil
}

// pipe copies src to dst; when either side ends, both close.
func (p *proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(dst, src)
	_ = dst.Close()
	_ = src.Close()
}
