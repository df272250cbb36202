package main

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jwtkit/auth/password"
)

func TestLogin(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	ada := ts.client(t).register("ada@example.com")

	for _, email := range []string{"ada@example.com", "ADA@Example.com"} {
		t.Run(email, func(t *testing.T) {
			c := ts.client(t)
			r := c.post("/api/auth/login", credentials(email, testPassword))
			if r.status != http.StatusOK {
				t.Fatalf("%v; want 200", r)
			}
			wantNoStore(t, r)
			wantRefreshCookie(t, r, false, defaultRefreshTTL)
			body := object(t, r)
			wantKeys(t, "login body", body, "user", "accessToken", "expiresIn")
			user, _ := body["user"].(map[string]any)
			wantKeys(t, "user", user, "id", "email", "name", "role", "emailVerified")
			if user["id"] != ada.userID || user["email"] != "ada@example.com" {
				t.Errorf("login user = %v; want id %s, ada@example.com", user, ada.userID)
			}
			tok, _ := body["accessToken"].(string)
			if _, claims := decodeJWT(t, tok); claims["sub"] != ada.userID {
				t.Errorf("token sub = %v; want %s", claims["sub"], ada.userID)
			}
			if me := c.get("/api/auth/me", bearer(tok)...); me.status != http.StatusOK {
				t.Errorf("%v; want 200", me)
			}
			if c.refreshCookie() == "" {
				t.Errorf("the jar holds no refresh cookie after login; want one")
			}
		})
	}

	bad := []struct{ name, body string }{
		{"empty object", `{}`},
		{"missing password", `{"email":"ada@example.com"}`},
		{"unknown field", `{"email":"ada@example.com","password":"correct horse battery","admin":true}`},
		{"bad JSON", `{"email":`},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			r := ts.client(t).post("/api/auth/login", tt.body)
			wantError(t, r, http.StatusBadRequest, "INVALID_INPUT")
			wantNoCookie(t, r)
		})
	}
}

// TestLoginFailuresLookAlike checks that a wrong password and an unknown
// email give the same status, body and headers. That they cost the same
// bcrypt work is the password package's test (an unknown user is compared
// against a dummy hash of the same cost); BenchmarkLoginFailures measures
// the two side by side, since a timed verdict would depend on the machine.
func TestLoginFailuresLookAlike(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, map[string]string{"AUTH_LOGIN_LIMIT": "100/1m"})
	c := ts.client(t)
	c.register("ada@example.com")
	wrong := credentials("ada@example.com", "wrong password")
	unknown := credentials("bob@example.com", "wrong password")
	// The first failed login makes the hash that unknown emails are compared
	// with; keep it out of the timing.
	wantError(t, c.post("/api/auth/login", unknown), http.StatusUnauthorized, "INVALID_CREDENTIALS")

	const rounds = 5
	for i := range rounds {
		// Alternate the order so that neither kind always runs first.
		var w, u *response
		if i%2 == 0 {
			w, u = c.post("/api/auth/login", wrong), c.post("/api/auth/login", unknown)
		} else {
			u, w = c.post("/api/auth/login", unknown), c.post("/api/auth/login", wrong)
		}
		wantError(t, w, http.StatusUnauthorized, "INVALID_CREDENTIALS")
		if w.status != u.status || string(w.body) != string(u.body) {
			t.Errorf("wrong password: %v\nunknown email: %v\nwant the same status and body", w, u)
		}
		wh, uh := w.header.Clone(), u.header.Clone()
		wh.Del("Date")
		uh.Del("Date")
		if !maps.EqualFunc(wh, uh, slices.Equal) {
			t.Errorf("wrong password headers = %v; unknown email headers = %v; want the same", wh, uh)
		}
	}
}

// BenchmarkLoginFailures measures a failed login with a wrong password and
// with an unknown email, at the default bcrypt cost: the two must cost
// about the same (compare them with benchstat).
func BenchmarkLoginFailures(b *testing.B) {
	ts := startServer(b, map[string]string{"AUTH_LOGIN_LIMIT": "1000000/1m"}, password.DefaultCost)
	c := ts.client(b)
	c.register("ada@example.com")
	for name, body := range map[string]string{
		"wrong-password": credentials("ada@example.com", "wrong password"),
		"unknown-email":  credentials("bob@example.com", "wrong password"),
	} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if r := c.post("/api/auth/login", body); r.status != http.StatusUnauthorized {
					b.Fatalf("%v; want 401", r)
				}
			}
		})
	}
}

// wantThrottled reports an error unless r is 429 TOO_MANY_ATTEMPTS with a
// Retry-After of whole seconds, more than 0 and at most window.
func wantThrottled(tb testing.TB, r *response, window time.Duration) {
	tb.Helper()
	wantError(tb, r, http.StatusTooManyRequests, "TOO_MANY_ATTEMPTS")
	wantNoCookie(tb, r)
	ra := r.header.Get("Retry-After")
	if secs, err := strconv.Atoi(ra); err != nil || secs <= 0 || time.Duration(secs)*time.Second > window {
		tb.Errorf("%s %s Retry-After = %q; want seconds in [1, %d]", r.method, r.path, ra, int(window/time.Second))
	}
}

// TestLoginThrottle runs the default AUTH_LOGIN_LIMIT, 5 failures per 15
// minutes per account and per client address. Each client connects from its
// own loopback address.
func TestLoginThrottle(t *testing.T) {
	t.Parallel()
	const window = 15 * time.Minute

	t.Run("per account", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, nil)
		ts.client(t).register("ada@example.com")
		for i := range 5 {
			r := ts.clientFrom(t, fmt.Sprintf("127.0.0.%d", 10+i)).post("/api/auth/login", credentials("ada@example.com", "wrong password"))
			wantError(t, r, http.StatusUnauthorized, "INVALID_CREDENTIALS")
		}
		tests := []struct{ name, ip, email, pw string }{
			{"sixth failure", "127.0.0.20", "ada@example.com", "wrong password"},
			{"correct password", "127.0.0.21", "ada@example.com", testPassword},
			{"email in other case", "127.0.0.22", "ADA@EXAMPLE.COM", testPassword},
			// The account store trims the email: the same account, the same throttle.
			{"email with spaces", "127.0.0.23", " ada@example.com ", testPassword},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := ts.clientFrom(t, tt.ip).post("/api/auth/login", credentials(tt.email, tt.pw))
				wantThrottled(t, r, window)
			})
		}
	})

	t.Run("per address", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, nil)
		ts.client(t).register("ada@example.com")
		attacker := ts.clientFrom(t, "127.0.0.30")
		for i := range 5 {
			r := attacker.post("/api/auth/login", credentials(fmt.Sprintf("user%d@example.com", i), "wrong password"))
			wantError(t, r, http.StatusUnauthorized, "INVALID_CREDENTIALS")
		}
		wantThrottled(t, attacker.post("/api/auth/login", credentials("user9@example.com", "wrong password")), window)
		wantThrottled(t, attacker.post("/api/auth/login", credentials("ada@example.com", testPassword)), window)
		// Another address is not throttled.
		other := ts.clientFrom(t, "127.0.0.31")
		if r := other.post("/api/auth/login", credentials("ada@example.com", testPassword)); r.status != http.StatusOK {
			t.Errorf("%v from another address; want 200", r)
		}
	})
}
