package websocket

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// discardHandler ignores what clients send.
type discardHandler struct{}

func (discardHandler) OnMessage(*Conn, bool, []byte) {}
func (discardHandler) OnClose(*Conn, int, string)    {}
func (discardHandler) Farewell(int, string) []byte   { return nil }

// BenchmarkFanoutLoopback writes one shared 64-byte frame per round to
// 1,000 real loopback connections, flushing after every `batch` frames,
// while client goroutines read and count the bytes. It measures the
// transport's write path: one write per connection per flush.
func BenchmarkFanoutLoopback(b *testing.B) {
	const conns = 1000
	for _, batch := range []int{1, 10} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			e, err := NewEngine(Config{MaxQueueBytes: 64 << 20})
			if err != nil {
				b.Fatal(err)
			}
			defer e.Stop()
			accepted := make(chan *Conn, conns)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if c, err := e.Upgrade(w, r, discardHandler{}); err == nil {
					accepted <- c
				}
			}))
			defer srv.Close()
			frame := TextFrame([]byte(strings.Repeat("x", 64)))
			var received atomic.Int64
			url := "ws" + strings.TrimPrefix(srv.URL, "http")
			server := make([]*Conn, 0, conns)
			for range conns {
				conn, _, _, err := ws.Dial(b.Context(), url)
				if err != nil {
					b.Fatal(err)
				}
				defer conn.Close()
				go func() {
					buf := make([]byte, 16<<10)
					for {
						n, err := conn.Read(buf)
						received.Add(int64(n))
						if err != nil {
							return
						}
					}
				}()
				server = append(server, <-accepted)
			}
			_ = io.Discard
			b.ResetTimer()
			for i := 0; i < b.N; i += batch {
				for _, c := range server {
					needs := false
					for range batch {
						n, _ := c.Enqueue(frame)
						needs = needs || n
					}
					if needs {
						c.Flush()
					}
				}
			}
			want := int64(((b.N+batch-1)/batch)*batch) * conns * int64(len(frame))
			deadline := time.Now().Add(30 * time.Second)
			for received.Load() < want && time.Now().Before(deadline) {
				time.Sleep(100 * time.Microsecond)
			}
			b.StopTimer()
			delivered := float64(received.Load()) / float64(len(frame))
			b.ReportMetric(delivered/b.Elapsed().Seconds(), "deliveries/s")
		})
	}
}
