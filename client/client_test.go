package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtkit/auth"
)

func TestNew(t *testing.T) {
	t.Parallel()
	jar, _ := cookiejar.New(nil)
	tests := []struct {
		name string
		url  string
		opts []Option
		want string // start of the error after "client: auth: invalid configuration: ", "" for none
	}{
		{"http", "http://127.0.0.1:8080", nil, ""},
		{"https with path", "https://id.example.com/base/", nil, ""},
		{"cookie jar", "https://id.example.com", []Option{WithCookieJar(jar)}, ""},
		{"every option", "https://id.example.com", []Option{WithHTTPClient(&http.Client{}), WithTokenStore(&MemoryStore{}),
			WithRefreshMargin(0), WithRefreshTimeout(time.Second), WithClock(time.Now)}, ""},
		{"relative", "/api", nil, "New: "},
		{"no scheme", "id.example.com", nil, "New: "},
		{"ftp", "ftp://id.example.com", nil, "New: "},
		{"no host", "https:///x", nil, "New: "},
		{"user info", "https://u:p@id.example.com", nil, "New: "},
		{"query", "https://id.example.com/?a=b", nil, "New: "},
		{"fragment", "https://id.example.com/#x", nil, "New: "},
		{"unparsable", "https://id.example.com/%zz", nil, "New: "},
		{"nil option", "https://id.example.com", []Option{nil}, "New: "},
		{"nil HTTP client", "https://id.example.com", []Option{WithHTTPClient(nil)}, "WithHTTPClient: "},
		{"nil jar", "https://id.example.com", []Option{WithCookieJar(nil)}, "WithCookieJar: "},
		{"nil store", "https://id.example.com", []Option{WithTokenStore(nil)}, "WithTokenStore: "},
		{"jar and store", "https://id.example.com", []Option{WithCookieJar(jar), WithTokenStore(&MemoryStore{})}, "WithTokenStore: "},
		{"negative margin", "https://id.example.com", []Option{WithRefreshMargin(-time.Second)}, "WithRefreshMargin: "},
		{"zero refresh timeout", "https://id.example.com", []Option{WithRefreshTimeout(0)}, "WithRefreshTimeout: "},
		{"nil clock", "https://id.example.com", []Option{WithClock(nil)}, "WithClock: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := New(tt.url, tt.opts...)
			if tt.want == "" {
				if err != nil || c == nil {
					t.Errorf("New(%q) = %v, %v; want a client", tt.url, c, err)
				}
				return
			}
			prefix := "client: " + auth.ErrConfig.Error() + ": " + tt.want
			if c != nil || !errors.Is(err, auth.ErrConfig) || !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("New(%q) = %v, %v; want an auth.ErrConfig beginning %q", tt.url, c, err, prefix)
			}
		})
	}
}

// TestNewCopiesHTTPClient: the client given is not modified, and the copy
// follows no redirect.
func TestNewCopiesHTTPClient(t *testing.T) {
	t.Parallel()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: time.Minute}
	c, err := New("https://id.example.com/base/", WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	if hc.Jar != jar || hc.CheckRedirect != nil || hc.Transport != nil {
		t.Errorf("WithHTTPClient modified the client given")
	}
	if c.hc.Jar != nil || c.hc.Timeout != time.Minute || c.hc.CheckRedirect == nil {
		t.Errorf("client copy: Jar %v, Timeout %v, CheckRedirect set %v; want nil, 1m, true", c.hc.Jar, c.hc.Timeout, c.hc.CheckRedirect != nil)
	}
	if c.base != "https://id.example.com/base" {
		t.Errorf("base = %q; want https://id.example.com/base", c.base)
	}
}

// TestSignIn: register, login and their refusals, as Errors matching the
// library's sentinels.
func TestSignIn(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ctx := context.Background()
	c := newClient(t, ts)
	u := signUp(t, c)
	if u.ID == "" || u.Email != testEmail || u.Name != "Ada" || u.Role != "user" {
		t.Errorf("Register = %+v; want the new account", u)
	}
	tok, err := c.Token(ctx)
	if err != nil || tok.AccessToken == "" || c.held() == "" {
		t.Fatalf("Token after Register = %v, %v (refresh token held: %v); want tokens", tok, err, c.held() != "")
	}

	tests := []struct {
		name       string
		call       func() (*User, error)
		wantStatus int
		wantCode   string
		wantIs     error // nil: no sentinel of package auth
	}{
		{"email taken", func() (*User, error) { return c.Register(ctx, testEmail, testPassword, "Ada") }, 409, "EMAIL_TAKEN", nil},
		{"no name", func() (*User, error) { return c.Register(ctx, "bob@example.com", testPassword, "") }, 400, "INVALID_INPUT", auth.ErrInvalidInput},
		{"short password", func() (*User, error) { return c.Register(ctx, "bob@example.com", "short", "Bob") }, 400, "INVALID_INPUT", auth.ErrInvalidInput},
		{"wrong password", func() (*User, error) { return c.Login(ctx, testEmail, "wrong password") }, 401, "INVALID_CREDENTIALS", auth.ErrInvalidCredentials},
	}
	for _, tt := range tests {
		u, err := tt.call()
		var e *Error
		if u != nil || !errors.As(err, &e) || e.StatusCode != tt.wantStatus || e.Code != tt.wantCode || e.Message == "" {
			t.Errorf("%s = %v, %v; want an *Error %d %s", tt.name, u, err, tt.wantStatus, tt.wantCode)
			continue
		}
		if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
			t.Errorf("%s = %v; want it to match %v", tt.name, err, tt.wantIs)
		}
		if tt.wantIs == nil && e.Unwrap() != nil {
			t.Errorf("%s: Unwrap = %v; want nil for a code package auth has no sentinel for", tt.name, e.Unwrap())
		}
		if errors.Is(err, ErrSignedOut) {
			t.Errorf("%s = %v; want it not to match ErrSignedOut", tt.name, err)
		}
	}
	// A refused sign-in leaves the session as it was.
	if got, err := c.Token(ctx); err != nil || got.AccessToken != tok.AccessToken {
		t.Errorf("Token after refused sign-ins = %v, %v; want the same token", got, err)
	}

	before := c.held()
	if _, err := c.Login(ctx, testEmail, testPassword); err != nil {
		t.Fatalf("Login = %v; want nil", err)
	}
	if c.held() == before {
		t.Errorf("Login kept the old session's refresh token; want a new session")
	}
}

// TestLogout: logout ends the session on the server, and the client and
// its store forget it.
func TestLogout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, all := range []bool{false, true} {
		name := map[bool]string{false: "logout", true: "logout-all"}[all]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t)
			store := &MemoryStore{}
			c := newClient(t, ts, WithTokenStore(store))
			signUp(t, c)
			refresh := c.held()
			tok, _ := c.Token(ctx)
			if all {
				if err := c.LogoutAll(ctx); err != nil {
					t.Fatalf("LogoutAll = %v; want nil", err)
				}
			} else if err := c.Logout(ctx); err != nil {
				t.Fatalf("Logout = %v; want nil", err)
			}
			if got, _ := store.Load(ctx); got != "" || c.held() != "" {
				t.Errorf("after %s: stored %q, held %q; want neither", name, got, c.held())
			}
			if _, err := c.Token(ctx); !errors.Is(err, ErrSignedOut) {
				t.Errorf("Token after %s = %v; want ErrSignedOut", name, err)
			}
			// The server refuses both tokens from now on.
			other := newClient(t, ts)
			if err := other.cfg.store.Save(ctx, refresh); err != nil {
				t.Fatal(err)
			}
			if _, err := other.Refresh(ctx); !errors.Is(err, ErrSignedOut) {
				t.Errorf("refresh with the logged-out token = %v; want ErrSignedOut", err)
			}
			req, _ := http.NewRequest(http.MethodGet, ts.URL+"/api/auth/me", nil)
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
			resp, err := ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("GET /api/auth/me with the logged-out access token = %d; want 401", resp.StatusCode)
			}
			// Once more: without a session Logout does nothing, LogoutAll
			// is ErrSignedOut.
			if err := c.Logout(ctx); err != nil {
				t.Errorf("second Logout = %v; want nil", err)
			}
			if err := c.LogoutAll(ctx); !errors.Is(err, ErrSignedOut) {
				t.Errorf("LogoutAll without a session = %v; want ErrSignedOut", err)
			}
		})
	}
}

// TestLogoutFailureKeepsTokens: a logout the server could not do leaves
// the tokens, so that it may be tried again.
func TestLogoutFailureKeepsTokens(t *testing.T) {
	t.Parallel()
	var down atomic.Bool
	ts := newTestServer(t, withWrap(func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/api/auth/logout" && down.Load() {
				auth.WriteError(w, r, auth.ErrUnavailable)
				return
			}
			h.ServeHTTP(w, r)
		})
	}))
	ctx := context.Background()
	c := newClient(t, ts)
	signUp(t, c)
	down.Store(true)
	held := c.held()
	if err := c.Logout(ctx); !errors.Is(err, auth.ErrUnavailable) {
		t.Errorf("Logout (server down) = %v; want auth.ErrUnavailable", err)
	}
	if c.held() != held || c.cur.Load() == nil {
		t.Errorf("Logout (server down) dropped the tokens; want them kept")
	}
	down.Store(false)
	if err := c.Logout(ctx); err != nil {
		t.Errorf("Logout (server back) = %v; want nil", err)
	}
}

// TestCookieJar: with a cookie jar the refresh token travels in the
// refresh cookie: sign-in and refresh set it, logout clears it.
func TestCookieJar(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ctx := context.Background()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, ts, WithCookieJar(jar))
	refreshURL, _ := url.Parse(ts.URL + "/api/auth/refresh")
	cookie := func() string {
		for _, ck := range jar.Cookies(refreshURL) {
			if ck.Name == "refreshToken" {
				return ck.Value
			}
		}
		return ""
	}
	signUp(t, c)
	first := cookie()
	if first == "" || c.held() != "" {
		t.Fatalf("after Register: cookie %q, held %q; want the token in the cookie only", first, c.held())
	}
	if _, err := c.Refresh(ctx); err != nil {
		t.Fatalf("Refresh = %v; want nil", err)
	}
	second := cookie()
	if second == "" || second == first {
		t.Errorf("cookie after Refresh = %q; want a new token (was %q)", second, first)
	}
	status, err := get(ctx, api(c, ts), ts.URL+"/api/auth/me")
	if err != nil || status != http.StatusOK {
		t.Errorf("GET /api/auth/me = %d, %v; want 200", status, err)
	}
	if err := c.Logout(ctx); err != nil {
		t.Fatalf("Logout = %v; want nil", err)
	}
	if got := cookie(); got != "" {
		t.Errorf("cookie after Logout = %q; want none", got)
	}
	if _, err := c.Refresh(ctx); !errors.Is(err, ErrSignedOut) {
		t.Errorf("Refresh after Logout = %v; want ErrSignedOut", err)
	}
	if got := ts.rotations.Load(); got != 1 {
		t.Errorf("refreshes answered 200 = %d; want 1", got)
	}
}

// TestCrossOriginProtection: the server's cross-origin protection is on
// (a browser's cross-site request is refused), and the client's
// state-changing requests, which carry neither Origin nor Sec-Fetch-Site,
// pass it.
func TestCrossOriginProtection(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ctx := context.Background()

	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/api/auth/login", strings.NewReader(`{"email":"a@example.com","password":"x"}`))
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site POST /api/auth/login = %d; want 403 CROSS_ORIGIN", resp.StatusCode)
	}
	browser := ts.browserHeaders.Load()

	c := newClient(t, ts)
	signUp(t, c)
	if _, err := c.Login(ctx, testEmail, testPassword); err != nil {
		t.Errorf("Login = %v; want nil", err)
	}
	if _, err := c.Refresh(ctx); err != nil {
		t.Errorf("Refresh = %v; want nil", err)
	}
	if err := c.Logout(ctx); err != nil {
		t.Errorf("Logout = %v; want nil", err)
	}
	signUpAgain := func() error { _, err := c.Login(ctx, testEmail, testPassword); return err }
	if err := signUpAgain(); err != nil {
		t.Fatal(err)
	}
	if err := c.LogoutAll(ctx); err != nil {
		t.Errorf("LogoutAll = %v; want nil", err)
	}
	if got := ts.browserHeaders.Load() - browser; got != 0 {
		t.Errorf("client requests with Origin or Sec-Fetch-Site = %d; want 0", got)
	}
}

// TestSignInBadAnswers: a success answer without the tokens the client
// needs is an error, and the client keeps no session from it.
func TestSignInBadAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		body    string
		cookies bool
		wantErr bool
	}{
		{"no access token", `{"expiresIn":900,"refreshToken":"r"}`, false, true},
		{"no expiresIn", `{"accessToken":"a","refreshToken":"r"}`, false, true},
		{"no refresh token in the body", `{"accessToken":"a","expiresIn":900}`, false, true},
		{"not JSON", `<html>`, false, true},
		{"body transfer", `{"accessToken":"a","expiresIn":900,"refreshToken":"r","user":{"id":"u"}}`, false, false},
		{"cookie transfer", `{"accessToken":"a","expiresIn":900,"user":{"id":"u"}}`, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, tt.body)
			}))
			t.Cleanup(srv.Close)
			opts := []Option{WithHTTPClient(srv.Client())}
			if tt.cookies {
				jar, _ := cookiejar.New(nil)
				opts = append(opts, WithCookieJar(jar))
			}
			c, err := New(srv.URL, opts...)
			if err != nil {
				t.Fatal(err)
			}
			u, err := c.Login(context.Background(), testEmail, testPassword)
			if tt.wantErr {
				if err == nil || u != nil || c.cur.Load() != nil {
					t.Errorf("Login (%s) = %v, %v; want an error and no session", tt.body, u, err)
				}
				return
			}
			if err != nil || u.ID != "u" || c.cur.Load() == nil {
				t.Errorf("Login (%s) = %v, %v; want user u and a session", tt.body, u, err)
			}
		})
	}
}

// TestLoginSendsDeviceToken: a body-transfer client sends the device token
// of its last sign-in with its next login, so that the server's throttle
// knows it (auth.Auth.Login).
func TestLoginSendsDeviceToken(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var sent, answered []string // deviceToken of each login request and answer
	ts := newTestServer(t, withWrap(func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/api/auth/login" {
				h.ServeHTTP(w, r)
				return
			}
			body, _ := io.ReadAll(r.Body)
			var in struct{ DeviceToken string }
			_ = json.Unmarshal(body, &in)
			r.Body = io.NopCloser(bytes.NewReader(body))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			var out struct{ DeviceToken string }
			_ = json.Unmarshal(rec.Body.Bytes(), &out)
			mu.Lock()
			sent, answered = append(sent, in.DeviceToken), append(answered, out.DeviceToken)
			mu.Unlock()
			maps.Copy(w.Header(), rec.Header())
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
		})
	}))
	ctx := context.Background()
	c := newClient(t, ts)
	signUp(t, c)
	for range 2 {
		if _, err := c.Login(ctx, testEmail, testPassword); err != nil {
			t.Fatalf("Login = %v; want nil", err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(sent) != 2 || sent[0] != "" || answered[0] == "" || sent[1] != answered[0] || answered[1] == "" {
		t.Errorf("logins sent device tokens %q and were answered %q; want none first, then the first answer's", sent, answered)
	}
}
