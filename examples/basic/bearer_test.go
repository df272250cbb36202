package main

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jwtkit/auth"
)

// wantBearerChallenge reports an error unless r carries an RFC 6750
// challenge, WWW-Authenticate: Bearer ..., with error="invalid_token"
// exactly when a token was sent.
func wantBearerChallenge(tb testing.TB, r *response, tokenSent bool) {
	tb.Helper()
	got := r.header.Get("WWW-Authenticate")
	scheme, _, _ := strings.Cut(got, " ")
	if scheme != "Bearer" || strings.Contains(got, `error="invalid_token"`) != tokenSent {
		want := `Bearer`
		if tokenSent {
			want = `Bearer error="invalid_token", ...`
		}
		tb.Errorf("%s %s WWW-Authenticate = %q; want %s", r.method, r.path, got, want)
	}
}

func TestBearerFailures(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	ada := ts.client(t).register("ada@example.com")
	bob := ts.client(t)
	revoked := bob.register("bob@example.com").access
	if r := bob.post("/api/auth/logout", "", bearer(revoked)...); r.status != http.StatusOK {
		t.Fatalf("%v; want 200", r)
	}

	claims := auth.Claims{Subject: ada.userID, Role: "user", Email: "ada@example.com"}
	anHourAgo := func() time.Time { return time.Now().Add(-time.Hour) }
	expired := mint(t, ts, ts.cfg.Keys, claims, auth.WithClock(anHourAgo))
	otherKey, err := auth.GenerateKey(rand.Reader, auth.HS256)
	if err != nil {
		t.Fatal(err)
	}
	otherKeys, err := auth.NewKeySet(otherKey)
	if err != nil {
		t.Fatal(err)
	}
	foreign := mint(t, ts, otherKeys, claims)
	otherAudience := mint(t, ts, ts.cfg.Keys, claims, auth.WithAudience("another-api"))
	parts := strings.Split(ada.access, ".")
	sig := []byte(parts[2])
	if sig[10] == 'A' { // another base64url character: another signature
		sig[10] = 'B'
	} else {
		sig[10] = 'A'
	}
	tampered := parts[0] + "." + parts[1] + "." + string(sig)
	noneHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"at+jwt"}`))
	algNone := noneHeader + "." + parts[1] + "."

	tests := []struct {
		name   string
		header []string
		code   string
		token  string // the token sent, "" for none
	}{
		{"no header", nil, "NO_TOKEN", ""},
		{"basic scheme", []string{"Authorization", "Basic YWRhOnB3"}, "NO_TOKEN", ""},
		{"empty bearer", []string{"Authorization", "Bearer "}, "INVALID_TOKEN", "-"},
		{"garbage", bearer("not.a.token"), "INVALID_TOKEN", "not.a.token"},
		{"two tokens", append(bearer(ada.access), bearer(ada.access)...), "INVALID_TOKEN", ada.access},
		{"tampered signature", bearer(tampered), "INVALID_TOKEN", tampered},
		{"another key", bearer(foreign), "INVALID_TOKEN", foreign},
		{"another audience", bearer(otherAudience), "INVALID_TOKEN", otherAudience},
		{"alg none", bearer(algNone), "INVALID_TOKEN", algNone},
		{"expired", bearer(expired), "TOKEN_EXPIRED", expired},
		{"revoked", bearer(revoked), "TOKEN_REVOKED", revoked},
	}
	routes := []struct{ method, path string }{
		{http.MethodGet, "/api/auth/me"},
		{http.MethodGet, "/api/posts"},
		{http.MethodPost, "/api/auth/logout-all"},
		{http.MethodDelete, "/api/users/" + ada.userID},
	}
	c := ts.client(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, rt := range routes {
				r := c.in(t).do(rt.method, rt.path, "", tt.header...)
				wantError(t, r, http.StatusUnauthorized, tt.code)
				wantBearerChallenge(t, r, tt.token != "")
				if tt.token != "" && len(tt.token) > 8 {
					sig := tt.token[strings.LastIndex(tt.token, ".")+1:]
					if strings.Contains(string(r.body), tt.token) || (len(sig) > 8 && strings.Contains(string(r.body), sig)) {
						t.Errorf("%v; want a body without the token", r)
					}
				}
			}
		})
	}
	// Ada's token still works: nothing above hurt it.
	if r := c.get("/api/auth/me", bearer(ada.access)...); r.status != http.StatusOK {
		t.Errorf("%v; want 200", r)
	}
}
