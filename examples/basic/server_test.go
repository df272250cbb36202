package main

import (
	"net/http"
	"testing"
)

func TestHealthz(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	if r := ts.client(t).get("/healthz"); r.status != http.StatusOK {
		t.Errorf("%v; want 200", r)
	}
}

// TestRouterErrors checks that the router's own refusals have the JSON
// error body too.
func TestRouterErrors(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	c := ts.client(t)
	tests := []struct {
		method, path string
		status       int
		allow        string
	}{
		{http.MethodGet, "/nowhere", http.StatusNotFound, ""},
		{http.MethodGet, "/api/auth", http.StatusNotFound, ""},
		{http.MethodGet, "/api/auth/login", http.StatusMethodNotAllowed, "POST"},
		{http.MethodGet, "/api/auth/refresh", http.StatusMethodNotAllowed, "POST"},
		{http.MethodPost, "/api/auth/me", http.StatusMethodNotAllowed, "GET, HEAD"},
		{http.MethodPut, "/api/users/6f1c7f57-0a4e-4c1b-9d2a-3b8e5f0c1d2e", http.StatusMethodNotAllowed, "DELETE"},
		{http.MethodPost, "/.well-known/jwks.json", http.StatusMethodNotAllowed, "GET, HEAD"},
		{http.MethodDelete, "/healthz", http.StatusMethodNotAllowed, "GET, HEAD"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			r := c.in(t).do(tt.method, tt.path, "")
			wantError(t, r, tt.status, "")
			if got := r.header.Get("Allow"); got != tt.allow {
				t.Errorf("%s %s Allow = %q; want %q", tt.method, tt.path, got, tt.allow)
			}
		})
	}
}
