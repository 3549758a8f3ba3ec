package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// replayServer answers one resuming subscribe with the given lines, as a
// herald server would (reply first, then the replay), over a real socket.
func replayServer(t *testing.T, lines ...string) string {
	t.Helper()
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		if _, _, err := ws.ReadMessage(); err != nil {
			return
		}
		_ = ws.WriteMessage(websocket.TextMessage, []byte(strings.Join(lines, "\n")))
		_, _, _ = ws.ReadMessage() // until the client goes
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

func benchPub(offset, seq int) string {
	return fmt.Sprintf(`{"type":"publication","channel":%q,"offset":%d,"epoch":"e1","data":{"s":%d,"t":1,"p":""}}`, resumeChannel, offset, seq)
}

const resumeReply = `{"id":1,"result":{"channel":"hist:resume","offset":12,"epoch":"e1","recovered":true,"replayed":2}}`

func TestResumeChecksTheReplay(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, tc := range []struct {
		name  string
		lines []string
		kind  string // "" for success
	}{
		{"in order", []string{resumeReply, benchPub(11, 1), `{"type":"ping"}`, benchPub(12, 2)}, ""},
		{"out of order", []string{resumeReply, benchPub(12, 2), benchPub(11, 1)}, "stream"},
		{"a gap", []string{resumeReply, benchPub(11, 1), benchPub(13, 2)}, "stream"},
		{"not recovered", []string{strings.Replace(resumeReply, `"recovered":true`, `"recovered":false`, 1)}, "recovery"},
		{"publication first", []string{benchPub(11, 1), resumeReply, benchPub(12, 2)}, "subscribe"},
	} {
		c := &resumeClient{offset: 10, epoch: "e1"}
		start := time.Now()
		o := c.resume(ctx, replayServer(t, tc.lines...), start, start.Add(2*time.Second), 2)
		c.conn.close()
		if o.kind != tc.kind || (tc.kind == "") != (o.err == nil) || !o.reconnected {
			t.Errorf("%s: outcome %+v, want kind %q", tc.name, o, tc.kind)
		}
		if tc.kind == "" && (o.done < o.reply || o.done <= 0) {
			t.Errorf("%s: reply at %v, done at %v", tc.name, o.reply, o.done)
		}
	}
}
