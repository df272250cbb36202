package main

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The browser app's DOM contract (CONTRACT.md, "The browser app"): the
// element id and the tag it must be on.
var appElements = []struct{ id, tag string }{
	{"email", "input"},
	{"password", "input"},
	{"name", "input"},
	{"register", "button"},
	{"login", "button"},
	{"logout", "button"},
	{"logout-all", "button"},
	{"user", ""},
	{"error", ""},
	{"sessions", "ul|ol"},
}

var (
	// scriptRE matches a script element: its attributes and its body.
	scriptRE = regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script\s*>`)
	// tagRE matches a start tag: its name and its attributes.
	tagRE = regexp.MustCompile(`(?s)<([a-zA-Z][a-zA-Z0-9-]*)\b([^>]*)>`)
	// attrRE matches one attribute, name and value (quoted or not).
	attrRE = regexp.MustCompile(`(?s)([^\s"'=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?`)
)

// htmlTag is a start tag of a page.
type htmlTag struct {
	name  string
	attrs map[string]string
}

// htmlTags returns the start tags of page, attribute names in lower case.
func htmlTags(page string) []htmlTag {
	var tags []htmlTag
	for _, m := range tagRE.FindAllStringSubmatch(page, -1) {
		t := htmlTag{name: strings.ToLower(m[1]), attrs: map[string]string{}}
		for _, a := range attrRE.FindAllStringSubmatch(m[2], -1) {
			t.attrs[strings.ToLower(a[1])] = a[2] + a[3] + a[4]
		}
		tags = append(tags, t)
	}
	return tags
}

// cspDirectives parses a Content-Security-Policy into directive name to
// source list.
func cspDirectives(policy string) map[string][]string {
	d := map[string][]string{}
	for _, part := range strings.Split(policy, ";") {
		f := strings.Fields(part)
		if len(f) > 0 {
			d[strings.ToLower(f[0])] = f[1:]
		}
	}
	return d
}

// wantAppHeaders reports an error unless r is a 200 of the browser app with
// the content type ct and its security headers.
func wantAppHeaders(tb testing.TB, r *response, ct string) {
	tb.Helper()
	if r.status != http.StatusOK {
		tb.Fatalf("%s %s = %d; want 200", r.method, r.path, r.status)
	}
	if got := r.header.Get("Content-Type"); got != ct {
		tb.Errorf("%s %s Content-Type = %q; want %q", r.method, r.path, got, ct)
	}
	if got := r.header.Get("X-Content-Type-Options"); got != "nosniff" {
		tb.Errorf("%s %s X-Content-Type-Options = %q; want nosniff", r.method, r.path, got)
	}
	if got := r.header.Get("Referrer-Policy"); got != "no-referrer" {
		tb.Errorf("%s %s Referrer-Policy = %q; want no-referrer", r.method, r.path, got)
	}
	policy := r.header.Get("Content-Security-Policy")
	if strings.Contains(policy, "'unsafe-inline'") || strings.Contains(policy, "'unsafe-eval'") {
		tb.Errorf("%s %s Content-Security-Policy = %q; want neither 'unsafe-inline' nor 'unsafe-eval'", r.method, r.path, policy)
	}
	d := cspDirectives(policy)
	for name, want := range map[string]string{
		"default-src":     "'self'",
		"script-src":      "'self'",
		"style-src":       "'self'",
		"connect-src":     "'self'",
		"base-uri":        "'none'",
		"form-action":     "'none'",
		"frame-ancestors": "'none'",
	} {
		if got := strings.Join(d[name], " "); got != want {
			tb.Errorf("%s %s Content-Security-Policy %s = %q; want %q (policy %q)", r.method, r.path, name, got, want, policy)
		}
	}
}

func TestAppPage(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	c := ts.client(t)
	r := c.get("/")
	wantAppHeaders(t, r, "text/html; charset=utf-8")
	wantNoStore(t, r)
	page := string(r.body)
	tags := htmlTags(page)

	t.Run("elements of the contract", func(t *testing.T) {
		for _, el := range appElements {
			var found []htmlTag
			for _, tag := range tags {
				if id, ok := tag.attrs["id"]; ok && id == el.id {
					found = append(found, tag)
				}
			}
			switch {
			case len(found) != 1:
				t.Errorf("GET / has %d elements with id %q; want 1", len(found), el.id)
			case el.tag != "" && !slices.Contains(strings.Split(el.tag, "|"), found[0].name):
				t.Errorf("GET / #%s is <%s>; want <%s>", el.id, found[0].name, el.tag)
			case found[0].name == "button" && found[0].attrs["type"] != "button":
				t.Errorf("GET / #%s type = %q; want button (no form submission)", el.id, found[0].attrs["type"])
			}
		}
	})

	t.Run("nothing inline", func(t *testing.T) {
		scripts := scriptRE.FindAllStringSubmatch(page, -1)
		if len(scripts) == 0 {
			t.Errorf("GET / has no <script>; want one with src")
		}
		for _, m := range scripts {
			if !regexp.MustCompile(`(?i)\bsrc\s*=`).MatchString(m[1]) {
				t.Errorf("GET / <script%s> has no src; want every script loaded from a file", m[1])
			}
			if strings.TrimSpace(m[2]) != "" {
				t.Errorf("GET / <script%s> has an inline body %q; want none", m[1], m[2])
			}
		}
		if regexp.MustCompile(`(?i)<style\b`).MatchString(page) {
			t.Errorf("GET / has a <style> element; want styles in a file")
		}
		for _, tag := range tags {
			for name, value := range tag.attrs {
				switch {
				case strings.HasPrefix(name, "on"):
					t.Errorf("GET / <%s> has the event handler attribute %s=%q; want none", tag.name, name, value)
				case name == "style":
					t.Errorf("GET / <%s> has style=%q; want none", tag.name, value)
				case strings.HasPrefix(strings.ToLower(strings.TrimSpace(value)), "javascript:"):
					t.Errorf("GET / <%s> %s=%q is a javascript: URL; want none", tag.name, name, value)
				}
			}
		}
	})

	t.Run("files of the same origin", func(t *testing.T) {
		wantTypes := map[string]string{
			"script":     "text/javascript; charset=utf-8",
			"stylesheet": "text/css; charset=utf-8",
		}
		seen := map[string]bool{}
		for _, tag := range tags {
			var kind, ref string
			switch {
			case tag.name == "script":
				kind, ref = "script", tag.attrs["src"]
			case tag.name == "link" && strings.EqualFold(tag.attrs["rel"], "stylesheet"):
				kind, ref = "stylesheet", tag.attrs["href"]
			default:
				continue
			}
			seen[kind] = true
			if !strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, "//") || strings.HasPrefix(ref, "/api/") {
				t.Errorf("GET / %s %q; want a path of the server's own origin outside /api", kind, ref)
				continue
			}
			r := c.in(t).get(ref)
			wantAppHeaders(t, r, wantTypes[kind])
			if len(r.body) == 0 {
				t.Errorf("GET %s has an empty body; want the file", ref)
			}
		}
		for kind := range wantTypes {
			if !seen[kind] {
				t.Errorf("GET / loads no %s; want one", kind)
			}
		}
	})
}

// TestAppScript checks what the page's script must never do with tokens:
// the access token stays in memory and the refresh token in its HttpOnly
// cookie.
func TestAppScript(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	r := ts.client(t).get("/app.js")
	wantAppHeaders(t, r, "text/javascript; charset=utf-8")
	js := string(r.body)
	for _, banned := range []string{"localStorage", "sessionStorage", "document.cookie", "indexedDB", "innerHTML", "eval("} {
		if strings.Contains(js, banned) {
			t.Errorf("GET /app.js uses %s; want tokens in memory only and no HTML from strings", banned)
		}
	}
	for _, want := range []string{"navigator.locks", "'auth-refresh'", "credentials: 'same-origin'", "TOKEN_EXPIRED"} {
		if !strings.Contains(js, want) {
			t.Errorf("GET /app.js lacks %s; want the refresh under the cross-tab lock", want)
		}
	}
}

// TestAppRoutes checks the routes of the browser app next to the router's
// own answers, which stay as they were.
func TestAppRoutes(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	c := ts.client(t)
	tests := []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/", http.StatusOK},
		{http.MethodHead, "/", http.StatusOK},
		{http.MethodGet, "/app.js", http.StatusOK},
		{http.MethodGet, "/app.css", http.StatusOK},
		{http.MethodPost, "/", http.StatusMethodNotAllowed},
		{http.MethodPost, "/app.js", http.StatusMethodNotAllowed},
		{http.MethodGet, "/index.html", http.StatusNotFound},
		{http.MethodGet, "/app.js/x", http.StatusNotFound},
		{http.MethodGet, "/favicon.ico", http.StatusNotFound},
		{http.MethodGet, "/nowhere", http.StatusNotFound},
		{http.MethodGet, "/api", http.StatusNotFound},
		{http.MethodGet, "/api/", http.StatusNotFound},
		{http.MethodGet, "/api/nowhere", http.StatusNotFound},
		{http.MethodGet, "/api/auth/", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			r := c.in(t).do(tt.method, tt.path, "")
			if tt.status == http.StatusOK {
				if r.status != http.StatusOK {
					t.Errorf("%v; want 200", r)
				}
				return
			}
			code := ""
			if tt.status == http.StatusNotFound {
				code = "NOT_FOUND"
			}
			wantError(t, r, tt.status, code)
		})
	}

	t.Run("script revalidates", func(t *testing.T) {
		r := c.in(t).get("/app.js")
		etag := r.header.Get("ETag")
		if etag == "" || r.header.Get("Cache-Control") != "no-cache" {
			t.Fatalf("GET /app.js ETag = %q, Cache-Control = %q; want an ETag and no-cache", etag, r.header.Get("Cache-Control"))
		}
		if r := c.in(t).get("/app.js", "If-None-Match", etag); r.status != http.StatusNotModified {
			t.Errorf("GET /app.js If-None-Match %s = %d; want 304", etag, r.status)
		}
	})
}
