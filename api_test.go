package herald

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestAPIAuth(t *testing.T) {
	s := startNode(t, testConfig())
	for _, header := range []string{"", "apikey wrong", "Bearer " + testAPIKey, testAPIKey} {
		req, _ := http.NewRequest("GET", s.srv.URL+"/api/info", nil)
		if header != "" {
			req.Header.Set("Authorization", header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 401 || strings.Contains(string(body), testAPIKey) || !strings.Contains(string(body), "unauthorized") {
			t.Fatalf("header %q: %d %s", header, resp.StatusCode, body)
		}
	}
	if status, res := s.api(t, "GET", "/api/info", ""); status != 200 || res["node"] != s.node.ID() {
		t.Fatalf("info: %d %v", status, res)
	}
}

func TestAPIBadRequests(t *testing.T) {
	cfg := testConfig()
	cfg.Limits.MaxAPIBody = 1024
	s := startNode(t, cfg)
	cases := []struct {
		method, path, body string
		status             int
		mentions           string
	}{
		{"POST", "/api/publish", `{"channel":"news","data":`, 400, "not valid JSON"},
		{"POST", "/api/publish", ``, 400, "empty"},
		{"POST", "/api/publish", `[1,2]`, 400, "JSON object"},
		{"POST", "/api/publish", `{"channel":"news","data":1,"extra":true}`, 400, "extra"},
		{"POST", "/api/publish", `{"data":1}`, 400, `"channel"`},
		{"POST", "/api/publish", `{"channel":"news"}`, 400, `"data"`},
		{"POST", "/api/publish", `{"channel":"no spaces","data":1}`, 400, "not allowed"},
		{"POST", "/api/publish", `{"channel":"news","data":1} {"again":1}`, 400, "after the JSON object"},
		{"POST", "/api/publish", `{"channel":"news","data":"` + strings.Repeat("x", 2000) + `"}`, 413, "larger than 1024"},
		{"GET", "/api/publish", ``, 405, "POST"},
		{"POST", "/api/info", ``, 405, "GET"},
		{"POST", "/api/broadcast", `{"channels":["a","b c"],"data":1}`, 400, "channels[1]"},
		{"POST", "/api/broadcast", `{"channels":[],"data":1}`, 400, `"channels"`},
		{"POST", "/api/push", `{"user":"u","data":1}`, 400, `"event"`},
		{"POST", "/api/push", `{"event":"e","data":1}`, 400, `"user"`},
		{"POST", "/api/disconnect", `{}`, 400, `"user"`},
		{"POST", "/api/unsubscribe", `{"user":"u"}`, 400, `"channel"`},
		{"POST", "/api/unsubscribe", `{"user":"u","channel":"bad name"}`, 400, "not allowed"},
		{"GET", "/api/presence", ``, 400, `"channel"`},
		{"GET", "/api/nothing-here", ``, 404, "no such endpoint"},
	}
	for _, tc := range cases {
		status, res := s.api(t, tc.method, tc.path, tc.body)
		msg, _ := res["error"].(string)
		if status != tc.status || !strings.Contains(msg, tc.mentions) {
			t.Errorf("%s %s %.40q: got %d %q, want %d mentioning %q", tc.method, tc.path, tc.body, status, msg, tc.status, tc.mentions)
		}
	}
}

func TestAPIBroadcastChannelsAndInfo(t *testing.T) {
	s := startNode(t, testConfig())
	a := dialWS(t, s.wsURL(""), nil)
	a.ok(map[string]any{"op": "subscribe", "channel": "one"})
	b := dialWS(t, s.wsURL(""), nil)
	b.ok(map[string]any{"op": "subscribe", "channel": "two"})
	b.ok(map[string]any{"op": "subscribe", "channel": "one"})

	status, res := s.api(t, "POST", "/api/broadcast", `{"channels":["one","two","three"],"data":{"x":1}}`)
	if status != 200 || res["delivered"].(float64) != 3 || len(res["results"].([]any)) != 3 {
		t.Fatalf("broadcast: %d %v", status, res)
	}
	a.event("publication")
	b.event("publication")
	b.event("publication")

	status, res = s.api(t, "GET", "/api/channels", "")
	chans := res["channels"].([]any)
	if status != 200 || len(chans) != 2 || chans[0].(map[string]any)["channel"] != "one" || chans[0].(map[string]any)["subscribers"].(float64) != 2 {
		t.Fatalf("channels: %d %v", status, res)
	}
	status, res = s.api(t, "GET", "/api/info", "")
	if status != 200 || res["connections"].(float64) != 2 || res["channels"].(float64) != 2 {
		t.Fatalf("info: %d %v", status, res)
	}
}

func TestHealthMetricsAndPage(t *testing.T) {
	s := startNode(t, testConfig())
	c := dialWS(t, s.wsURL(""), nil)
	c.ok(map[string]any{"op": "subscribe", "channel": "news"})
	s.api(t, "POST", "/api/publish", `{"channel":"news","data":1}`)
	c.event("publication")
	get := func(path string) (int, string) {
		resp, err := http.Get(s.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if status, body := get("/healthz"); status != 200 || !strings.Contains(body, "ok") {
		t.Fatal(status, body)
	}
	status, body := get("/metrics")
	for _, want := range []string{"herald_connections 1", `herald_publications_total{source="api"} 1`,
		"herald_messages_delivered_total 1", `herald_commands_total{op="subscribe"} 1`, `herald_api_requests_total{endpoint="publish",status="200"} 1`} {
		if status != 200 || !strings.Contains(body, want) {
			t.Fatalf("metrics lack %q:\n%s", want, body)
		}
	}
	for _, line := range strings.Split(body, "\n") {
		known := strings.HasPrefix(line, "herald_") || strings.HasPrefix(line, "go_") || strings.HasPrefix(line, "process_")
		if line != "" && !strings.HasPrefix(line, "#") && !known {
			t.Fatalf("metric neither herald's nor the runtime's: %s", line)
		}
	}
	if status, body := get("/"); status != 200 || !strings.Contains(body, "Herald") {
		t.Fatal(status, body)
	}
}

func TestPublicStats(t *testing.T) {
	s := startNode(t, testConfig())
	c := dialWS(t, s.wsURL(""), nil)
	c.ok(map[string]any{"op": "subscribe", "channel": "news"})
	var stats NodeInfo
	waitUntil(t, "rates sampled", func() bool {
		s.api(t, "POST", "/api/publish", `{"channel":"news","data":1}`)
		time.Sleep(20 * time.Millisecond)
		resp, err := http.Get(s.srv.URL + "/stats")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		json.NewDecoder(resp.Body).Decode(&stats)
		return stats.PublishedPerSecond > 0 && stats.DeliveredPerSecond > 0 // a sample boundary may split the three
	})
	if stats.Connections != 1 || stats.Channels != 1 || stats.PublishedPerSecond > 60 || stats.Node != s.node.ID() {
		t.Fatalf("%+v", stats)
	}
}

func TestAPIDuringShutdownIs503(t *testing.T) {
	s := startNode(t, testConfig())
	if err := s.node.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, req := range [][2]string{{"/api/publish", `{"channel":"a","data":1}`}, {"/api/broadcast", `{"channels":["a","b"],"data":1}`},
		{"/api/push", `{"user":"u","event":"e","data":1}`}} {
		if status, res := s.api(t, "POST", req[0], req[1]); status != 503 || !strings.Contains(fmt.Sprint(res["error"]), "shutting down") {
			t.Errorf("%s during shutdown: %d %v", req[0], status, res)
		}
	}
}
