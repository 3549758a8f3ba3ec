package herald

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// apiBadRequest is a request with one cause of a 400, and the message
// docs/api.md gives for it; <…> in the message stands for the part that
// names the field, channel or value at fault.
type apiBadRequest struct {
	method, path, body string
	doc                string
}

func apiBadRequests() []apiBadRequest {
	many := make([]string, 1001) // one past the bound
	for i := range many {
		many[i] = fmt.Sprintf("%q", fmt.Sprint("c", i))
	}
	return []apiBadRequest{
		{"POST", "/api/publish", ``, "request body is empty: send a JSON object"},
		{"POST", "/api/publish", `{"channel":"news","data":x}`, "request body is not valid JSON (at byte <n>): <what the parser found>"},
		{"POST", "/api/publish", `{"channel":"news","data":`, "request body is not valid JSON: it ends in the middle of a value"},
		{"POST", "/api/publish", `[1,2]`, "request body must be a JSON object"},
		{"POST", "/api/publish", `{"channel":"news","data":1,"colour":"red"}`, `unknown field "<name>"`},
		{"POST", "/api/publish", `{"channel":7,"data":1}`, `field "<name>" must be <kind> (found <kind>)`},
		{"POST", "/api/broadcast", `{"channels":["a",1],"data":1}`, `field "<name>" must be <kind> (found <kind>)`},
		{"POST", "/api/publish", `{"channel":"news","data":1} {"again":1}`, "request body has data after the JSON object"},
		{"POST", "/api/publish", `{"data":1}`, `missing field "<name>"`},
		{"POST", "/api/publish", `{"channel":"bad name","data":1}`,
			`invalid channel: "<channel>" has a character '<c>' that is not allowed (use letters, digits and _-.:#,@=/)`},
		{"POST", "/api/publish", `{"channel":"alerts#","data":1}`, `invalid channel: "<channel>" ends in '#' without a user`},
		{"POST", "/api/publish", `{"channel":"` + strings.Repeat("x", 256) + `","data":1}`, "invalid channel: channel is longer than 255 bytes"},
		{"POST", "/api/broadcast", `{"channels":["a",""],"data":1}`, "channels[<i>]: invalid channel: <why>"},
		{"POST", "/api/broadcast", `{"channels":[` + strings.Join(many, ",") + `],"data":1}`, "too many channels: <n>, at most 1000 per broadcast"},
		{"GET", "/api/presence", ``, `missing query parameter "channel"`},
		{"GET", "/api/presence?channel=news", ``, `presence off: presence is off for channel "<channel>"`},
		{"GET", "/api/history", ``, `missing query parameter "channel"`},
		{"GET", "/api/history?channel=bad%20name", ``,
			`invalid channel: "<channel>" has a character '<c>' that is not allowed (use letters, digits and _-.:#,@=/)`},
		{"GET", "/api/history?channel=news", ``, `history off: history is off for channel "<channel>"`},
		{"POST", "/api/history/remove", `{"channel":"news"}`, `history off: history is off for channel "<channel>"`},
		{"GET", "/api/history?channel=chat:a&since=-3", ``, `query parameter "since" must be a whole number (got "<value>")`},
		{"GET", "/api/history?channel=chat:a&limit=1001", ``, `query parameter "limit" must be a whole number from 1 to 1000 (got "<value>")`},
		{"GET", "/api/history?channel=chat:a&cursor=yesterday", ``, `query parameter "cursor" must be a "next" from /api/history (got "<value>")`},
		{"GET", "/api/history?channel=chat:a&cursor=4.9f86d081&since=4", ``,
			`query parameter "cursor" continues a listing: send it without "since" and "epoch"`},
		{"GET", "/api/history?channel=chat:a&offset=4", ``, `unknown query parameter "<name>"`},
	}
}

// Every cause of a 400 that docs/api.md lists answers 400 with the
// message it gives, over real HTTP, and the docs list every cause the
// API has.
func TestAPIBadRequestsAreTheDocumentedOnes(t *testing.T) {
	s := startNode(t, testConfig())
	cases := apiBadRequests()
	for _, tc := range cases {
		status, res := s.api(t, tc.method, tc.path, tc.body)
		msg, _ := res["error"].(string)
		if status != 400 || !docMessage(tc.doc).MatchString(msg) {
			t.Errorf("%s %s %.60q: got %d %q, want 400 %q", tc.method, tc.path, tc.body, status, msg, tc.doc)
		}
	}
	documented := documented400s(t)
	for _, tc := range cases {
		if !slices.Contains(documented, tc.doc) {
			t.Errorf("docs/api.md does not list the 400 %q", tc.doc)
		}
	}
	for _, doc := range documented {
		if !slices.ContainsFunc(cases, func(tc apiBadRequest) bool { return tc.doc == doc }) {
			t.Errorf("docs/api.md lists the 400 %q, which no case here sends", doc)
		}
	}
}

// Every missing required field of every endpoint is named.
func TestAPIMissingFieldsAreNamed(t *testing.T) {
	s := startNode(t, testConfig())
	for _, tc := range []struct{ path, body, field string }{
		{"/api/publish", `{"data":1}`, "channel"},
		{"/api/publish", `{"channel":"news"}`, "data"},
		{"/api/broadcast", `{"data":1}`, "channels"},
		{"/api/broadcast", `{"channels":[],"data":1}`, "channels"},
		{"/api/broadcast", `{"channels":["a"]}`, "data"},
		{"/api/push", `{"event":"e","data":1}`, "user"},
		{"/api/push", `{"user":"u","data":1}`, "event"},
		{"/api/push", `{"user":"u","event":"e"}`, "data"},
		{"/api/disconnect", `{}`, "user"},
		{"/api/unsubscribe", `{"channel":"news"}`, "user"},
		{"/api/unsubscribe", `{"user":"u"}`, "channel"},
		{"/api/history/remove", `{}`, "channel"},
	} {
		status, res := s.api(t, "POST", tc.path, tc.body)
		if want := fmt.Sprintf("missing field %q", tc.field); status != 400 || res["error"] != want {
			t.Errorf("%s %s: got %d %v, want 400 %q", tc.path, tc.body, status, res["error"], want)
		}
	}
}

// docMessage turns a documented message into a pattern: <…> matches the
// text that names what is at fault.
func docMessage(doc string) *regexp.Regexp {
	parts := regexp.MustCompile(`<[^>]+>`).Split(doc, -1)
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".+") + "$")
}

// documented400s reads the messages of the table under "### 400 Bad
// Request" in docs/api.md: the last cell of each row, in backquotes.
func documented400s(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile("docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(raw), "\n### 400 Bad Request\n")
	if !ok {
		t.Fatal(`docs/api.md has no "### 400 Bad Request" section`)
	}
	section, _, _ = strings.Cut(section, "\n#")
	_, rows, ok := strings.Cut(section, "|---|---|---|\n")
	if !ok {
		t.Fatal("docs/api.md: the 400 section has no table")
	}
	var out []string
	for _, line := range strings.Split(rows, "\n") {
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		out = append(out, strings.Trim(cells[len(cells)-1], "`"))
	}
	if len(out) == 0 {
		t.Fatal("docs/api.md lists no 400 causes")
	}
	return out
}
