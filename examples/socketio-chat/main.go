// Command socketio-chat is the go-socket.io demo of the seed article,
// ported to herald: namespaces, rooms, events, acknowledgements and
// broadcast, for the official socket.io-client v4 (which go-socket.io
// cannot serve). It embeds herald; the same rooms are herald channels, so
// `herald client` and the HTTP API see the chat too.
//
//	go run ./examples/socketio-chat            # then open http://localhost:8000/
//
// Type in the page: "join ROOM", "leave ROOM", "bye", or anything else to
// chat to your rooms; "notice" events are answered with a "reply".
package main

import (
	"embed"
	"flag"
	"io/fs"
	"log"
	"net/http"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/socketio"
)

// Msg is what the server sends back in "res" events.
type Msg struct {
	UserID    string   `json:"userId"`
	Text      string   `json:"text"`
	State     string   `json:"state"`
	Namespace string   `json:"namespace"`
	Rooms     []string `json:"rooms"`
}

//go:embed page
var page embed.FS

func main() {
	addr := flag.String("addr", ":8000", "listen address")
	flag.Parse()
	node, err := herald.New(herald.Config{AllowAnonymous: true, APIKey: "demo-api-key", TokenSecret: "demo-secret",
		DefaultChannel: herald.ChannelPolicy{Subscribe: herald.AccessAnyone}})
	if err != nil {
		log.Fatal(err)
	}
	register(node.SocketIO())

	mux := http.NewServeMux()
	mux.Handle("/", node.Handler()) // /socket.io/, /ws, /api/, /socket.io/socket.io.js …
	sub, _ := fs.Sub(page, "page")
	mux.Handle("/demo/", http.StripPrefix("/demo/", http.FileServer(http.FS(sub))))
	log.Printf("serving at http://localhost%s/demo/", *addr)
	log.Fatal(http.ListenAndServe(*addr, mux))
}

// register sets up the demo's handlers, as the seed's main() does.
func register(io *socketio.Server) {
	io.OnConnect("/", func(s *socketio.Socket) error {
		s.SetContext(Msg{})
		log.Println("connected /:", s.ID())
		return s.Emit("res", Msg{s.ID(), "connected!", "notice", "", nil})
	})
	io.OnEvent("/", "join", func(s *socketio.Socket, room string) {
		if err := s.Join(room); err != nil {
			s.Emit("res", Msg{s.ID(), "cannot join: " + err.Error(), "error", s.Namespace(), nil})
			return
		}
		io.BroadcastToRoom("/", room, "res", Msg{s.ID(), "<= " + s.ID() + " join " + room, "state", s.Namespace(), rooms(s)})
	})
	io.OnEvent("/", "leave", func(s *socketio.Socket, room string) {
		s.Leave(room)
		io.BroadcastToRoom("/", room, "res", Msg{s.ID(), "<= " + s.ID() + " leave " + room, "state", s.Namespace(), rooms(s)})
	})
	io.OnEvent("/", "chat", func(s *socketio.Socket, msg string) {
		res := Msg{s.ID(), "<= " + msg, "normal", s.Namespace(), rooms(s)}
		s.SetContext(res)
		for _, room := range rooms(s) {
			io.BroadcastToRoom("/", room, "res", res)
		}
	})
	io.OnEvent("/", "notice", func(s *socketio.Socket, msg string) {
		s.Emit("reply", "have "+msg)
	})
	io.OnEvent("/chat", "msg", func(s *socketio.Socket, msg string) string {
		return "recv " + msg
	})
	io.OnEvent("/", "bye", func(s *socketio.Socket) string {
		last, _ := s.Context().(Msg)
		s.Emit("bye", last)
		left := rooms(s)
		s.LeaveAll()
		for _, room := range left {
			io.BroadcastToRoom("/", room, "res", Msg{s.ID(), "<= " + s.ID() + " leaved", "state", s.Namespace(), left})
		}
		s.Defer(s.Close) // after the acknowledgement below has gone out
		return last.Text
	})
	io.OnError("/", func(s *socketio.Socket, err error) { log.Println("/:error", err) })
	io.OnDisconnect("/", func(s *socketio.Socket, reason string) { log.Println("/:closed", s.ID(), reason) })
}

// rooms are the rooms a socket joined, without its own id room.
func rooms(s *socketio.Socket) []string { return s.Rooms()[1:] }
