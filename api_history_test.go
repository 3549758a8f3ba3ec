package herald

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// historyPage is one answer of GET /api/history.
type historyPage struct {
	offsets []int
	offset  int
	epoch   string
	next    string
	hasNext bool
}

// historyGet calls GET /api/history with query and requires a 200.
func (s *testServer) historyGet(t *testing.T, query string) historyPage {
	t.Helper()
	status, res := s.api(t, "GET", "/api/history?"+query, "")
	if status != 200 {
		t.Fatalf("history %s: %d %v", query, status, res)
	}
	page := historyPage{offset: int(res["offset"].(float64)), epoch: res["epoch"].(string)}
	page.next, page.hasNext = res["next"].(string)
	pubs, ok := res["publications"].([]any)
	if !ok {
		t.Fatalf("history %s: publications is %T, want an array: %v", query, res["publications"], res)
	}
	for _, p := range pubs {
		pub := p.(map[string]any)
		if pub["epoch"] != page.epoch {
			t.Fatalf("history %s: publication of epoch %v in a stream of %s", query, pub["epoch"], page.epoch)
		}
		page.offsets = append(page.offsets, int(pub["offset"].(float64)))
	}
	return page
}

// span is the offsets from..to.
func span(from, to int) string {
	var out []int
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return fmt.Sprint(out)
}

func TestAPIHistoryPagesThroughEverythingInOrder(t *testing.T) {
	s := startNode(t, resumeConfig())
	last := publishN(t, s.node, "feed:pages", 250)
	var got []int
	query, pages := "channel=feed:pages&limit=100", 0
	for {
		page := s.historyGet(t, query)
		pages++
		if page.offset != 250 || page.epoch != last.Epoch {
			t.Fatalf("page %d: stream at %d %s, want 250 %s", pages, page.offset, page.epoch, last.Epoch)
		}
		got = append(got, page.offsets...)
		if !page.hasNext {
			break
		}
		if pages > 3 {
			t.Fatal("the cursor does not end the listing")
		}
		query = "channel=feed:pages&limit=100&cursor=" + url.QueryEscape(page.next)
	}
	if pages != 3 || fmt.Sprint(got) != span(1, 250) {
		t.Fatalf("%d pages, offsets %v; want 3 pages of 1..250", pages, got)
	}
	// Without limit a page is 100; the data comes back as published.
	status, res := s.api(t, "GET", "/api/history?channel=feed:pages", "")
	pubs := res["publications"].([]any)
	if status != 200 || len(pubs) != 100 || res["next"] != "100."+last.Epoch {
		t.Fatalf("default page: %d, %d publications, next %v", status, len(pubs), res["next"])
	}
	first := pubs[0].(map[string]any)
	if first["channel"] != "feed:pages" || first["data"] != 0.0 || first["time"].(float64) <= 0 {
		t.Fatalf("first publication %v", first)
	}
}

func TestAPIHistorySinceAndEpoch(t *testing.T) {
	s := startNode(t, resumeConfig())
	last := publishN(t, s.node, "feed:since", 30)
	publishN(t, s.node, "short:since", 6)
	for _, tc := range []struct{ query, want string }{
		{"channel=feed:since&since=25", span(26, 30)},
		{"channel=feed:since&since=25&epoch=" + last.Epoch, span(26, 30)},
		// Offsets of another stream say nothing of this one: all it keeps is new.
		{"channel=feed:since&since=25&epoch=0ther&limit=5", span(1, 5)},
		{"channel=feed:since&since=0&epoch=0ther&limit=5", span(1, 5)},
		{"channel=feed:since&cursor=25.0ther&limit=5", span(1, 5)},
		{"channel=feed:since&since=30", "[]"},
		{"channel=feed:since&since=99", "[]"},
		// Trimmed to three: what is kept.
		{"channel=short:since", span(4, 6)},
		{"channel=short:since&since=1", span(4, 6)},
		// Nothing published: an empty stream, no epoch yet.
		{"channel=feed:none", "[]"},
	} {
		page := s.historyGet(t, tc.query)
		if got := fmt.Sprint(page.offsets); got != tc.want {
			t.Errorf("%s: offsets %s, want %s", tc.query, got, tc.want)
		}
	}
	if page := s.historyGet(t, "channel=feed:since&since=25&epoch=0ther&limit=5"); page.next != "5."+last.Epoch {
		t.Errorf("other epoch: next %q, want the stream's own epoch in it", page.next)
	}
	if page := s.historyGet(t, "channel=feed:since&since=20&limit=10"); page.hasNext {
		t.Errorf("a page ending at the newest publication has next %q", page.next)
	}
}

func TestAPIHistoryLimitBounds(t *testing.T) {
	s := startNode(t, resumeConfig())
	publishN(t, s.node, "feed:limit", 1001)
	if page := s.historyGet(t, "channel=feed:limit&limit=1000"); len(page.offsets) != 1000 || page.next == "" {
		t.Fatalf("limit 1000: %d publications, next %q", len(page.offsets), page.next)
	}
	if page := s.historyGet(t, "channel=feed:limit&limit=1"); fmt.Sprint(page.offsets) != "[1]" || page.next == "" {
		t.Fatalf("limit 1: %v, next %q", page.offsets, page.next)
	}
	for _, limit := range []string{"1001", "0", "-1", "ten", ""} {
		status, res := s.api(t, "GET", "/api/history?channel=feed:limit&limit="+limit, "")
		want := fmt.Sprintf(`query parameter "limit" must be a whole number from 1 to 1000 (got %q)`, limit)
		if status != 400 || res["error"] != want {
			t.Errorf("limit %q: %d %v, want 400 %q", limit, status, res["error"], want)
		}
	}
}

func TestAPIHistoryBadParametersAreNamed(t *testing.T) {
	s := startNode(t, resumeConfig())
	for _, tc := range []struct{ method, path, body, mentions string }{
		{"GET", "/api/history", "", `missing query parameter "channel"`},
		{"GET", "/api/history?channel=", "", `missing query parameter "channel"`},
		{"GET", "/api/history?channel=feed:x&since=-1", "", `"since" must be a whole number (got "-1")`},
		{"GET", "/api/history?channel=feed:x&since=yesterday", "", `"since" must be a whole number`},
		{"GET", "/api/history?channel=feed:x&cursor=abc", "", `"cursor" must be a "next" from /api/history (got "abc")`},
		{"GET", "/api/history?channel=feed:x&cursor=7.", "", `"cursor" must be a "next"`},
		{"GET", "/api/history?channel=feed:x&cursor=7.e&since=3", "", `"cursor" continues a listing`},
		{"GET", "/api/history?channel=feed:x&cursor=7.e&epoch=e", "", `without "since" and "epoch"`},
		{"GET", "/api/history?channel=feed:x&limt=5", "", `unknown query parameter "limt"`},
		{"GET", "/api/history?channel=bad%20name", "", `invalid channel: "bad name"`},
		{"GET", "/api/history?channel=bare:x", "", `history off: history is off for channel "bare:x"`},
		{"GET", "/api/history?channel=nowhere:x", "", `history is off for channel "nowhere:x"`},
		{"POST", "/api/history/remove", `{}`, `missing field "channel"`},
		{"POST", "/api/history/remove", `{"channel":"feed:x","since":1}`, `unknown field "since"`},
		{"POST", "/api/history/remove", `{"channel":"bad name"}`, `invalid channel: "bad name"`},
		{"POST", "/api/history/remove", `{"channel":"bare:x"}`, `history off: history is off for channel "bare:x"`},
	} {
		status, res := s.api(t, tc.method, tc.path, tc.body)
		if msg, _ := res["error"].(string); status != 400 || !strings.Contains(msg, tc.mentions) {
			t.Errorf("%s %s %s: %d %q, want 400 mentioning %q", tc.method, tc.path, tc.body, status, msg, tc.mentions)
		}
	}
}

func TestAPIHistoryNeedsTheKeyAndItsMethod(t *testing.T) {
	s := startNode(t, resumeConfig())
	publishN(t, s.node, "feed:auth", 3)
	for _, tc := range []struct{ method, path, body string }{
		{"GET", "/api/history?channel=feed:auth", ""},
		{"POST", "/api/history/remove", `{"channel":"feed:auth"}`},
	} {
		req, _ := http.NewRequest(tc.method, s.srv.URL+tc.path, strings.NewReader(tc.body))
		req.Header.Set("Authorization", "apikey wrong")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Fatalf("%s %s with a wrong key: %d", tc.method, tc.path, resp.StatusCode)
		}
	}
	if page := s.historyGet(t, "channel=feed:auth"); len(page.offsets) != 3 {
		t.Fatalf("a refused remove removed: %v", page.offsets)
	}
	if status, res := s.api(t, "POST", "/api/history", `{"channel":"feed:auth"}`); status != 405 || res["error"] != "history takes GET, not POST" {
		t.Fatalf("POST /api/history: %d %v", status, res)
	}
	if status, res := s.api(t, "GET", "/api/history/remove?channel=feed:auth", ""); status != 405 || res["error"] != "history/remove takes POST, not GET" {
		t.Fatalf("GET /api/history/remove: %d %v", status, res)
	}
	if got := s.metric(t, `herald_api_requests_total{endpoint="history",status="200"}`); got != 1 {
		t.Fatalf("history requests counted: %v", got)
	}
	if got := s.metric(t, `herald_api_requests_total{endpoint="history/remove",status="401"}`); got != 1 {
		t.Fatalf("refused removes counted: %v", got)
	}
}

func TestAPIHistoryRemoveKeepsThePosition(t *testing.T) {
	s := startNode(t, resumeConfig())
	last := publishN(t, s.node, "feed:rm", 5)
	status, res := s.api(t, "POST", "/api/history/remove", `{"channel":"feed:rm"}`)
	if status != 200 || res["channel"] != "feed:rm" || res["offset"] != 5.0 || res["epoch"] != last.Epoch {
		t.Fatalf("remove: %d %v", status, res)
	}
	if page := s.historyGet(t, "channel=feed:rm"); page.offsets != nil || page.offset != 5 || page.epoch != last.Epoch || page.hasNext {
		t.Fatalf("after remove: %+v", page)
	}
	// A client that had offset 2 learns it did not recover.
	c := dialWS(t, s.wsURL(""), nil)
	r := c.ok(map[string]any{"op": "subscribe", "channel": "feed:rm", "since": since(2, last.Epoch)})
	if r["recovered"] != false || r["replayed"] != 0.0 || r["offset"] != 5.0 || r["epoch"] != last.Epoch {
		t.Fatalf("resume after remove: %v", r)
	}
	// The offsets continue in the same stream.
	status, res = s.api(t, "POST", "/api/publish", `{"channel":"feed:rm","data":"after"}`)
	if status != 200 || res["offset"] != 6.0 || res["epoch"] != last.Epoch {
		t.Fatalf("publish after remove: %d %v", status, res)
	}
	if got := c.offsetsOf("feed:rm", 1); got[0] != 6 {
		t.Fatalf("live after remove: %v", got)
	}
	if page := s.historyGet(t, "channel=feed:rm"); fmt.Sprint(page.offsets) != "[6]" || page.offset != 6 {
		t.Fatalf("history after the next publish: %+v", page)
	}
	later := dialWS(t, s.wsURL(""), nil)
	r = later.ok(map[string]any{"op": "subscribe", "channel": "feed:rm", "since": since(2, last.Epoch)})
	if r["recovered"] != false || r["replayed"] != 1.0 {
		t.Fatalf("resume past the removal: %v", r)
	}
	// A channel nothing was published to: nothing to forget.
	if status, res := s.api(t, "POST", "/api/history/remove", `{"channel":"feed:never"}`); status != 200 || res["offset"] != 0.0 {
		t.Fatalf("remove of an empty channel: %d %v", status, res)
	}
}
