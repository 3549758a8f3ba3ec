package herald

import (
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

func TestEchoEndpointIsOffByDefault(t *testing.T) {
	s := startNode(t, testConfig())
	url := "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/echo"
	if _, _, err := websocket.DefaultDialer.Dial(url, nil); err == nil {
		t.Fatal("echo answered while disabled")
	}
	cfg := testConfig()
	cfg.Echo = true
	s = startNode(t, cfg)
	url = "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/echo"
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, msg := range []string{"hello", "ünïcode", strings.Repeat("z", 5000)} {
		c.WriteMessage(websocket.TextMessage, []byte(msg))
		if _, got, err := c.ReadMessage(); err != nil || string(got) != msg {
			t.Fatalf("echo: %q %v", got, err)
		}
	}
	c.WriteMessage(websocket.BinaryMessage, []byte{0, 1, 2})
	if typ, got, err := c.ReadMessage(); err != nil || typ != websocket.BinaryMessage || len(got) != 3 {
		t.Fatalf("binary echo: %v %v", got, err)
	}
}
