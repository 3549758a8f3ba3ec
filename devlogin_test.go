package herald

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestDevLoginOnlyWhenEnabled(t *testing.T) {
	s := startNode(t, testConfig())
	for _, path := range []string{"/dev/token", "/dev/config"} {
		resp, err := http.Post(s.srv.URL+path, "application/json", strings.NewReader(`{"user":"x"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("%s answered %d with dev_login off", path, resp.StatusCode)
		}
	}
	cfg := testConfig()
	cfg.DevLogin = true
	s = startNode(t, cfg)
	resp, err := http.Post(s.srv.URL+"/dev/token", "application/json", strings.NewReader(`{"user":"ann"}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v %v", resp, err)
	}
	var got struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	c := dialWS(t, s.wsURL("token="+got.Token), nil)
	if res := c.ok(map[string]any{"op": "connect"}); res["user"] != "ann" || res["expires"].(float64) < float64(time.Now().Add(time.Hour).Unix()) {
		t.Fatal(res)
	}
	resp, _ = http.Post(s.srv.URL+"/dev/token", "application/json", strings.NewReader(`{"user":""}`))
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("empty user: %d", resp.StatusCode)
	}
	resp, _ = http.Get(s.srv.URL + "/dev/config")
	var cfgResp map[string]any
	json.NewDecoder(resp.Body).Decode(&cfgResp)
	resp.Body.Close()
	if cfgResp["api_key"] != testAPIKey {
		t.Fatal(cfgResp)
	}
}
