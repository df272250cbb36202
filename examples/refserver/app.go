package refserver

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"net/http"
	"time"
)

// appFiles is the browser app: one page, its script and its style sheet,
// plain files with no build step.
//
//go:embed app/index.html app/app.js app/app.css
var appFiles embed.FS

// appPolicy is the Content-Security-Policy of the browser app's page and
// files. It allows scripts, styles and requests of the server's own origin
// only, and nothing inline: no inline script, style attribute or event
// handler attribute runs. The data: images are for the page's empty icon,
// which spares the browser a request for /favicon.ico.
const appPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data:; connect-src 'self'; object-src 'none'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// appRoute is one file of the browser app and the path it is served at.
type appRoute struct {
	path, file, contentType string
}

// appRoutes are the browser app's routes: the page at / only (every other
// unknown path stays a JSON 404) and its two files beside it, outside /api.
var appRoutes = []appRoute{
	{"/{$}", "app/index.html", "text/html; charset=utf-8"},
	{"/app.js", "app/app.js", "text/javascript; charset=utf-8"},
	{"/app.css", "app/app.css", "text/css; charset=utf-8"},
}

// appHandler serves one file of the browser app with [appPolicy],
// nosniff and no referrer. The page is never stored (Cache-Control:
// no-store); the script and the style sheet are revalidated on every load
// (no-cache, with an ETag of their content), so a new build of the server
// is picked up at once.
func appHandler(rt appRoute) (http.Handler, error) {
	body, err := appFiles.ReadFile(rt.file)
	if err != nil {
		return nil, fmt.Errorf("refserver: browser app: %w", err)
	}
	sum := sha256.Sum256(body)
	etag := `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`
	page := rt.path == "/{$}"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", rt.contentType)
		h.Set("Content-Security-Policy", appPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if page {
			h.Set("Cache-Control", "no-store")
		} else {
			h.Set("Cache-Control", "no-cache")
			h.Set("ETag", etag)
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	}), nil
}
