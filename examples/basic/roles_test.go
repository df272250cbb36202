package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestRoles(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, map[string]string{"ADMIN_EMAIL": "root@example.com", "ADMIN_PASSWORD": testPassword})
	admin := ts.client(t).login("root@example.com")
	if _, claims := decodeJWT(t, admin.access); claims["role"] != "admin" {
		t.Errorf("admin token role = %v; want admin", claims["role"])
	}
	uc := ts.client(t)
	user := uc.register("ada@example.com")

	t.Run("posts", func(t *testing.T) {
		uc := uc.in(t)
		for _, tok := range []string{user.access, admin.access} {
			r := uc.get("/api/posts", bearer(tok)...)
			var posts []map[string]any
			if r.status != http.StatusOK || json.Unmarshal(r.body, &posts) != nil {
				t.Errorf("%v; want 200 [...]", r)
			}
		}
		r := uc.get("/api/posts")
		wantError(t, r, http.StatusUnauthorized, "NO_TOKEN")
		wantBearerChallenge(t, r, false)
	})

	t.Run("delete refused", func(t *testing.T) {
		uc := uc.in(t)
		tests := []struct {
			name   string
			tok    string
			id     string
			status int
			code   string
		}{
			{"no token", "", user.userID, 401, "NO_TOKEN"},
			{"user", user.access, user.userID, 403, "INSUFFICIENT_ROLE"},
			{"user deleting the admin", user.access, admin.userID, 403, "INSUFFICIENT_ROLE"},
			{"unknown id", admin.access, "6f1c7f57-0a4e-4c1b-9d2a-3b8e5f0c1d2e", 404, ""},
			{"malformed id", admin.access, "not-a-uuid", 404, ""},
			{"id in upper case", admin.access, strings.ToUpper(user.userID), 404, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var h []string
				if tt.tok != "" {
					h = bearer(tt.tok)
				}
				wantError(t, uc.in(t).do(http.MethodDelete, "/api/users/"+tt.id, "", h...), tt.status, tt.code)
			})
		}
		if r := uc.get("/api/auth/me", bearer(user.access)...); r.status != http.StatusOK {
			t.Errorf("%v after refused deletes; want 200", r)
		}
	})

	t.Run("delete", func(t *testing.T) {
		uc := uc.in(t)
		r := uc.do(http.MethodDelete, "/api/users/"+user.userID, "", bearer(admin.access)...)
		if r.status != http.StatusNoContent || len(r.body) != 0 {
			t.Fatalf("%v; want 204 with no body", r)
		}
		other := ts.client(t)
		wantError(t, other.get("/api/auth/me", bearer(user.access)...), http.StatusUnauthorized, "TOKEN_REVOKED")
		wantError(t, other.get("/api/posts", bearer(user.access)...), http.StatusUnauthorized, "TOKEN_REVOKED")
		wantError(t, other.post("/api/auth/refresh", "", cookieHeader(user.refresh)...), http.StatusUnauthorized, "INVALID_REFRESH_TOKEN")
		wantError(t, uc.post("/api/auth/refresh", ""), http.StatusUnauthorized, "INVALID_REFRESH_TOKEN")
		wantError(t, other.post("/api/auth/login", credentials("ada@example.com", testPassword)), http.StatusUnauthorized, "INVALID_CREDENTIALS")
		wantError(t, other.do(http.MethodDelete, "/api/users/"+user.userID, "", bearer(admin.access)...), http.StatusNotFound, "")
		if r := other.get("/api/auth/me", bearer(admin.access)...); r.status != http.StatusOK {
			t.Errorf("%v for the admin; want 200", r)
		}
	})
}
