package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, method, path string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestPagesAndFiles(t *testing.T) {
	h := Handler()
	for _, tc := range []struct {
		path, ctype, cache, contains string
	}{
		{"/", "text/html; charset=utf-8", pageCacheControl, "<title>Herald</title>"},
		{"/chat", "text/html; charset=utf-8", pageCacheControl, `src="js/chat.js"`},
		{"/push", "text/html; charset=utf-8", pageCacheControl, `src="js/push.js"`},
		{"/js/herald.js", "text/javascript; charset=utf-8", assetCacheControl, "export class Herald"},
		{"/js/common.js", "text/javascript; charset=utf-8", assetCacheControl, "textContent"},
		{"/css/herald.css", "text/css; charset=utf-8", assetCacheControl, ".avatar"},
		{"/favicon.svg", "image/svg+xml", assetCacheControl, "<svg"},
	} {
		rec := get(t, h, http.MethodGet, tc.path, nil)
		if rec.Code != http.StatusOK {
			t.Errorf("GET %s: %d", tc.path, rec.Code)
			continue
		}
		hd := rec.Header()
		if got := hd.Get("Content-Type"); got != tc.ctype {
			t.Errorf("GET %s: Content-Type %q, want %q", tc.path, got, tc.ctype)
		}
		if got := hd.Get("Cache-Control"); got != tc.cache {
			t.Errorf("GET %s: Cache-Control %q, want %q", tc.path, got, tc.cache)
		}
		if hd.Get("X-Content-Type-Options") != "nosniff" || hd.Get("ETag") == "" {
			t.Errorf("GET %s: headers %v", tc.path, hd)
		}
		if page := strings.HasPrefix(tc.ctype, "text/html"); page != (hd.Get("Content-Security-Policy") != "") {
			t.Errorf("GET %s: Content-Security-Policy %q", tc.path, hd.Get("Content-Security-Policy"))
		}
		if !strings.Contains(rec.Body.String(), tc.contains) {
			t.Errorf("GET %s: body lacks %q", tc.path, tc.contains)
		}
		// A revalidation with the ETag costs no body.
		again := get(t, h, http.MethodGet, tc.path, map[string]string{"If-None-Match": hd.Get("ETag")})
		if again.Code != http.StatusNotModified {
			t.Errorf("GET %s with If-None-Match: %d", tc.path, again.Code)
		}
	}
}

func TestUnknownPathsAndMethods(t *testing.T) {
	h := Handler()
	for _, p := range []string{"/nope", "/js/", "/js", "/css/", "/chat.html", "/index.html", "/index", "/chat/", "/static/index.html", "/../web.go"} {
		if rec := get(t, h, http.MethodGet, p, nil); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, rec.Code)
		}
	}
	rec := get(t, h, http.MethodPost, "/chat", nil)
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /chat: %d %v", rec.Code, rec.Header())
	}
	if rec := get(t, h, http.MethodHead, "/js/herald.js", nil); rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Errorf("HEAD /js/herald.js: %d, %d bytes", rec.Code, rec.Body.Len())
	}
}

// Under a prefix the pages still work: they use relative URLs only.
func TestMountedUnderPrefix(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/rt/", http.StripPrefix("/rt", Handler()))
	if rec := get(t, mux, http.MethodGet, "/rt/js/herald.js", nil); rec.Code != http.StatusOK {
		t.Errorf("GET /rt/js/herald.js: %d", rec.Code)
	}
	for path, a := range assets {
		if !a.page {
			continue
		}
		body := string(a.body)
		for _, abs := range []string{`src="/`, `href="/`} {
			if strings.Contains(body, abs) {
				t.Errorf("%s has an absolute URL (%s...): it would break under a prefix", path, abs)
			}
		}
	}
}

// Pages put user text into the DOM as text: no script uses innerHTML and
// friends.
func TestScriptsDoNotBuildHTML(t *testing.T) {
	for path, a := range assets {
		if !strings.HasSuffix(path, ".js") {
			continue
		}
		for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("} {
			if strings.Contains(string(a.body), bad) {
				t.Errorf("%s uses %s", path, bad)
			}
		}
	}
}
