// Package web holds the pages and scripts herald serves, embedded in the
// binary so nothing is fetched from elsewhere: the home page with live
// node figures (/), the chat demo (/chat), the push demo (/push), and the
// browser client herald.js at the stable path /js/herald.js.
//
// Pages refer to each other and to scripts by relative URLs, so the
// handler works mounted under a prefix (http.StripPrefix) as well as at /.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var files embed.FS

// Cache lifetimes: pages are revalidated on every load (cheap, thanks to
// the ETag) so a new binary shows at once; scripts and styles may be
// reused for a few minutes.
const (
	pageCacheControl  = "no-cache"
	assetCacheControl = "public, max-age=300"
)

// contentSecurityPolicy keeps the pages to herald's own scripts, styles
// and WebSocket. Images may come from Gravatar, which the chat page uses
// only when the reader turns it on.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data: https://gravatar.com https://www.gravatar.com; connect-src 'self'; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".mjs":  "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".ico":  "image/x-icon",
	".json": "application/json",
	".txt":  "text/plain; charset=utf-8",
}

// asset is one embedded file, ready to serve.
type asset struct {
	name  string // file name, for http.ServeContent
	body  []byte
	ctype string
	etag  string
	page  bool
}

// assets maps a URL path to its file: "index.html" is served at "/",
// other pages without their extension ("chat.html" at "/chat"), and
// everything else at its own path ("/js/herald.js").
var assets = load()

func load() map[string]*asset {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	out := map[string]*asset{}
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		ext := path.Ext(p)
		sum := sha256.Sum256(body)
		a := &asset{name: path.Base(p), body: body, ctype: contentTypes[ext],
			etag: `"` + hex.EncodeToString(sum[:12]) + `"`, page: ext == ".html"}
		if a.ctype == "" {
			a.ctype = "application/octet-stream"
		}
		url := "/" + p
		if a.page {
			url = strings.TrimSuffix(url, ".html")
			if url == "/index" {
				url = "/"
			}
		}
		out[url] = a
		return nil
	})
	if err != nil {
		panic(err)
	}
	return out
}

// Handler serves the embedded pages and files. Unknown paths get 404,
// methods other than GET and HEAD get 405; directories are never listed.
func Handler() http.Handler {
	return http.HandlerFunc(serve)
}

func serve(w http.ResponseWriter, r *http.Request) {
	a := assets[r.URL.Path]
	if a == nil {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("ETag", a.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	if a.page {
		h.Set("Cache-Control", pageCacheControl)
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("Referrer-Policy", "same-origin")
	} else {
		h.Set("Cache-Control", assetCacheControl)
	}
	http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(a.body))
}
