package herald_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

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

	srv := httptest.NewServer(mux) // in production: http.ListenAndServe(":8000", mux)
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/orders", "text/plain", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	fmt.Println(resp.Status)
	// Output: 200 OK
}
