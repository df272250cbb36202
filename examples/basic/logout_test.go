package main

import (
	"net/http"
	"testing"
)

// wantMessage reports an error unless r is 200 {"message": sentence}.
func wantMessage(tb testing.TB, r *response) {
	tb.Helper()
	if r.status != http.StatusOK {
		tb.Errorf("%v; want 200", r)
		return
	}
	body := object(tb, r)
	wantKeys(tb, r.path+" body", body, "message")
	if msg, _ := body["message"].(string); msg == "" {
		tb.Errorf("%v; want a message", r)
	}
}

func TestLogout(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	c := ts.client(t)
	s := c.register("ada@example.com")
	if s.refresh == "" {
		t.Fatal("the jar holds no refresh cookie after register")
	}

	r := c.post("/api/auth/logout", "", bearer(s.access)...)
	wantMessage(t, r)
	wantClearedCookie(t, r)
	if got := c.refreshCookie(); got != "" {
		t.Errorf("jar cookie after logout = %q; want none", got)
	}

	other := ts.client(t)
	r = other.post("/api/auth/refresh", "", cookieHeader(s.refresh)...)
	wantError(t, r, http.StatusUnauthorized, "INVALID_REFRESH_TOKEN")
	r = other.get("/api/auth/me", bearer(s.access)...)
	wantError(t, r, http.StatusUnauthorized, "TOKEN_REVOKED")

	// Logout is idempotent, whatever the client still sends.
	r = c.post("/api/auth/logout", "", bearer(s.access)...)
	wantMessage(t, r)
	wantClearedCookie(t, r)
	tests := []struct {
		name   string
		header []string
	}{
		{"dead refresh token", cookieHeader(s.refresh)},
		{"dead refresh and access tokens", append(cookieHeader(s.refresh), bearer(s.access)...)},
		{"nothing", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ts.client(t).post("/api/auth/logout", "", tt.header...)
			wantMessage(t, r)
			wantClearedCookie(t, r)
		})
	}
}

func TestLogoutAll(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)

	r := ts.client(t).post("/api/auth/logout-all", "")
	wantError(t, r, http.StatusUnauthorized, "NO_TOKEN")
	wantBearerChallenge(t, r, false)
	r = ts.client(t).post("/api/auth/logout-all", "", bearer("not.a.token")...)
	wantError(t, r, http.StatusUnauthorized, "INVALID_TOKEN")

	c1, c2 := ts.client(t), ts.client(t)
	s1 := c1.register("ada@example.com")
	s2 := c2.login("ada@example.com")

	r = c1.post("/api/auth/logout-all", "", bearer(s1.access)...)
	wantMessage(t, r)
	wantClearedCookie(t, r)

	other := ts.client(t)
	for _, s := range []session{s1, s2} {
		wantError(t, other.post("/api/auth/refresh", "", cookieHeader(s.refresh)...), http.StatusUnauthorized, "INVALID_REFRESH_TOKEN")
		wantError(t, other.get("/api/auth/me", bearer(s.access)...), http.StatusUnauthorized, "TOKEN_REVOKED")
	}
	wantError(t, c2.post("/api/auth/refresh", ""), http.StatusUnauthorized, "INVALID_REFRESH_TOKEN")

	// Signing in right after works at once.
	c3 := ts.client(t)
	s3 := c3.login("ada@example.com")
	if r := c3.get("/api/auth/me", bearer(s3.access)...); r.status != http.StatusOK {
		t.Errorf("%v right after logout-all and login; want 200", r)
	}
	if r := c3.post("/api/auth/refresh", ""); r.status != http.StatusOK {
		t.Errorf("%v right after logout-all and login; want 200", r)
	}
}
