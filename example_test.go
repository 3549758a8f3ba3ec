package herald_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net"
	"net/http"

	"github.com/heraldhq/herald"
)

// Herald embedded in an existing net/http application: the app keeps its
// own routes, mounts herald under /rt/, and publishes from its handlers.
func Example() {
	node, err := herald.New(herald.Config{TokenSecret: "change-me", APIKey: "also-change-me"})
	if err != nil {
		log.Fatal(err)
	}
	defer node.Shutdown(context.Background())

	mux := http.NewServeMux()
	mux.Handle("/rt/", http.StripPrefix("/rt", node.Handler())) // /rt/ws, /rt/api/…
	mux.HandleFunc("/orders", func(w http.ResponseWriter, r *http.Request) {
		res, _ := node.Publish(r.Context(), "orders", json.RawMessage(`{"status":"created"}`))
		fmt.Fprintf(w, "published at offset %d", res.Offset)
	})

	// Serve runs the mux with the node's HTTP bounds (timeouts, the cap on
	// connections) until Shutdown.
	ln, err := net.Listen("tcp", "127.0.0.1:0") // in production ":8000"
	if err != nil {
		log.Fatal(err)
	}
	go node.Serve(ln, mux)
	resp, err := http.Post("http://"+ln.Addr().String()+"/orders", "text/plain", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	fmt.Println(resp.Status)
	// Output: 200 OK
}
