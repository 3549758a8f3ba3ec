// Command refserver is the least a round-based fan-out server can do, to
// measure what this machine allows with the same load generator as
// herald: run it, then point `herald bench fanout --url` at it.
//
//	go build -o /tmp/refserver ./bench/refserver
//	/tmp/refserver --addr 127.0.0.1:18090 &
//	herald bench fanout --url ws://127.0.0.1:18090/ws --server-pid $! --api-key x --procs 1
//
// It speaks just enough of herald's protocol for the bench: /healthz, a
// WebSocket at /ws that answers the first command (the subscribe) with a
// result, and POST /api/publish (any API key). Publications go into a
// bounded queue; one fan-out goroutine takes everything waiting (at most
// 256 publications or 64 KB), frames it once into one buffer, and has
// --writers goroutines write that buffer to an equal share of the
// subscribers each, one write() per subscriber, waiting for all before
// the next round: herald's design with nothing else around it.
//
// With --mode sweep there are no rounds: every publication is appended to
// a log, and each writer goroutine sweeps its share of the subscribers
// over and over, writing to each whatever it has not had yet (several
// frames in one write), reading the log's end afresh at every subscriber.
// A publication then waits for the writer's next visit (at most one
// sweep), not for the current round to end and its own round to reach the
// subscriber (up to two).
//
// It is a measuring stick, not a server: no auth, one channel, no limits,
// and in sweep mode the log is never trimmed (a bench run is bounded).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

type server struct {
	mu    sync.Mutex
	subs  []net.Conn
	seq   int64
	queue chan []byte // framed publications (rounds)

	// sweep mode
	sweep  bool
	log    [][]byte      // every framed publication
	notify chan struct{} // closed and replaced when the log grows
	shares [][]*sweepSub // writer i's subscribers
	joined int           // subscribers so far, to deal them out
}

type sweepSub struct {
	c    net.Conn
	next int // index in log of the first frame it has not had
	dead bool
}

func main() {
	addr := flag.String("addr", "127.0.0.1:18090", "listen address (loopback)")
	writers := flag.Int("writers", 2, "goroutines writing, each to its share of the subscribers")
	mode := flag.String("mode", "rounds", "rounds (herald's design) or sweep")
	flag.Parse()
	*writers = max(*writers, 1)
	s := &server{queue: make(chan []byte, 4096), sweep: *mode == "sweep", notify: make(chan struct{}),
		shares: make([][]*sweepSub, *writers)}
	if *mode != "rounds" && *mode != "sweep" {
		log.Fatalf("--mode must be rounds or sweep")
	}
	up := websocket.Upgrader{ReadBufferSize: 512, WriteBufferSize: 512}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		if _, _, err := c.ReadMessage(); err != nil { // the subscribe command
			c.Close()
			return
		}
		if err := c.WriteMessage(websocket.TextMessage, []byte(`{"id":1,"result":{"channel":"bench","offset":0,"epoch":"ref"}}`)); err != nil {
			c.Close()
			return
		}
		s.mu.Lock()
		s.subs = append(s.subs, c.NetConn())
		if s.sweep {
			i := s.joined % len(s.shares)
			s.shares[i] = append(s.shares[i], &sweepSub{c: c.NetConn(), next: len(s.log)})
			s.joined++
		}
		s.mu.Unlock()
		go func() { // read (and drop) until the client goes
			for {
				if _, _, err := c.NextReader(); err != nil {
					c.Close()
					return
				}
			}
		}()
	})
	mux.HandleFunc("/api/publish", s.publish)
	if s.sweep {
		for i := range s.shares {
			go s.sweeper(i)
		}
	} else {
		go s.fanout(*writers)
	}
	log.Fatal(http.ListenAndServe(*addr, mux))
}

func (s *server) publish(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil || len(req.Data) == 0 {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.seq++
	seq, n := s.seq, len(s.subs)
	s.mu.Unlock()
	p := []byte(`{"type":"publication","channel":"bench","offset":` + strconv.FormatInt(seq, 10) +
		`,"epoch":"ref","time":` + strconv.FormatInt(time.Now().UnixMilli(), 10) + `,"data":`)
	p = append(append(p, req.Data...), '}')
	if s.sweep {
		s.mu.Lock()
		s.log = append(s.log, textFrame(p))
		close(s.notify)
		s.notify = make(chan struct{})
		s.mu.Unlock()
	} else {
		s.queue <- textFrame(p)
	}
	fmt.Fprintf(w, `{"offset":%d,"epoch":"ref","delivered":%d}`, seq, n)
}

// textFrame frames payload as one unmasked WebSocket text frame.
func textFrame(payload []byte) []byte {
	n := len(payload)
	var h []byte
	switch {
	case n < 126:
		h = []byte{0x81, byte(n)}
	case n < 1<<16:
		h = []byte{0x81, 126, byte(n >> 8), byte(n)}
	default:
		h = []byte{0x81, 127, 0, 0, 0, 0, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}
	}
	return append(h, payload...)
}

// fanout runs rounds: take what is queued, write it to every subscriber,
// wait for all writes, repeat. Subscribers whose write fails are dropped.
func (s *server) fanout(writers int) {
	for {
		buf := append([]byte(nil), <-s.queue...)
	drain:
		for i := 1; i < 256 && len(buf) < 64<<10; i++ {
			select {
			case f := <-s.queue:
				buf = append(buf, f...)
			default:
				break drain
			}
		}
		s.mu.Lock()
		subs := s.subs
		s.mu.Unlock()
		var wg sync.WaitGroup
		var deadMu sync.Mutex
		dead := map[net.Conn]bool{}
		chunk := (len(subs) + writers - 1) / writers
		for i := 0; i < len(subs); i += chunk {
			part := subs[i:min(i+chunk, len(subs))]
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, c := range part {
					_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
					if _, err := c.Write(buf); err != nil {
						c.Close()
						deadMu.Lock()
						dead[c] = true
						deadMu.Unlock()
					}
				}
			}()
		}
		wg.Wait()
		if len(dead) > 0 {
			s.mu.Lock()
			live := s.subs[:0:0]
			for _, c := range s.subs {
				if !dead[c] {
					live = append(live, c)
				}
			}
			s.subs = live
			s.mu.Unlock()
		}
	}
}

// sweeper visits writer i's subscribers over and over, writing each what
// it has not had, and sleeps when every one of them is up to date.
func (s *server) sweeper(i int) {
	var cacheFrom, cacheTo int
	var cache []byte
	for {
		s.mu.Lock()
		subs := s.shares[i]
		wake := s.notify
		s.mu.Unlock()
		wrote := false
		for _, sub := range subs {
			if sub.dead {
				continue
			}
			s.mu.Lock()
			frames := s.log
			s.mu.Unlock()
			end := len(frames)
			if sub.next >= end {
				continue
			}
			if sub.next != cacheFrom || end != cacheTo { // most subscribers want the same span
				cache = cache[:0]
				for _, f := range frames[sub.next:end] {
					cache = append(cache, f...)
				}
				cacheFrom, cacheTo = sub.next, end
			}
			_ = sub.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if _, err := sub.c.Write(cache); err != nil {
				sub.c.Close()
				sub.dead = true
			}
			sub.next = end
			wrote = true
		}
		if !wrote {
			<-wake
		}
	}
}
