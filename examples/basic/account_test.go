package main

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The account flows over HTTP: e-mail verification, password reset
// (forgot, then reset), password change, and the device token a login
// hands out.

// Passwords the flows set; every one passes the rules.
const (
	newPassword   = "battery staple horse"
	otherPassword = "staple horse correct"
)

const (
	forgotPath = "/api/auth/password/forgot"
	resetPath  = "/api/auth/password/reset"
	changePath = "/api/auth/password/change"
	verifyPath = "/api/auth/email/verify"
)

// tamper returns tok with its last character changed.
func tamper(tok string) string {
	last := "x"
	if strings.HasSuffix(tok, last) {
		last = "y"
	}
	return tok[:len(tok)-1] + last
}

func resetBody(token, pw string) string { return jsonObject("token", token, "password", pw) }

func changeBody(current, next string, extra ...string) string {
	return jsonObject(append([]string{"currentPassword", current, "newPassword", next}, extra...)...)
}

// userOf returns the user object of r's body, checking its members.
func userOf(tb testing.TB, r *response) map[string]any {
	tb.Helper()
	u, ok := object(tb, r)["user"].(map[string]any)
	if !ok {
		tb.Fatalf("%v; want a user object", r)
	}
	wantKeys(tb, "user", u, "id", "email", "name", "role", "emailVerified")
	return u
}

// wantVerified reports an error unless r's user has emailVerified want.
func wantVerified(tb testing.TB, r *response, want bool) {
	tb.Helper()
	if v, ok := userOf(tb, r)["emailVerified"].(bool); !ok || v != want {
		tb.Errorf("%v; want user.emailVerified %v", r, want)
	}
}

// loginWith logs in as email with pw from a new client and returns the
// response.
func loginWith(tb testing.TB, ts *testServer, email, pw string) *response {
	tb.Helper()
	return ts.client(tb).post("/api/auth/login", credentials(email, pw))
}

// wantLogin reports an error unless email logs in with pw, and returns the
// session.
func wantLogin(tb testing.TB, ts *testServer, email, pw string) (session, *client) {
	tb.Helper()
	c := ts.client(tb)
	r := c.post("/api/auth/login", credentials(email, pw))
	if r.status != http.StatusOK {
		tb.Fatalf("%v; want 200", r)
	}
	return c.sessionOf(r), c
}

func TestEmailVerification(t *testing.T) {
	t.Parallel()
	ms := newMailServer(t, nil)
	c := ms.client(t)
	r := c.post("/api/auth/register", credentials("ada@example.com", testPassword, "name", "Ada"))
	if r.status != http.StatusCreated {
		t.Fatalf("%v; want 201", r)
	}
	wantVerified(t, r, false)
	s := c.sessionOf(r)
	wantVerified(t, c.get("/api/auth/me", bearer(s.access)...), false)

	list := ms.mailbox(t, "ada@example.com")
	if len(list) != 1 || !list[0].is("verify") {
		t.Fatalf("mailbox after register = %+v; want one message with verify in its subject or link", list)
	}
	tok := list[0].token

	// Malformed requests, before the token is used: it survives them.
	for _, body := range []string{`{`, `[]`, `{"token": 5}`, `{"token": "` + tok + `", "extra": 1}`, `{"token": "` + tok + `"} {}`} {
		wantError(t, c.post(verifyPath, body), http.StatusBadRequest, "INVALID_INPUT")
	}

	r = c.post(verifyPath, jsonObject("token", tok))
	if r.status != http.StatusOK {
		t.Fatalf("%v; want 200", r)
	}
	wantKeys(t, "verify body", object(t, r), "user")
	if u := userOf(t, r); u["id"] != s.userID || u["email"] != "ada@example.com" {
		t.Errorf("verify user = %v; want id %s, ada@example.com", u, s.userID)
	}
	wantVerified(t, r, true)

	wantError(t, c.post(verifyPath, jsonObject("token", tok)), http.StatusBadRequest, "INVALID_VERIFY_TOKEN")
	wantVerified(t, c.get("/api/auth/me", bearer(s.access)...), true)

	// Tokens that never were: garbage, a token of the right shape, empty,
	// absent, and a reset link's.
	reset := ms.forgot(t, c, "ada@example.com")
	for _, body := range []string{
		jsonObject("token", "garbage"),
		jsonObject("token", strings.Repeat("A", len(tok))),
		jsonObject("token", tamper(tok)),
		jsonObject("token", tok+"A"),
		jsonObject("token", ""),
		`{}`,
		jsonObject("token", reset.token),
	} {
		wantError(t, c.post(verifyPath, body), http.StatusBadRequest, "INVALID_VERIFY_TOKEN")
	}
}

// TestRequireVerifiedEmail runs AUTH_REQUIRE_VERIFIED_EMAIL=true: only the
// right password learns that the address is unverified, and the admin
// account, created verified, signs in.
func TestRequireVerifiedEmail(t *testing.T) {
	t.Parallel()
	ms := newMailServer(t, map[string]string{
		"AUTH_REQUIRE_VERIFIED_EMAIL": "true",
		"ADMIN_EMAIL":                 "root@example.com",
		"ADMIN_PASSWORD":              testPassword,
	})
	ms.client(t).register("ada@example.com")

	r := loginWith(t, ms.testServer, "ada@example.com", testPassword)
	wantError(t, r, http.StatusForbidden, "EMAIL_NOT_VERIFIED")
	wantNoCookie(t, r)
	wantError(t, loginWith(t, ms.testServer, "ada@example.com", "wrong password"), http.StatusUnauthorized, "INVALID_CREDENTIALS")

	m := ms.newest(t, "ada@example.com", "verify")
	if r := ms.client(t).post(verifyPath, jsonObject("token", m.token)); r.status != http.StatusOK {
		t.Fatalf("%v; want 200", r)
	}
	r = loginWith(t, ms.testServer, "ada@example.com", testPassword)
	if r.status != http.StatusOK {
		t.Fatalf("%v after verifying; want 200", r)
	}
	wantVerified(t, r, true)

	r = loginWith(t, ms.testServer, "root@example.com", testPassword)
	if r.status != http.StatusOK {
		t.Fatalf("admin %v; want 200", r)
	}
	if u := userOf(t, r); u["role"] != "admin" || u["emailVerified"] != true {
		t.Errorf("admin user = %v; want role admin, emailVerified true", u)
	}
}

// headerSet returns h without Date, which changes with the clock.
func headerSet(h http.Header) http.Header {
	h = h.Clone()
	h.Del("Date")
	return h
}

func TestForgotPassword(t *testing.T) {
	t.Parallel()

	t.Run("known and unknown look alike", func(t *testing.T) {
		t.Parallel()
		ms := newMailServer(t, nil)
		ms.client(t).register("ada@example.com")
		known := ms.clientFrom(t, "127.0.0.40").post(forgotPath, jsonObject("email", "ada@example.com"))
		unknown := ms.clientFrom(t, "127.0.0.41").post(forgotPath, jsonObject("email", "nobody@example.com"))
		for _, r := range []*response{known, unknown} {
			if r.status != http.StatusAccepted {
				t.Errorf("%v; want 202", r)
			}
			body := object(t, r)
			wantKeys(t, "forgot body", body, "message")
			if msg, _ := body["message"].(string); msg == "" {
				t.Errorf("%v; want a message", r)
			}
			wantNoCookie(t, r)
		}
		if string(known.body) != string(unknown.body) {
			t.Errorf("forgot bodies differ: known %q, unknown %q; want the same", known.body, unknown.body)
		}
		if hk, hu := headerSet(known.header), headerSet(unknown.header); !maps.EqualFunc(hk, hu, slices.Equal) {
			t.Errorf("forgot headers differ: known %v, unknown %v; want the same", hk, hu)
		}
		if m := ms.newest(t, "ada@example.com", "reset"); m.to != "ada@example.com" {
			t.Errorf("reset message to %q; want ada@example.com", m.to)
		}
		if got := ms.mailbox(t, "nobody@example.com"); len(got) != 0 {
			t.Errorf("mailbox of an unknown address = %+v; want none", got)
		}
		// The address is matched as login matches it.
		ms.forgot(t, ms.clientFrom(t, "127.0.0.42"), " ADA@example.com ")
	})

	t.Run("bad input", func(t *testing.T) {
		t.Parallel()
		ms := newMailServer(t, nil)
		c := ms.client(t)
		c.register("ada@example.com")
		for _, body := range []string{
			`{`, `[]`, `"ada@example.com"`, `{"email": 5}`,
			`{"email": "ada@example.com", "extra": 1}`,
			`{"email": "ada@example.com"} {}`,
			`{}`, `{"email": ""}`,
			jsonObject("email", strings.Repeat("a", 250)+"@example.com"),
		} {
			wantError(t, c.post(forgotPath, body), http.StatusBadRequest, "INVALID_INPUT")
		}
		if got := ms.mailbox(t, "ada@example.com"); len(got) != 1 {
			t.Errorf("mailbox after refused requests = %+v; want only the verification message", got)
		}
	})

	// AUTH_LOGIN_LIMIT sets the budget of reset requests too, per address
	// asked for and per client address; every request counts.
	const window = 15 * time.Minute
	limit := map[string]string{"AUTH_LOGIN_LIMIT": "3/15m"}

	t.Run("throttled per account", func(t *testing.T) {
		t.Parallel()
		ms := newMailServer(t, limit)
		ms.client(t).register("ada@example.com")
		for i := range 3 {
			ms.forgot(t, ms.clientFrom(t, fmt.Sprintf("127.0.0.%d", 50+i)), "ada@example.com")
		}
		wantThrottled(t, ms.clientFrom(t, "127.0.0.53").post(forgotPath, jsonObject("email", "ada@example.com")), window)
		wantThrottled(t, ms.clientFrom(t, "127.0.0.54").post(forgotPath, jsonObject("email", "ADA@example.com")), window)
		if got := ms.mailbox(t, "ada@example.com"); len(got) != 4 {
			t.Errorf("mailbox holds %d messages; want 4 (verify, 3 resets): a refused request sends nothing", len(got))
		}
		// An unknown address runs out alike.
		for i := range 3 {
			if r := ms.clientFrom(t, fmt.Sprintf("127.0.0.%d", 55+i)).post(forgotPath, jsonObject("email", "nobody@example.com")); r.status != http.StatusAccepted {
				t.Errorf("%v; want 202", r)
			}
		}
		wantThrottled(t, ms.clientFrom(t, "127.0.0.58").post(forgotPath, jsonObject("email", "nobody@example.com")), window)
	})

	t.Run("throttled per client address", func(t *testing.T) {
		t.Parallel()
		ms := newMailServer(t, limit)
		ms.client(t).register("ada@example.com")
		attacker := ms.clientFrom(t, "127.0.0.60")
		for i := range 3 {
			if r := attacker.post(forgotPath, jsonObject("email", fmt.Sprintf("user%d@example.com", i))); r.status != http.StatusAccepted {
				t.Errorf("%v; want 202", r)
			}
		}
		wantThrottled(t, attacker.post(forgotPath, jsonObject("email", "user9@example.com")), window)
		wantThrottled(t, attacker.post(forgotPath, jsonObject("email", "ada@example.com")), window)
		if got := ms.mailbox(t, "ada@example.com"); len(got) != 1 {
			t.Errorf("mailbox after a throttled request = %+v; want only the verification message", got)
		}
		ms.forgot(t, ms.clientFrom(t, "127.0.0.61"), "ada@example.com")
	})
}

func TestResetPassword(t *testing.T) {
	t.Parallel()

	t.Run("reset", func(t *testing.T) {
		t.Parallel()
		ms := newMailServer(t, nil)
		c := ms.client(t)
		s1 := c.register("ada@example.com")
		other := ms.client(t)
		s2 := other.login("ada@example.com")
		m := ms.forgot(t, ms.client(t), "ada@example.com")
		anon := ms.client(t)

		// The password rules come before the token: it stays usable.
		for _, body := range []string{
			resetBody(m.token, "short"),
			resetBody(m.token, ""),
			resetBody(m.token, strings.Repeat("p", 73)),
			`{"token": "` + m.token + `"}`,
			`{"token": "` + m.token + `", "password": "` + newPassword + `", "extra": 1}`,
			`{"token": "` + m.token + `", "password": "` + newPassword + `"`,
		} {
			wantError(t, anon.post(resetPath, body), http.StatusBadRequest, "INVALID_INPUT")
		}
		wantMessage(t, anon.post(resetPath, resetBody(m.token, newPassword)))

		// A login right after the reset answered succeeds, and its tokens
		// work.
		s3, c3 := wantLogin(t, ms.testServer, "ada@example.com", newPassword)
		if r := c3.get("/api/auth/me", bearer(s3.access)...); r.status != http.StatusOK {
			t.Errorf("%v right after the reset; want 200", r)
		}
		if r := c3.post("/api/auth/refresh", ""); r.status != http.StatusOK {
			t.Errorf("%v right after the reset; want 200", r)
		}

		wantError(t, anon.post(resetPath, resetBody(m.token, otherPassword)), http.StatusBadRequest, "INVALID_RESET_TOKEN")
		wantError(t, loginWith(t, ms.testServer, "ada@example.com", testPassword), http.StatusUnauthorized, "INVALID_CREDENTIALS")

		// Every earlier session is revoked, its refresh and access tokens.
		for _, cl := range []*client{c, other} {
			wantError(t, cl.post("/api/auth/refresh", ""), http.StatusUnauthorized, "INVALID_REFRESH_TOKEN")
		}
		for _, s := range []session{s1, s2} {
			wantError(t, anon.post("/api/auth/refresh", "", cookieHeader(s.refresh)...), http.StatusUnauthorized, "INVALID_REFRESH_TOKEN")
			r := anon.get("/api/auth/me", bearer(s.access)...)
			wantError(t, r, http.StatusUnauthorized, "TOKEN_REVOKED")
			wantBearerChallenge(t, r, true)
		}
		if r := c3.get("/api/auth/me", bearer(s3.access)...); r.status != http.StatusOK {
			t.Errorf("%v of the session started after the reset; want 200", r)
		}
	})

	t.Run("not a reset token", func(t *testing.T) {
		t.Parallel()
		ms := newMailServer(t, nil)
		c := ms.client(t)
		c.register("ada@example.com")
		verify := ms.newest(t, "ada@example.com", "verify")
		reset := ms.forgot(t, c, "ada@example.com")
		// (Each costs a password hash: the rules and the hash come first.)
		for _, tok := range []string{verify.token, tamper(reset.token)} {
			wantError(t, c.post(resetPath, resetBody(tok, newPassword)), http.StatusBadRequest, "INVALID_RESET_TOKEN")
		}
		// Nothing changed: the old password still works, the real link too.
		wantLogin(t, ms.testServer, "ada@example.com", testPassword)
		wantMessage(t, c.post(resetPath, resetBody(reset.token, newPassword)))
	})

	t.Run("expired", func(t *testing.T) {
		t.Parallel()
		const ttl = 2 * time.Second
		ms := newMailServer(t, map[string]string{"AUTH_RESET_TTL": ttl.String()})
		c := ms.client(t)
		c.register("ada@example.com")
		m := ms.forgot(t, c, "ada@example.com")
		time.Sleep(ttl + time.Second) // past the link's lifetime
		wantError(t, c.post(resetPath, resetBody(m.token, newPassword)), http.StatusBadRequest, "INVALID_RESET_TOKEN")
		wantLogin(t, ms.testServer, "ada@example.com", testPassword)
	})

	// A password reset kills the account's other links.
	t.Run("one link of two", func(t *testing.T) {
		t.Parallel()
		ms := newMailServer(t, nil)
		c := ms.client(t)
		c.register("ada@example.com")
		first := ms.forgot(t, c, "ada@example.com")
		second := ms.forgot(t, c, "ada@example.com")
		wantMessage(t, c.post(resetPath, resetBody(first.token, newPassword)))
		wantError(t, c.post(resetPath, resetBody(second.token, otherPassword)), http.StatusBadRequest, "INVALID_RESET_TOKEN")
		wantLogin(t, ms.testServer, "ada@example.com", newPassword)
	})

	t.Run("concurrent", func(t *testing.T) {
		t.Parallel()
		ms := newMailServer(t, nil)
		c := ms.client(t)
		c.register("ada@example.com")
		m := ms.forgot(t, c, "ada@example.com")

		const n = 10
		pw := func(i int) string { return "new password " + strconv.Itoa(i) }
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
			res   = make([]*response, n)
			errs  = make([]error, n)
		)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				res[i], errs[i] = c.send(context.Background(), http.MethodPost, resetPath, resetBody(m.token, pw(i)))
			}()
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, r := range res {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			if r.status == http.StatusOK {
				if winner >= 0 {
					t.Errorf("reset %d and %d both answered 200; want one", winner, i)
				}
				winner = i
				continue
			}
			wantError(t, r, http.StatusBadRequest, "INVALID_RESET_TOKEN")
		}
		if winner < 0 {
			t.Fatalf("no reset of %d answered 200; want one", n)
		}
		wantLogin(t, ms.testServer, "ada@example.com", pw(winner))
	})
}

func TestChangePassword(t *testing.T) {
	t.Parallel()

	t.Run("change", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, nil)
		c := ts.client(t)
		s1 := c.register("ada@example.com")
		other := ts.clientFrom(t, "127.0.0.70")
		s2 := other.login("ada@example.com")

		r := ts.client(t).post(changePath, changeBody(testPassword, newPassword))
		wantError(t, r, http.StatusUnauthorized, "NO_TOKEN")
		wantBearerChallenge(t, r, false)
		r = ts.client(t).post(changePath, changeBody(testPassword, newPassword), bearer("not.a.token")...)
		wantError(t, r, http.StatusUnauthorized, "INVALID_TOKEN")
		// A refresh token alone is no bearer.
		wantError(t, c.post(changePath, changeBody(testPassword, newPassword)), http.StatusUnauthorized, "NO_TOKEN")

		r = c.post(changePath, changeBody("wrong password", newPassword), bearer(s1.access)...)
		wantError(t, r, http.StatusUnauthorized, "INVALID_CREDENTIALS")
		wantNoCookie(t, r)
		for _, body := range []string{
			changeBody(testPassword, "short"),
			changeBody(testPassword, ""),
			changeBody(testPassword, strings.Repeat("p", 73)),
			changeBody(testPassword, newPassword, "extra", "1"),
			changeBody(testPassword, newPassword, "refreshTransfer", "carrier pigeon"),
			`{"currentPassword": "` + testPassword + `"`,
		} {
			wantError(t, c.post(changePath, body, bearer(s1.access)...), http.StatusBadRequest, "INVALID_INPUT")
		}
		r = c.post(changePath, changeBody(testPassword, newPassword), bearer(s1.access)...)
		if r.status != http.StatusOK {
			t.Fatalf("%v; want 200", r)
		}
		wantNoStore(t, r)
		body := object(t, r)
		wantKeys(t, "change body", body, "accessToken", "expiresIn")
		access, _ := body["accessToken"].(string)
		if n, _ := body["expiresIn"].(float64); n != ts.cfg.AccessTTL.Seconds() {
			t.Errorf("change expiresIn = %v; want %v", body["expiresIn"], ts.cfg.AccessTTL.Seconds())
		}
		refresh := wantRefreshCookie(t, r, false, ts.cfg.RefreshTTL)
		if refresh == s1.refresh || access == s1.access {
			t.Errorf("change returned the old tokens; want new ones")
		}

		// The other device is signed out.
		wantError(t, other.post("/api/auth/refresh", ""), http.StatusUnauthorized, "INVALID_REFRESH_TOKEN")
		wantError(t, other.get("/api/auth/me", bearer(s2.access)...), http.StatusUnauthorized, "TOKEN_REVOKED")

		// The caller stays signed in with the new tokens.
		if r := c.get("/api/auth/me", bearer(access)...); r.status != http.StatusOK {
			t.Errorf("%v with the new access token; want 200", r)
		}
		if list := listSessions(t, c, access); len(list) != 1 || currentOf(t, list) == "" {
			t.Errorf("sessions after the change = %v; want the caller's only", list)
		}
		if r := c.post("/api/auth/refresh", ""); r.status != http.StatusOK {
			t.Errorf("%v with the new refresh cookie; want 200", r)
		}

		wantLogin(t, ts, "ada@example.com", newPassword)
		wantError(t, loginWith(t, ts, "ada@example.com", testPassword), http.StatusUnauthorized, "INVALID_CREDENTIALS")
	})

	t.Run("refresh token in the body", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, nil)
		c := ts.client(t)
		r := c.post("/api/auth/register", credentials("ada@example.com", testPassword, "name", "Ada", "refreshTransfer", "body"))
		if r.status != http.StatusCreated {
			t.Fatalf("%v; want 201", r)
		}
		s := c.sessionOf(r)

		r = c.post(changePath, changeBody(testPassword, newPassword, "refreshTransfer", "body"), bearer(s.access)...)
		if r.status != http.StatusOK {
			t.Fatalf("%v; want 200", r)
		}
		wantNoStore(t, r)
		if ck, raw := setCookie(t, r); ck != nil {
			t.Errorf("change with refreshTransfer body sets %q; want no refresh cookie", raw)
		}
		body := object(t, r)
		wantKeys(t, "change body", body, "accessToken", "expiresIn", "refreshToken")
		access, _ := body["accessToken"].(string)
		refresh, _ := body["refreshToken"].(string)
		if !refreshTokenRE.MatchString(refresh) || refresh == s.refresh {
			t.Errorf("change refreshToken = %q; want a new token of 256 bits or more of base64url", refresh)
		}
		if r := c.get("/api/auth/me", bearer(access)...); r.status != http.StatusOK {
			t.Errorf("%v with the new access token; want 200", r)
		}
		if r := c.post("/api/auth/refresh", refreshBody(refresh)); r.status != http.StatusOK {
			t.Errorf("%v with the new refresh token; want 200", r)
		}
	})

	t.Run("throttled", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, map[string]string{"AUTH_LOGIN_LIMIT": "2/15m"})
		c := ts.client(t)
		s := c.register("ada@example.com")
		const tries = 20
		var r *response
		for i := range tries {
			r = c.post(changePath, changeBody(fmt.Sprintf("wrong password %d", i), newPassword), bearer(s.access)...)
			if r.status != http.StatusUnauthorized {
				break
			}
			wantError(t, r, http.StatusUnauthorized, "INVALID_CREDENTIALS")
		}
		wantThrottled(t, r, 15*time.Minute)
		// Throttled before the password is checked: the right one too.
		wantThrottled(t, c.post(changePath, changeBody(testPassword, newPassword), bearer(s.access)...), 15*time.Minute)
	})
}

// TestAccountStrictJSON: the contract decodes every body strictly, and a
// member of another case, or one given twice, answers 400 INVALID_INPUT
// before anything happens.
func TestAccountStrictJSON(t *testing.T) {
	t.Parallel()
	ms := newMailServer(t, nil)
	c := ms.client(t)
	s := c.register("ada@example.com")
	verify := ms.newest(t, "ada@example.com", "verify")
	reset := ms.forgot(t, c, "ada@example.com")
	for _, rt := range []struct{ path, body string }{
		{forgotPath, `{"Email": "ada@example.com"}`},
		{forgotPath, `{"email": "bob@example.com", "email": "ada@example.com"}`},
		{verifyPath, `{"Token": "` + verify.token + `"}`},
		{verifyPath, `{"token": "x", "token": "` + verify.token + `"}`},
		{resetPath, `{"token": "` + reset.token + `", "Password": "` + otherPassword + `"}`},
		{resetPath, `{"token": "` + reset.token + `", "password": "x", "password": "` + otherPassword + `"}`},
		{changePath, `{"currentPassword": "` + testPassword + `", "NewPassword": "` + otherPassword + `"}`},
		{changePath, `{"currentPassword": "` + testPassword + `", "newPassword": "x", "newPassword": "` + otherPassword + `"}`},
	} {
		wantError(t, c.post(rt.path, rt.body, bearer(s.access)...), http.StatusBadRequest, "INVALID_INPUT")
	}
	// Nothing of that happened.
	if got := len(ms.mailbox(t, "ada@example.com")); got != 2 {
		t.Errorf("mailbox holds %d messages; want 2", got)
	}
	wantVerified(t, c.get("/api/auth/me", bearer(s.access)...), false)
	wantLogin(t, ms.testServer, "ada@example.com", testPassword)
}

// TestAccountCrossOrigin: the account routes refuse cross-origin browser
// requests, and the refused ones change nothing.
func TestAccountCrossOrigin(t *testing.T) {
	t.Parallel()
	ms := newMailServer(t, nil)
	c := ms.client(t)
	s := c.register("ada@example.com")
	verify := ms.newest(t, "ada@example.com", "verify")
	reset := ms.forgot(t, c, "ada@example.com")
	before := len(ms.mailbox(t, "ada@example.com"))

	routes := []struct{ path, body string }{
		{forgotPath, jsonObject("email", "ada@example.com")},
		{resetPath, resetBody(reset.token, otherPassword)},
		{changePath, changeBody(testPassword, otherPassword)},
		{verifyPath, jsonObject("token", verify.token)},
	}
	for _, origin := range [][]string{{"Sec-Fetch-Site", "cross-site"}, {"Origin", "https://evil.example"}} {
		for _, rt := range routes {
			r := c.post(rt.path, rt.body, append(slices.Clone(origin), bearer(s.access)...)...)
			wantError(t, r, http.StatusForbidden, "CROSS_ORIGIN")
			wantNoCookie(t, r)
		}
	}

	if got := len(ms.mailbox(t, "ada@example.com")); got != before {
		t.Errorf("mailbox holds %d messages after refused requests; want %d", got, before)
	}
	r := c.post(verifyPath, jsonObject("token", verify.token), "Sec-Fetch-Site", "same-origin")
	if r.status != http.StatusOK {
		t.Errorf("%v after refused requests; want 200", r)
	}
	// Had the change gone through, it would have killed the reset link.
	wantMessage(t, c.post(resetPath, resetBody(reset.token, newPassword), "Sec-Fetch-Site", "same-origin"))
	wantLogin(t, ms.testServer, "ada@example.com", newPassword)
}

// TestAccountRouterErrors: the new routes answer another method 405 with
// Allow, in JSON.
func TestAccountRouterErrors(t *testing.T) {
	t.Parallel()
	ms := newMailServer(t, nil)
	off := newTestServer(t, nil)
	tests := []struct {
		ts           *testServer
		method, path string
		status       int
		allow        string
	}{
		{ms.testServer, http.MethodGet, forgotPath, http.StatusMethodNotAllowed, "POST"},
		{ms.testServer, http.MethodGet, resetPath, http.StatusMethodNotAllowed, "POST"},
		{ms.testServer, http.MethodGet, changePath, http.StatusMethodNotAllowed, "POST"},
		{ms.testServer, http.MethodGet, verifyPath, http.StatusMethodNotAllowed, "POST"},
		{ms.testServer, http.MethodPut, resetPath, http.StatusMethodNotAllowed, "POST"},
		{ms.testServer, http.MethodDelete, changePath, http.StatusMethodNotAllowed, "POST"},
		{ms.testServer, http.MethodPost, "/api/dev/mailbox", http.StatusMethodNotAllowed, "GET, HEAD"},
		{off, http.MethodGet, forgotPath, http.StatusMethodNotAllowed, "POST"},
		{off, http.MethodPost, "/api/dev/mailbox", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		r := tt.ts.client(t).do(tt.method, tt.path, "")
		wantError(t, r, tt.status, "")
		if got := r.header.Get("Allow"); got != tt.allow {
			t.Errorf("%s %s Allow = %q; want %q", tt.method, tt.path, got, tt.allow)
		}
	}
}

// deviceCookieOf returns the deviceToken cookie that r sets and its raw
// header, or nil.
func deviceCookieOf(tb testing.TB, r *response) (*http.Cookie, string) {
	tb.Helper()
	return namedCookie(tb, r, "deviceToken")
}

// TestDeviceCookie: a login sets the deviceToken cookie, HttpOnly, with the
// refresh cookie's path and attributes.
func TestDeviceCookie(t *testing.T) {
	t.Parallel()
	for _, secure := range []bool{false, true} {
		t.Run(fmt.Sprintf("secure %v", secure), func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"AUTH_COOKIE_SECURE": ""} // the default, true
			if !secure {
				env = nil
			}
			ts := newTestServer(t, env)
			ts.client(t).register("ada@example.com")
			r := ts.client(t).post("/api/auth/login", credentials("ada@example.com", testPassword))
			if r.status != http.StatusOK {
				t.Fatalf("%v; want 200", r)
			}
			ck, raw := deviceCookieOf(t, r)
			if ck == nil {
				t.Fatalf("%v sets no deviceToken cookie; want one", r)
			}
			refresh, refreshRaw := setCookie(t, r)
			if ck.Value == "" || (refresh != nil && ck.Value == refresh.Value) {
				t.Errorf("deviceToken cookie %q; want a token of its own", raw)
			}
			attrs := cookieAttrs(raw)
			if n, err := strconv.Atoi(attrs["Max-Age"]); err != nil || n <= 0 {
				t.Errorf("deviceToken cookie Max-Age = %q; want a positive number", attrs["Max-Age"])
			}
			delete(attrs, "Max-Age")
			want := map[string]string{"HttpOnly": "", "SameSite": "Strict", "Path": "/api/auth"}
			if secure {
				want["Secure"] = ""
			}
			if !maps.Equal(attrs, want) {
				t.Errorf("deviceToken Set-Cookie %q attributes = %v; want %v and Max-Age", raw, attrs, want)
			}
			if refresh != nil {
				ra := cookieAttrs(refreshRaw)
				delete(ra, "Max-Age")
				if !maps.Equal(attrs, ra) {
					t.Errorf("deviceToken cookie attributes %v; want the refresh cookie's %v", attrs, ra)
				}
			}
		})
	}
}

// loginBody is the body-transfer login JSON, with the device token dev
// when not empty.
func loginBody(email, pw, dev string) string {
	extra := []string{"refreshTransfer", "body"}
	if dev != "" {
		extra = append(extra, "deviceToken", dev)
	}
	return credentials(email, pw, extra...)
}

// deviceTokenOf returns the deviceToken of a body-transfer login's answer.
func deviceTokenOf(tb testing.TB, r *response) string {
	tb.Helper()
	if r.status != http.StatusOK {
		tb.Fatalf("%v; want 200", r)
	}
	wantNoCookie(tb, r)
	body := object(tb, r)
	wantKeys(tb, "login body", body, "user", "accessToken", "expiresIn", "refreshToken", "deviceToken")
	dev, _ := body["deviceToken"].(string)
	if dev == "" {
		tb.Fatalf("%v; want a deviceToken", r)
	}
	return dev
}

// TestDeviceToken: a body-transfer login returns a device token and takes
// it back in the next login's body, and a known device signs in while
// failures from elsewhere have spent the account's budget; a device token
// that is not one is no error, and no known device.
func TestDeviceToken(t *testing.T) {
	t.Parallel()

	t.Run("body transfer", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, nil)
		c := ts.client(t)
		c.register("ada@example.com")
		r := c.post("/api/auth/login", loginBody("ada@example.com", testPassword, ""))
		dev := deviceTokenOf(t, r)
		access, _ := object(t, r)["accessToken"].(string)
		if dev2 := deviceTokenOf(t, c.post("/api/auth/login", loginBody("ada@example.com", testPassword, dev))); dev2 == dev {
			t.Errorf("login with a device token returned it again; want a renewed one")
		}
		// The device token is no access token.
		wantError(t, c.get("/api/auth/me", bearer(dev)...), http.StatusUnauthorized, "")

		for name, junk := range map[string]string{
			"garbage":      "garbage",
			"access token": access,
		} {
			r := ts.client(t).post("/api/auth/login", loginBody("ada@example.com", testPassword, junk))
			if r.status != http.StatusOK {
				t.Errorf("login with a %s deviceToken = %v; want 200", name, r)
			}
		}
	})

	t.Run("known device", func(t *testing.T) {
		t.Parallel()
		const window = 15 * time.Minute
		// One failure spends the account's budget for unknown clients.
		ts := newTestServer(t, map[string]string{"AUTH_LOGIN_LIMIT": "1/15m"})
		ts.clientFrom(t, "127.0.0.78").register("ada@example.com")
		ts.clientFrom(t, "127.0.0.79").register("bob@example.com")
		dev := deviceTokenOf(t, ts.clientFrom(t, "127.0.0.80").post("/api/auth/login", loginBody("ada@example.com", testPassword, "")))
		bobDev := deviceTokenOf(t, ts.clientFrom(t, "127.0.0.81").post("/api/auth/login", loginBody("bob@example.com", testPassword, "")))
		browser := ts.clientFrom(t, "127.0.0.82")
		browser.login("ada@example.com") // the jar keeps the device cookie

		// A guess from elsewhere spends the account's budget for unknown
		// clients.
		r := ts.clientFrom(t, "127.0.0.90").post("/api/auth/login", credentials("ada@example.com", "wrong password"))
		wantError(t, r, http.StatusUnauthorized, "INVALID_CREDENTIALS")
		wantThrottled(t, ts.clientFrom(t, "127.0.0.93").post("/api/auth/login", credentials("ada@example.com", testPassword)), window)
		wantThrottled(t, ts.clientFrom(t, "127.0.0.94").post("/api/auth/login", loginBody("ada@example.com", testPassword, "garbage")), window)
		wantThrottled(t, ts.clientFrom(t, "127.0.0.95").post("/api/auth/login", loginBody("ada@example.com", testPassword, bobDev)), window)

		// The owner's devices still sign in.
		deviceTokenOf(t, ts.clientFrom(t, "127.0.0.96").post("/api/auth/login", loginBody("ada@example.com", testPassword, dev)))
		if r := browser.post("/api/auth/login", credentials("ada@example.com", testPassword)); r.status != http.StatusOK {
			t.Errorf("%v from the browser with the device cookie; want 200", r)
		}
	})
}
