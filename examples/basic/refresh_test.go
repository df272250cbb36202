package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"regexp"
	"sync"
	"testing"
	"time"
)

// refreshTokenRE matches an opaque refresh token: base64url, 256 bits or more.
var refreshTokenRE = regexp.MustCompile(`^[A-Za-z0-9_-]{43,}$`)

func refreshBody(tok string) string {
	b, _ := json.Marshal(map[string]string{"refreshToken": tok})
	return string(b)
}

func TestRefreshTransferBody(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	c := ts.client(t)

	wantBodySession := func(t *testing.T, r *response, status int, keys ...string) (access, refresh string) {
		t.Helper()
		if r.status != status {
			t.Fatalf("%v; want %d", r, status)
		}
		wantNoStore(t, r)
		wantNoCookie(t, r)
		body := object(t, r)
		wantKeys(t, r.method+" "+r.path+" body", body, keys...)
		access, _ = body["accessToken"].(string)
		refresh, _ = body["refreshToken"].(string)
		if !refreshTokenRE.MatchString(refresh) {
			t.Errorf("refreshToken = %q; want 256 bits or more of base64url", refresh)
		}
		return access, refresh
	}

	r := c.post("/api/auth/register", credentials("ada@example.com", testPassword, "name", "Ada", "refreshTransfer", "body"))
	_, rt0 := wantBodySession(t, r, http.StatusCreated, "user", "accessToken", "expiresIn", "refreshToken")

	r = c.post("/api/auth/refresh", refreshBody(rt0))
	at1, rt1 := wantBodySession(t, r, http.StatusOK, "accessToken", "expiresIn", "refreshToken")
	if rt1 == rt0 {
		t.Errorf("refresh returned the presented token; want a rotated one")
	}
	if me := c.get("/api/auth/me", bearer(at1)...); me.status != http.StatusOK {
		t.Errorf("%v with the refreshed token; want 200", me)
	}

	r = c.post("/api/auth/login", credentials("ada@example.com", testPassword, "refreshTransfer", "body"))
	_, rt2 := wantBodySession(t, r, http.StatusOK, "user", "accessToken", "expiresIn", "refreshToken", "deviceToken")
	if c.refreshCookie() != "" {
		t.Errorf("the jar holds a refresh cookie; want none in body transfer")
	}

	// Logout takes the token in the body too.
	if r := c.post("/api/auth/logout", refreshBody(rt2)); r.status != http.StatusOK {
		t.Errorf("%v; want 200", r)
	}
	wantError(t, c.post("/api/auth/refresh", refreshBody(rt2)), http.StatusUnauthorized, "INVALID_REFRESH_TOKEN")
	// The rotated-away token is a reuse.
	wantError(t, c.post("/api/auth/refresh", refreshBody(rt0)), http.StatusUnauthorized, "INVALID_REFRESH_TOKEN")
}

func TestRefresh(t *testing.T) {
	t.Parallel()

	t.Run("rotation", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, nil)
		c := ts.client(t)
		s := c.register("ada@example.com")
		prev := s.refresh
		for i := range 2 {
			r := c.post("/api/auth/refresh", "")
			if r.status != http.StatusOK {
				t.Fatalf("refresh %d: %v; want 200", i+1, r)
			}
			wantNoStore(t, r)
			next := wantRefreshCookie(t, r, false, defaultRefreshTTL)
			body := object(t, r)
			wantKeys(t, "refresh body", body, "accessToken", "expiresIn")
			if next == prev || next != c.refreshCookie() {
				t.Errorf("refresh %d: cookie %q after %q, jar %q; want a new token, kept by the jar", i+1, next, prev, c.refreshCookie())
			}
			prev = next
			tok, _ := body["accessToken"].(string)
			if _, claims := decodeJWT(t, tok); claims["sub"] != s.userID {
				t.Errorf("refresh %d: token sub = %v; want %s", i+1, claims["sub"], s.userID)
			}
			if me := c.get("/api/auth/me", bearer(tok)...); me.status != http.StatusOK {
				t.Errorf("%v with the refreshed token; want 200", me)
			}
		}
	})

	t.Run("refused tokens", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, nil)
		s := ts.client(t).register("ada@example.com")
		// Same shape and routing prefix as a real token, never issued.
		var secret [32]byte
		_, _ = rand.Read(secret[:])
		unknown := s.refresh[:len(s.refresh)-43] + base64.RawURLEncoding.EncodeToString(secret[:])
		tests := []struct {
			name   string
			body   string
			header []string
		}{
			{"absent", "", nil},
			{"empty cookie", "", cookieHeader("")},
			{"malformed cookie", "", cookieHeader("not-a-token")},
			{"unknown cookie", "", cookieHeader(unknown)},
			{"empty in body", refreshBody(""), nil},
			{"malformed in body", refreshBody("not a token"), nil},
			{"unknown in body", refreshBody(unknown), nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := ts.client(t).post("/api/auth/refresh", tt.body, tt.header...)
				wantError(t, r, http.StatusUnauthorized, "INVALID_REFRESH_TOKEN")
				wantClearedCookie(t, r)
			})
		}
		// None of that touched the real session.
		if r := ts.client(t).post("/api/auth/refresh", "", cookieHeader(s.refresh)...); r.status != http.StatusOK {
			t.Errorf("%v; want 200", r)
		}
	})

	t.Run("reuse revokes the session", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, nil)
		c := ts.client(t)
		rt0 := c.register("ada@example.com").refresh
		for range 2 {
			if r := c.post("/api/auth/refresh", ""); r.status != http.StatusOK {
				t.Fatalf("%v; want 200", r)
			}
		}
		newest := c.refreshCookie()
		thief := ts.client(t)
		r := thief.post("/api/auth/refresh", "", cookieHeader(rt0)...)
		wantError(t, r, http.StatusUnauthorized, "INVALID_REFRESH_TOKEN")
		wantClearedCookie(t, r)
		r = c.post("/api/auth/refresh", "")
		wantError(t, r, http.StatusUnauthorized, "INVALID_REFRESH_TOKEN")
		wantClearedCookie(t, r)
		if r := thief.post("/api/auth/refresh", "", cookieHeader(newest)...); r.status != http.StatusUnauthorized {
			t.Errorf("%v with the newest token after reuse; want 401", r)
		}
	})

	t.Run("concurrent refreshes of one token", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, nil)
		rt := ts.client(t).register("ada@example.com").refresh
		const n = 20
		responses := make([]*response, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			c := ts.client(t)
			wg.Go(func() {
				<-start
				r, err := c.send(context.Background(), http.MethodPost, "/api/auth/refresh", "", cookieHeader(rt)...)
				if err != nil {
					t.Error(err)
				}
				responses[i] = r
			})
		}
		close(start)
		wg.Wait()
		ok := 0
		var winner string
		for _, r := range responses {
			if r == nil {
				continue
			}
			if r.status == http.StatusOK {
				ok++
				if ck, _ := setCookie(t, r); ck != nil {
					winner = ck.Value
				}
				continue
			}
			wantError(t, r, http.StatusUnauthorized, "INVALID_REFRESH_TOKEN")
		}
		if ok != 1 {
			t.Fatalf("%d concurrent refreshes of one token: %d answered 200; want exactly 1", n, ok)
		}
		// The others were replays: the session is revoked, the winner's token too.
		if r := ts.client(t).post("/api/auth/refresh", "", cookieHeader(winner)...); r.status != http.StatusUnauthorized {
			t.Errorf("%v with the winner's token; want 401", r)
		}
	})

	t.Run("expired", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, map[string]string{"AUTH_REFRESH_TTL": "1s"})
		rt := ts.client(t).register("ada@example.com").refresh
		time.Sleep(1100 * time.Millisecond)
		r := ts.client(t).post("/api/auth/refresh", "", cookieHeader(rt)...)
		wantError(t, r, http.StatusUnauthorized, "INVALID_REFRESH_TOKEN")
		wantClearedCookie(t, r)
	})
}

// TestExpiredAccessTokenThenRefresh runs a client through the expiry of its
// access token: refused with TOKEN_EXPIRED, then refreshed and accepted.
func TestExpiredAccessTokenThenRefresh(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, map[string]string{"AUTH_ACCESS_TTL": "1s"})
	c := ts.client(t)
	s := c.register("ada@example.com")
	if r := c.get("/api/auth/me", bearer(s.access)...); r.status != http.StatusOK {
		t.Errorf("%v right after register; want 200", r)
	}
	deadline := time.Now().Add(5 * time.Second)
	var r *response
	for {
		r = c.get("/api/auth/me", bearer(s.access)...)
		if r.status != http.StatusOK || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	wantError(t, r, http.StatusUnauthorized, "TOKEN_EXPIRED")
	wantBearerChallenge(t, r, true)

	r = c.post("/api/auth/refresh", "")
	if r.status != http.StatusOK {
		t.Fatalf("%v; want 200", r)
	}
	tok, _ := object(t, r)["accessToken"].(string)
	if r := c.get("/api/auth/me", bearer(tok)...); r.status != http.StatusOK {
		t.Errorf("%v with the refreshed token; want 200", r)
	}
}
