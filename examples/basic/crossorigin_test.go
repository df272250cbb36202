package main

import (
	"net/http"
	"testing"
)

func TestCrossOrigin(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	c := ts.client(t)
	s := c.register("ada@example.com")

	routes := []struct {
		path string
		body string
		pass int // the status when the request is let through
	}{
		{"/api/auth/register", `{}`, http.StatusBadRequest},
		{"/api/auth/login", `{}`, http.StatusBadRequest},
		{"/api/auth/refresh", "", http.StatusUnauthorized},
		{"/api/auth/logout", "", http.StatusOK},
		{"/api/auth/logout-all", "", http.StatusUnauthorized},
	}
	origins := []struct {
		name    string
		header  []string
		refused bool
	}{
		{"Sec-Fetch-Site cross-site", []string{"Sec-Fetch-Site", "cross-site"}, true},
		{"Sec-Fetch-Site same-site", []string{"Sec-Fetch-Site", "same-site"}, true},
		{"foreign Origin", []string{"Origin", "https://evil.example"}, true},
		{"null Origin", []string{"Origin", "null"}, true},
		{"Sec-Fetch-Site same-origin", []string{"Sec-Fetch-Site", "same-origin"}, false},
		{"Sec-Fetch-Site none", []string{"Sec-Fetch-Site", "none"}, false},
		{"same Origin", []string{"Origin", ts.URL}, false},
		{"no headers", nil, false},
	}
	for _, o := range origins {
		t.Run(o.name, func(t *testing.T) {
			for _, rt := range routes {
				r := ts.client(t).post(rt.path, rt.body, o.header...)
				if o.refused {
					wantError(t, r, http.StatusForbidden, "CROSS_ORIGIN")
					wantNoCookie(t, r)
				} else if r.status != rt.pass {
					t.Errorf("%v; want %d", r, rt.pass)
				}
			}
		})
	}

	t.Run("refused requests change nothing", func(t *testing.T) {
		c := c.in(t)
		evil := ts.client(t)
		cross := []string{"Sec-Fetch-Site", "cross-site"}
		withCookie := append(cookieHeader(s.refresh), cross...)
		for _, path := range []string{"/api/auth/refresh", "/api/auth/logout"} {
			wantError(t, evil.post(path, "", append(withCookie, bearer(s.access)...)...), http.StatusForbidden, "CROSS_ORIGIN")
		}
		wantError(t, evil.post("/api/auth/logout-all", "", append(cross, bearer(s.access)...)...), http.StatusForbidden, "CROSS_ORIGIN")
		if r := c.get("/api/auth/me", bearer(s.access)...); r.status != http.StatusOK {
			t.Errorf("%v after refused cross-site requests; want 200", r)
		}
		if r := c.post("/api/auth/refresh", ""); r.status != http.StatusOK {
			t.Errorf("%v after refused cross-site requests; want 200", r)
		}
	})

	t.Run("reads are not refused", func(t *testing.T) {
		c := c.in(t)
		r := c.get("/api/auth/me", append(bearer(s.access), "Sec-Fetch-Site", "cross-site")...)
		if r.status != http.StatusOK {
			t.Errorf("%v; want 200", r)
		}
	})
}
