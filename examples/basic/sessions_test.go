package main

import (
	"net/http"
	"testing"
)

// listSessions returns the sessions that GET /api/auth/sessions answers c
// with the bearer tok, checking the members of each.
func listSessions(tb testing.TB, c *client, tok string) []map[string]any {
	tb.Helper()
	r := c.get("/api/auth/sessions", bearer(tok)...)
	if r.status != http.StatusOK {
		tb.Fatalf("%v; want 200", r)
	}
	wantNoStore(tb, r)
	m := object(tb, r)
	wantKeys(tb, "sessions answer", m, "sessions")
	raw, ok := m["sessions"].([]any)
	if !ok {
		tb.Fatalf("%v; want a sessions array", r)
	}
	var out []map[string]any
	for _, v := range raw {
		s, ok := v.(map[string]any)
		if !ok {
			tb.Fatalf("%v; want objects", r)
		}
		wantKeys(tb, "session", s, "id", "createdAt", "lastUsedAt", "userAgent", "address", "current")
		out = append(out, s)
	}
	return out
}

// currentOf returns the id of the one session marked current.
func currentOf(tb testing.TB, list []map[string]any) string {
	tb.Helper()
	id := ""
	for _, s := range list {
		if s["current"] == true {
			if id != "" {
				tb.Errorf("two sessions marked current: %v", list)
			}
			id, _ = s["id"].(string)
		}
	}
	return id
}

func TestSessionsRoutes(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	laptop := ts.client(t)
	first := laptop.register("ada@example.com")
	phone := ts.client(t)
	second := phone.login("ada@example.com")
	bob := ts.client(t).register("bob@example.com")

	// Newest first, and current follows the refresh cookie of the request.
	list := listSessions(t, laptop, first.access)
	if len(list) != 2 {
		t.Fatalf("sessions = %v; want 2", list)
	}
	fromLaptop := currentOf(t, list)
	if list[1]["id"] != fromLaptop {
		t.Errorf("sessions %v: the laptop's (first) session is not last", list)
	}
	fromPhone := currentOf(t, listSessions(t, phone, second.access))
	if fromPhone == "" || fromPhone == fromLaptop || list[0]["id"] != fromPhone {
		t.Errorf("current session of the phone = %q, of the laptop %q; want the newest, and two different ones", fromPhone, fromLaptop)
	}
	// Without a refresh cookie, the bearer token's session is current.
	if got := currentOf(t, listSessions(t, ts.client(t), first.access)); got != fromLaptop {
		t.Errorf("current session from the bearer alone = %q; want %q", got, fromLaptop)
	}

	// Another user's session and an unknown id answer the same 404.
	for _, id := range []string{currentOf(t, listSessions(t, ts.client(t), bob.access)), "00000000-0000-4000-8000-000000000000", "not-a-uuid"} {
		r := laptop.do(http.MethodDelete, "/api/auth/sessions/"+id, "", bearer(first.access)...)
		wantError(t, r, http.StatusNotFound, "NOT_FOUND")
	}
	if r := ts.client(t).get("/api/auth/me", bearer(bob.access)...); r.status != http.StatusOK {
		t.Errorf("bob after ada tried to delete his session: %v; want 200", r)
	}

	// Deleting the phone's session from the laptop kills its tokens at once.
	if r := laptop.do(http.MethodDelete, "/api/auth/sessions/"+fromPhone, "", bearer(first.access)...); r.status != http.StatusNoContent {
		t.Fatalf("%v; want 204", r)
	}
	r := phone.get("/api/auth/me", bearer(second.access)...)
	wantError(t, r, http.StatusUnauthorized, "TOKEN_REVOKED")
	wantError(t, phone.post("/api/auth/refresh", ""), http.StatusUnauthorized, "INVALID_REFRESH_TOKEN")
	if r := laptop.get("/api/auth/me", bearer(first.access)...); r.status != http.StatusOK {
		t.Errorf("the laptop after deleting the phone's session: %v; want 200", r)
	}
	if list := listSessions(t, laptop, first.access); len(list) != 1 || list[0]["id"] != fromLaptop {
		t.Errorf("sessions after the delete = %v; want the laptop's alone", list)
	}

	// Both routes need a bearer token.
	wantError(t, ts.client(t).get("/api/auth/sessions"), http.StatusUnauthorized, "NO_TOKEN")
	wantError(t, ts.client(t).do(http.MethodDelete, "/api/auth/sessions/"+fromLaptop, ""), http.StatusUnauthorized, "NO_TOKEN")
}
