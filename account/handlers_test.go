package account_test

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/account"
)

// The routes of the account handlers, as the package doc mounts them.
const (
	forgotPath = "/api/auth/password/forgot"
	resetPath  = "/api/auth/password/reset"
	changePath = "/api/auth/password/change"
)

// serve starts a server of the env's handlers, mounted as the package doc
// mounts them, and returns its URL.
func (e *env) serve(t *testing.T) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("POST "+forgotPath, e.a.CrossOriginProtection(e.m.ForgotHandler()))
	mux.Handle("POST "+resetPath, e.a.CrossOriginProtection(e.m.ResetHandler()))
	mux.Handle("POST "+changePath, e.a.CrossOriginProtection(e.m.ChangeHandler()))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// reply is a response with its body read.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// post sends body as JSON to url, with the bearer token bearer when not
// empty.
func post(t *testing.T, url, bearer, body string) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("POST %s: reading the body: %v", url, err)
	}
	return reply{resp.StatusCode, resp.Header, b}
}

// wantError fails the test unless r is the JSON error of status and code.
func wantError(t *testing.T, call string, r reply, status int, code string) {
	t.Helper()
	var body struct{ Error, Code string }
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatalf("%s body %q: %v", call, r.body, err)
	}
	if r.status != status || body.Code != code || body.Error == "" {
		t.Errorf("%s = %d %s; want %d with code %s and a message", call, r.status, r.body, status, code)
	}
}

// wantNoStore fails the test unless r may not be cached.
func wantNoStore(t *testing.T, call string, r reply) {
	t.Helper()
	if got := r.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("%s: Cache-Control = %q; want no-store", call, got)
	}
}

// cookie returns the cookie name that r sets, or nil.
func (r reply) cookie(name string) *http.Cookie {
	resp := http.Response{Header: r.header}
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// tokensBody is the body of a token-carrying response.
type tokensBody struct {
	AccessToken  string `json:"accessToken"`
	ExpiresIn    int64  `json:"expiresIn"`
	RefreshToken string `json:"refreshToken"`
}

func TestForgotHandlerSameAnswer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	url := e.serve(t) + forgotPath
	known := post(t, url, "", `{"email":"ada@example.com"}`)
	unknown := post(t, url, "", `{"email":"nobody@example.com"}`)

	if known.status != http.StatusAccepted || unknown.status != http.StatusAccepted {
		t.Errorf("POST forgot = %d (known), %d (unknown); want 202, 202", known.status, unknown.status)
	}
	if string(known.body) != string(unknown.body) {
		t.Errorf("POST forgot bodies = %q (known), %q (unknown); want the same", known.body, unknown.body)
	}
	var body struct{ Message string }
	if err := json.Unmarshal(known.body, &body); err != nil || body.Message == "" {
		t.Errorf("POST forgot body %q (%v); want {\"message\": ...}", known.body, err)
	}
	known.header.Del("Date")
	unknown.header.Del("Date")
	if !maps.EqualFunc(known.header, unknown.header, slices.Equal) {
		t.Errorf("POST forgot headers = %v (known), %v (unknown); want the same", known.header, unknown.header)
	}
	wantNoStore(t, "POST forgot", known)
	if msgs := e.mail.sent(); len(msgs) != 1 || msgs[0].To != adaEmail {
		t.Errorf("messages = %+v; want one, to %s", msgs, adaEmail)
	}
}

func TestForgotHandlerRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, account.WithThrottle(newThrottle(t, 2)))
	url := e.serve(t) + forgotPath
	for _, tt := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"unknown member", `{"email":"ada@example.com","admin":true}`, http.StatusBadRequest, "INVALID_INPUT"},
		{"not JSON", `email=ada@example.com`, http.StatusBadRequest, "INVALID_INPUT"},
		{"trailing data", `{"email":"ada@example.com"} {}`, http.StatusBadRequest, "INVALID_INPUT"},
		{"no email", `{}`, http.StatusBadRequest, "INVALID_INPUT"},
		{"email not a string", `{"email":42}`, http.StatusBadRequest, "INVALID_INPUT"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, "POST forgot "+tt.body, post(t, url, "", tt.body), tt.status, tt.code)
		})
	}
	if n := len(e.mail.sent()); n != 0 {
		t.Errorf("messages = %d; want 0", n)
	}
	t.Run("throttled", func(t *testing.T) {
		for range 2 {
			if r := post(t, url, "", `{"email":"nobody@example.com"}`); r.status != http.StatusAccepted {
				t.Fatalf("POST forgot = %d %s; want 202", r.status, r.body)
			}
		}
		r := post(t, url, "", `{"email":"nobody@example.com"}`)
		wantError(t, "POST forgot, third time", r, http.StatusTooManyRequests, "TOO_MANY_ATTEMPTS")
		if r.header.Get("Retry-After") == "" {
			t.Error("POST forgot throttled: no Retry-After")
		}
	})
	t.Run("cross origin", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"email":"ada@example.com"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("cross-site POST forgot = %d; want 403", resp.StatusCode)
		}
	})
}

func TestResetHandler(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	url := e.serve(t) + resetPath
	tok := e.resetToken(t, adaEmail)
	body := func(token, pw string) string {
		b, err := json.Marshal(map[string]string{"token": token, "password": pw})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	wantError(t, "POST reset (short password)", post(t, url, "", body(tok, "short")), http.StatusBadRequest, "INVALID_INPUT")
	wantError(t, "POST reset (unknown member)", post(t, url, "", `{"token":"x","password":"long enough","x":1}`), http.StatusBadRequest, "INVALID_INPUT")

	r := post(t, url, "", body(tok, newPassword))
	if r.status != http.StatusOK {
		t.Fatalf("POST reset = %d %s; want 200", r.status, r.body)
	}
	var msg struct{ Message string }
	if err := json.Unmarshal(r.body, &msg); err != nil || msg.Message == "" {
		t.Errorf("POST reset body %q (%v); want {\"message\": ...}", r.body, err)
	}
	wantNoStore(t, "POST reset", r)
	if e.passwordKept() {
		t.Error("POST reset did not replace the password")
	}

	wantError(t, "POST reset (used token)", post(t, url, "", body(tok, "another password")), http.StatusBadRequest, "INVALID_RESET_TOKEN")
	wantError(t, "POST reset (malformed token)", post(t, url, "", body("not-a-token", newPassword)), http.StatusBadRequest, "INVALID_RESET_TOKEN")
}

func TestChangeHandler(t *testing.T) {
	t.Parallel()
	const change = `{"currentPassword":"correct horse battery","newPassword":"staple battery horse"`
	t.Run("no bearer", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		r := post(t, e.serve(t)+changePath, "", change+`}`)
		if r.status != http.StatusUnauthorized {
			t.Errorf("POST change without a bearer token = %d %s; want 401", r.status, r.body)
		}
		if !e.passwordKept() {
			t.Error("POST change without a bearer token changed the password")
		}
	})
	t.Run("body transfer", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		url := e.serve(t) + changePath
		old := e.startSession(t)
		r := post(t, url, old.Access.Token, change+`,"refreshTransfer":"body"}`)
		if r.status != http.StatusOK {
			t.Fatalf("POST change = %d %s; want 200", r.status, r.body)
		}
		wantNoStore(t, "POST change", r)
		var body tokensBody
		if err := json.Unmarshal(r.body, &body); err != nil {
			t.Fatalf("POST change body %q: %v", r.body, err)
		}
		if body.AccessToken == "" || body.ExpiresIn <= 0 || body.RefreshToken == "" {
			t.Errorf("POST change body = %s; want accessToken, expiresIn and refreshToken", r.body)
		}
		if c := r.cookie("refreshToken"); c != nil {
			t.Errorf("POST change with body transfer set the cookie %v; want none", c)
		}
		ctx := context.Background()
		if _, err := e.a.Verify(ctx, body.AccessToken); err != nil {
			t.Errorf("Verify(accessToken of POST change) = %v; want nil", err)
		}
		if _, err := e.a.Refresh(ctx, body.RefreshToken, auth.Client{}); err != nil {
			t.Errorf("Refresh(refreshToken of POST change) = %v; want nil", err)
		}
		_, err := e.a.Refresh(ctx, old.RefreshToken, auth.Client{})
		wantErr(t, "Refresh(refresh token from before POST change)", err, auth.ErrInvalidRefreshToken)
		if e.passwordKept() {
			t.Error("POST change did not replace the password")
		}
		r = post(t, url, old.Access.Token, `{"currentPassword":"staple battery horse","newPassword":"a third password"}`)
		wantError(t, "POST change with the bearer of before the change", r, http.StatusUnauthorized, "TOKEN_REVOKED")
	})
	t.Run("cookie transfer", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		r := post(t, e.serve(t)+changePath, e.startSession(t).Access.Token, change+`}`)
		if r.status != http.StatusOK {
			t.Fatalf("POST change = %d %s; want 200", r.status, r.body)
		}
		wantNoStore(t, "POST change", r)
		c := r.cookie("refreshToken")
		if c == nil || c.Value == "" || !c.HttpOnly {
			t.Fatalf("POST change cookie refreshToken = %v; want an HttpOnly cookie with the token", c)
		}
		var body map[string]any
		if err := json.Unmarshal(r.body, &body); err != nil {
			t.Fatalf("POST change body %q: %v", r.body, err)
		}
		if _, ok := body["refreshToken"]; ok || body["accessToken"] == "" || body["accessToken"] == nil {
			t.Errorf("POST change body = %s; want accessToken and no refreshToken", r.body)
		}
		if _, err := e.a.Refresh(context.Background(), c.Value, auth.Client{}); err != nil {
			t.Errorf("Refresh(cookie of POST change) = %v; want nil", err)
		}
	})
	t.Run("refusals", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		url := e.serve(t) + changePath
		bearer := e.startSession(t).Access.Token
		for _, tt := range []struct {
			name, body string
			status     int
			code       string
		}{
			{"wrong current", `{"currentPassword":"wrong horse battery","newPassword":"staple battery horse"}`, http.StatusUnauthorized, "INVALID_CREDENTIALS"},
			{"short new", `{"currentPassword":"correct horse battery","newPassword":"short"}`, http.StatusBadRequest, "INVALID_INPUT"},
			{"bad transfer", change + `,"refreshTransfer":"header"}`, http.StatusBadRequest, "INVALID_INPUT"},
			{"unknown member", change + `,"role":"admin"}`, http.StatusBadRequest, "INVALID_INPUT"},
		} {
			wantError(t, "POST change ("+tt.name+")", post(t, url, bearer, tt.body), tt.status, tt.code)
		}
		if !e.passwordKept() {
			t.Error("a refused POST change changed the password")
		}
	})
}
