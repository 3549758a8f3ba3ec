// Command sioserver is the Socket.IO server the e2e suites drive with the
// official socket.io-client: herald embedded as a library, with handlers
// that exercise the Go API (events, acks both ways, binary, rooms,
// broadcasts, disconnects). Tests start one per file on a free port.
//
//	sioserver -addr 127.0.0.1:8123 -max-payload 20000 -ping-interval 500ms
//
// It prints "sioserver listening on http://HOST:PORT" once it serves
// (/healthz answers), and shuts down gracefully on SIGTERM.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/socketio"
)

// The secrets the tests know: tokens are HS256 with TokenSecret, the HTTP
// API takes APIKey.
const (
	TokenSecret = "e2e-sio-secret"
	APIKey      = "e2e-sio-api-key"
)

// namespaces get the same handlers. Dynamic ones (^/dyn-[a-z]+$) get
// none: the Go API registers handlers by namespace name only.
var namespaces = []string{"/", "/chat", "/admin"}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	pingInterval := flag.Duration("ping-interval", time.Second, "Engine.IO ping interval")
	pingTimeout := flag.Duration("ping-timeout", 2*time.Second, "Engine.IO ping timeout")
	maxPayload := flag.Int("max-payload", 100_000, "largest polling body / WebSocket message, in bytes")
	connectTimeout := flag.Duration("connect-timeout", 10*time.Second, "how long a connection may stay without a namespace")
	recovery := flag.Duration("recovery-window", 2*time.Minute, "connection state recovery window (negative: off)")
	recoveryEvents := flag.Int("recovery-events", 0, "events kept per socket for recovery (0: the default)")
	dataDir := flag.String("data-dir", "", "keeps channel streams, and sockets across a graceful restart, in this directory")
	flag.Parse()

	cfg := herald.Config{
		AllowAnonymous: true,
		TokenSecret:    TokenSecret,
		APIKey:         APIKey,
		DefaultChannel: herald.ChannelPolicy{Subscribe: herald.AccessAnyone, Publish: herald.AccessAnyone},
		Namespaces: map[string]herald.ChannelPolicy{
			"chat":  {Subscribe: herald.AccessAnyone, Publish: herald.AccessSubscribers},
			"admin": {Subscribe: herald.AccessAuthenticated, Publish: herald.AccessAuthenticated},
		},
		// The suites send hundreds of events back to back to test ordering;
		// the default event rate (50/s, bursts of 100) would cut them off.
		// socketio/limits_test.go tests that limit.
		Limits:          herald.Limits{MaxConnections: 10_000, CommandRate: 5000, CommandBurst: 1000},
		ShutdownTimeout: 5 * time.Second,
		SocketIO: socketio.Config{
			Namespaces:        []string{"/chat", "/admin"},
			DynamicNamespaces: `^/dyn-[a-z]+$`,
			PingInterval:      *pingInterval,
			PingTimeout:       *pingTimeout,
			MaxPayload:        *maxPayload,
			UpgradeTimeout:    5 * time.Second,
			ConnectTimeout:    *connectTimeout,
			RecoveryWindow:    *recovery,
			RecoveryEvents:    *recoveryEvents,
		},
		Log: herald.LogConfig{Level: "warn"},
	}
	if *dataDir != "" {
		// Rooms "feed:…" keep history, on disk: recovery serves them from
		// their streams, across restarts too.
		cfg.DataDir, cfg.History.Store = *dataDir, herald.StoreDisk
		cfg.Namespaces["feed"] = herald.ChannelPolicy{Subscribe: herald.AccessAnyone, Publish: herald.AccessAnyone, HistorySize: 1000}
	}
	node, err := herald.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	io := node.SocketIO()
	for _, nsp := range namespaces {
		register(io, nsp)
	}
	// "/admin" wants a user: the token was checked before middlewares run.
	io.Use("/admin", func(s *socketio.Socket) error {
		if s.User() == "" {
			return &socketio.ConnectError{Message: "admin needs a token", Data: map[string]any{"code": "NO_TOKEN"}}
		}
		if s.User() == "mallory" {
			return &socketio.ConnectError{Message: "banned", Data: map[string]any{"code": "BANNED", "user": s.User()}}
		}
		return nil
	})

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("sioserver listening on http://%s\n", ln.Addr())
	served := make(chan error, 1)
	go func() { served <- node.Serve(ln, nil) }()

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	select {
	case err := <-served:
		log.Fatal(err)
	case <-stop:
	}
	// As `herald serve` does: the node stops accepting, closes its
	// connections and lets in-flight requests (parked polls) finish.
	_ = node.Shutdown(context.Background())
	<-served
}

// who describes a socket to the tests.
type who struct {
	ID        string          `json:"id"`
	Namespace string          `json:"namespace"`
	User      string          `json:"user"`
	Rooms     []string        `json:"rooms"`
	Recovered bool            `json:"recovered"`
	Auth      json.RawMessage `json:"auth"`
	Query     string          `json:"query"`
	Context   any             `json:"context"`
}

func describe(s *socketio.Socket) who {
	u := s.URL()
	return who{ID: s.ID(), Namespace: s.Namespace(), User: s.User(), Rooms: s.Rooms(), Recovered: s.Recovered(),
		Auth: s.Auth(), Query: u.Query().Get("tag"), Context: s.Context()}
}

// broadcast is the options of "to-room".
type broadcast struct {
	Except      []string `json:"except"`      // rooms left out
	IncludeSelf bool     `json:"includeSelf"` // the server's To(), not the socket's
	Event       string   `json:"event"`       // default "room-msg"
}

// values turns received arguments back into values to send: bytes for
// binary ones, raw JSON for the others.
// values passes arguments on as they came: an Arg sends its binary values
// as binary again, however deeply nested.
func values(args []socketio.Arg) []any {
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = a
	}
	return out
}

func register(io *socketio.Server, nsp string) {
	io.OnConnect(nsp, func(s *socketio.Socket) error {
		if !s.Recovered() {
			s.SetContext(map[string]any{"connectedAt": time.Now().UnixMilli()})
		}
		return nil
	})
	// Watchers (sockets in room "watchers" of "/") hear of every
	// disconnect and handler error, so tests can see the server's side.
	io.OnDisconnect(nsp, func(s *socketio.Socket, reason string) {
		_ = io.To("/", "watchers").Emit("peer-disconnected", s.ID(), s.Namespace(), reason)
	})
	io.OnError(nsp, func(s *socketio.Socket, err error) {
		_ = io.To("/", "watchers").Emit("peer-error", s.ID(), s.Namespace(), err.Error())
	})

	io.OnEvent(nsp, "whoami", func(s *socketio.Socket) who { return describe(s) })
	io.OnEvent(nsp, "watch", func(s *socketio.Socket) error { return s.Join("watchers") })

	// echo acknowledges with every argument it got, binary ones as binary,
	// as one array.
	io.OnEvent(nsp, "echo", func(s *socketio.Socket, args ...socketio.Arg) []any { return values(args) })
	// echo-event sends the arguments back as an event of the given name.
	io.OnEvent(nsp, "echo-event", func(s *socketio.Socket, event string, args ...socketio.Arg) error {
		return s.Emit(event, values(args)...)
	})
	// concat: several binary attachments in, a binary acknowledgement out.
	io.OnEvent(nsp, "concat", func(s *socketio.Socket, label string, a, b, c []byte) (string, []byte, int) {
		all := append(append(append([]byte{}, a...), b...), c...)
		return label, all, len(all)
	})
	// upload takes a file as an object with a binary field, as clients
	// commonly send one ({name, data: Buffer}).
	io.OnEvent(nsp, "upload", func(s *socketio.Socket, f struct {
		Name string `json:"name"`
		Data []byte `json:"data"`
	}) (string, int) {
		return f.Name, len(f.Data)
	})
	// files: one event with several attachments, top level and nested.
	io.OnEvent(nsp, "files", func(s *socketio.Socket) error {
		return s.Emit("files", []byte{1, 2, 3}, "between", []byte{},
			map[string]any{"nested": []byte{4, 5}, "list": []any{[]byte{6}, "x", []byte{7, 8, 9}}})
	})
	// ask asks the client a question (EmitWithAck) and acknowledges with
	// its answer.
	io.OnEvent(nsp, "ask", func(s *socketio.Socket, question string, timeoutMs int) []any {
		if timeoutMs <= 0 {
			timeoutMs = 3000
		}
		answer, err := s.EmitWithAck(time.Duration(timeoutMs)*time.Millisecond, "question", question)
		if err != nil {
			return []any{map[string]string{"error": err.Error()}}
		}
		return values(answer)
	})
	// ask-later asks without blocking the socket's events, and reports the
	// outcome as an "ask-result" event: {answer} or {error}.
	io.OnEvent(nsp, "ask-later", func(s *socketio.Socket, question string, timeoutMs int) {
		go func() {
			answer, err := s.EmitWithAck(time.Duration(timeoutMs)*time.Millisecond, "question", question)
			if err != nil {
				_ = s.Emit("ask-result", map[string]string{"error": err.Error()})
				return
			}
			var v any
			if len(answer) > 0 {
				_ = answer[0].Decode(&v)
			}
			_ = s.Emit("ask-result", map[string]any{"answer": v})
		}()
	})
	// slow answers after ms milliseconds (longer than a client's timeout).
	io.OnEvent(nsp, "slow", func(s *socketio.Socket, ms int) string {
		time.Sleep(time.Duration(ms) * time.Millisecond)
		return "late"
	})
	// typed fails to decode anything but a number: OnError hears of it.
	io.OnEvent(nsp, "typed", func(s *socketio.Socket, n int) int { return n * 2 })
	io.OnEvent(nsp, "panic", func(s *socketio.Socket) string { panic("handler blew up") })

	io.OnEvent(nsp, "join", func(s *socketio.Socket, rooms ...string) ([]string, error) {
		err := s.Join(rooms...)
		return s.Rooms(), err
	})
	io.OnEvent(nsp, "leave", func(s *socketio.Socket, room string) ([]string, error) {
		err := s.Leave(room)
		return s.Rooms(), err
	})
	io.OnEvent(nsp, "room-len", func(s *socketio.Socket, room string) int { return io.RoomLen(s.Namespace(), room) })
	// to-room broadcasts payload to room from the socket (which is left
	// out), or from the server when includeSelf.
	io.OnEvent(nsp, "to-room", func(s *socketio.Socket, room string, payload json.RawMessage, o broadcast) error {
		var op *socketio.Operator
		if o.IncludeSelf {
			op = io.To(s.Namespace(), room)
		} else {
			op = s.To(room)
		}
		if o.Event == "" {
			o.Event = "room-msg"
		}
		return op.Except(o.Except...).Emit(o.Event, payload, s.ID())
	})
	// to-all broadcasts to every other socket of the namespace.
	io.OnEvent(nsp, "to-all", func(s *socketio.Socket, payload json.RawMessage) error {
		return s.Broadcast().Emit("all-msg", payload, s.ID())
	})
	// emit-to sends an event to one socket by id, through the server's
	// Socket lookup (it may have lost its transport: recovery keeps it).
	io.OnEvent(nsp, "emit-to", func(s *socketio.Socket, id string, payload json.RawMessage) bool {
		to := io.Socket(s.Namespace(), id)
		return to != nil && to.Emit("direct", payload, s.ID()) == nil
	})
	// to-rooms broadcasts to several rooms at once (each socket gets it
	// once, whatever rooms of them it is in).
	io.OnEvent(nsp, "to-rooms", func(s *socketio.Socket, rooms []string, payload json.RawMessage) error {
		return s.To(rooms...).Emit("rooms-msg", payload, s.ID())
	})
	// shout is the load test's message: to everyone in room, sender too.
	io.OnEvent(nsp, "shout", func(s *socketio.Socket, room string, from, seq int) error {
		return io.To(s.Namespace(), room).Emit("shout", from, seq)
	})
	// emit-n sends n numbered events to the socket itself.
	io.OnEvent(nsp, "emit-n", func(s *socketio.Socket, event string, n int) error {
		for i := 0; i < n; i++ {
			if err := s.Emit(event, i); err != nil {
				return err
			}
		}
		return nil
	})
	io.OnEvent(nsp, "set-context", func(s *socketio.Socket, v json.RawMessage) { s.SetContext(v) })

	// server-disconnect acknowledges, then disconnects the socket from its
	// namespace; close-connection closes the whole connection.
	io.OnEvent(nsp, "server-disconnect", func(s *socketio.Socket) string {
		s.Defer(s.Disconnect)
		return "bye"
	})
	io.OnEvent(nsp, "close-connection", func(s *socketio.Socket) string {
		s.Defer(s.Close)
		return "bye"
	})
}
