package auth

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// mwNow is the fixed instant tests issue and verify at.
var mwNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// mwSecret is a 32-byte HS256 secret for tests.
var mwSecret = []byte("0123456789abcdef0123456789abcdef")

// newMWAuth returns an HS256 Auth with a clock the test controls.
func newMWAuth(t testing.TB, now *time.Time, opts ...Option) *Auth {
	t.Helper()
	key, err := NewHMACKey(HS256, mwSecret)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := NewKeySet(key)
	if err != nil {
		t.Fatal(err)
	}
	base := []Option{WithKeys(ks), WithIssuer("https://issuer.test"), WithAudience("api"), WithClock(func() time.Time { return *now })}
	a, err := New(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func mwIssue(t testing.TB, a *Auth, c Claims) string {
	t.Helper()
	at, err := a.Issue(context.Background(), c)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	return at.Token
}

// mwErrorBody is the JSON error shape.
type mwErrorBody struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// serve runs one request through h and returns the recorder.
func mwServe(h http.Handler, mutate func(*http.Request)) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "/api/thing", nil)
	if mutate != nil {
		mutate(r)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func mwBearer(tok string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}

// mwEcho answers 200 with the subject and role it finds in the context,
// or 299 when there are none.
var mwEcho = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	c, ok := ClaimsFromContext(r.Context())
	if !ok {
		w.WriteHeader(299)
		return
	}
	_, _ = w.Write([]byte(c.Subject + "|" + c.Role))
})

func mwDecodeError(t *testing.T, w *httptest.ResponseRecorder) mwErrorBody {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q; want application/json", ct)
	}
	var b mwErrorBody
	if err := json.Unmarshal(w.Body.Bytes(), &b); err != nil {
		t.Fatalf("error body %q: %v", w.Body.String(), err)
	}
	if b.Error == "" {
		t.Errorf("error body %q has no human message", w.Body.String())
	}
	return b
}

func TestRequire(t *testing.T) {
	t.Parallel()
	now := mwNow
	a := newMWAuth(t, &now, WithAccessTTL(time.Minute))
	valid := mwIssue(t, a, Claims{Subject: "u1", Role: "user"})
	now = mwNow.Add(-2 * time.Minute)
	expired := mwIssue(t, a, Claims{Subject: "u1", Role: "user"})
	now = mwNow
	tampered := valid[:len(valid)-2] + "AA"
	if tampered == valid {
		tampered = valid[:len(valid)-2] + "BB"
	}
	tests := []struct {
		name     string
		req      func(*http.Request)
		status   int
		code     string
		wwwAuth  string
		wantBody string
	}{
		{"valid", mwBearer(valid), 200, "", "", "u1|user"},
		{"scheme lower case", func(r *http.Request) { r.Header.Set("Authorization", "bearer "+valid) }, 200, "", "", "u1|user"},
		{"scheme upper case", func(r *http.Request) { r.Header.Set("Authorization", "BEARER  "+valid) }, 200, "", "", "u1|user"},
		{"no header", nil, 401, CodeNoToken, "Bearer", ""},
		{"basic scheme", func(r *http.Request) { r.Header.Set("Authorization", "Basic dXNlcjpwYXNz") }, 401, CodeNoToken, "Bearer", ""},
		{"query string never read", func(r *http.Request) { r.URL.RawQuery = "access_token=" + valid }, 401, CodeNoToken, "Bearer", ""},
		{"cookie not read by default", func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "access", Value: valid}) }, 401, CodeNoToken, "Bearer", ""},
		{"empty bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer ") }, 401, CodeInvalidToken, `Bearer error="invalid_token"`, ""},
		{"bare scheme", func(r *http.Request) { r.Header.Set("Authorization", "Bearer") }, 401, CodeInvalidToken, `Bearer error="invalid_token"`, ""},
		{"two headers", func(r *http.Request) {
			r.Header.Add("Authorization", "Bearer "+valid)
			r.Header.Add("Authorization", "Bearer "+valid)
		}, 401, CodeInvalidToken, `Bearer error="invalid_token"`, ""},
		{"tampered", mwBearer(tampered), 401, CodeInvalidToken, `Bearer error="invalid_token"`, ""},
		{"garbage", mwBearer("not-a-token"), 401, CodeInvalidToken, `Bearer error="invalid_token"`, ""},
		{"expired", mwBearer(expired), 401, CodeTokenExpired, `Bearer error="invalid_token", error_description="the access token expired"`, ""},
	}
	h := a.Require(mwEcho)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := mwServe(h, tt.req)
			if w.Code != tt.status {
				t.Fatalf("status = %d; want %d (body %s)", w.Code, tt.status, w.Body)
			}
			if tt.status == 200 {
				if got := w.Body.String(); got != tt.wantBody {
					t.Errorf("body = %q; want %q", got, tt.wantBody)
				}
				return
			}
			b := mwDecodeError(t, w)
			if b.Code != tt.code {
				t.Errorf("code = %q; want %q", b.Code, tt.code)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tt.wwwAuth {
				t.Errorf("WWW-Authenticate = %q; want %q", got, tt.wwwAuth)
			}
			if strings.Contains(w.Body.String(), valid[:20]) || strings.Contains(w.Body.String(), "eyJ") {
				t.Errorf("body %q echoes a token", w.Body)
			}
		})
	}
}

func TestRequireRevocation(t *testing.T) {
	t.Parallel()
	now := mwNow
	storeDown := errors.New("store down")
	var denied string
	a := newMWAuth(t, &now, WithRevocation(RevocationFunc(func(_ context.Context, c *Claims) (bool, error) {
		switch c.Subject {
		case "down":
			return false, storeDown
		case "revoked":
			return true, nil
		}
		return c.ID == denied, nil
	})))
	h := a.Require(mwEcho)

	ok := mwIssue(t, a, Claims{Subject: "u1"})
	if w := mwServe(h, mwBearer(ok)); w.Code != 200 {
		t.Fatalf("valid token: status %d; want 200", w.Code)
	}
	at, _ := a.Issue(context.Background(), Claims{Subject: "u2"})
	denied = at.Claims.ID
	w := mwServe(h, mwBearer(at.Token))
	if w.Code != 401 || mwDecodeError(t, w).Code != CodeTokenRevoked {
		t.Errorf("denied jti: status %d body %s; want 401 TOKEN_REVOKED", w.Code, w.Body)
	}
	w = mwServe(h, mwBearer(mwIssue(t, a, Claims{Subject: "revoked"})))
	if w.Code != 401 || mwDecodeError(t, w).Code != CodeTokenRevoked {
		t.Errorf("revoked user: status %d body %s; want 401 TOKEN_REVOKED", w.Code, w.Body)
	}
	w = mwServe(h, mwBearer(mwIssue(t, a, Claims{Subject: "down"})))
	if w.Code != 503 || mwDecodeError(t, w).Code != CodeUnavailable {
		t.Errorf("store down: status %d body %s; want 503 UNAVAILABLE", w.Code, w.Body)
	}
	if w.Header().Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	if w.Header().Get("WWW-Authenticate") != "" {
		t.Error("503 must not challenge the client as if its token were bad")
	}
}

func TestOptional(t *testing.T) {
	t.Parallel()
	now := mwNow
	a := newMWAuth(t, &now)
	h := a.Optional(mwEcho)
	if w := mwServe(h, nil); w.Code != 299 {
		t.Errorf("anonymous: status %d; want the handler without claims (299)", w.Code)
	}
	if w := mwServe(h, mwBearer(mwIssue(t, a, Claims{Subject: "u1", Role: "user"}))); w.Code != 200 || w.Body.String() != "u1|user" {
		t.Errorf("valid: status %d body %q; want 200 u1|user", w.Code, w.Body)
	}
	if w := mwServe(h, mwBearer("x.y.z")); w.Code != 401 {
		t.Errorf("invalid token sent: status %d; want 401", w.Code)
	}
}

func TestCookieSource(t *testing.T) {
	t.Parallel()
	now := mwNow
	a := newMWAuth(t, &now, WithCookie("access"))
	h := a.Require(mwEcho)
	tok := mwIssue(t, a, Claims{Subject: "cookie"})
	other := mwIssue(t, a, Claims{Subject: "header"})
	w := mwServe(h, func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "access", Value: tok}) })
	if w.Code != 200 || w.Body.String() != "cookie|" {
		t.Errorf("cookie: status %d body %q; want 200 cookie|", w.Code, w.Body)
	}
	w = mwServe(h, func(r *http.Request) {
		r.AddCookie(&http.Cookie{Name: "access", Value: tok})
		r.Header.Set("Authorization", "Bearer "+other)
	})
	if w.Body.String() != "header|" {
		t.Errorf("header and cookie: body %q; want the header's token to win", w.Body)
	}
	w = mwServe(h, func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "other", Value: tok}) })
	if w.Code != 401 {
		t.Errorf("another cookie: status %d; want 401", w.Code)
	}
}

func TestRequireRoleAndScope(t *testing.T) {
	t.Parallel()
	now := mwNow
	a := newMWAuth(t, &now)
	user := mwIssue(t, a, Claims{Subject: "u", Role: "user", Scope: "posts:read posts:write"})
	admin := mwIssue(t, a, Claims{Subject: "a", Role: "admin", Scope: "posts:read"})
	norole := mwIssue(t, a, Claims{Subject: "n"})
	tests := []struct {
		name   string
		h      http.Handler
		tok    string
		status int
		code   string
	}{
		{"role any of: user", a.RequireRole("user", "admin")(mwEcho), user, 200, ""},
		{"role any of: admin", a.RequireRole("user", "admin")(mwEcho), admin, 200, ""},
		{"role missing", a.RequireRole("admin")(mwEcho), user, 403, CodeInsufficientRole},
		{"no role claim", a.RequireRole("user")(mwEcho), norole, 403, CodeInsufficientRole},
		{"empty role list refuses", a.RequireRole()(mwEcho), admin, 403, CodeInsufficientRole},
		{"role without token", a.RequireRole("user")(mwEcho), "", 401, CodeNoToken},
		{"role inside Require", a.Require(a.RequireRole("admin")(mwEcho)), admin, 200, ""},
		{"role inside Optional, anonymous", a.Optional(a.RequireRole("admin")(mwEcho)), "", 401, CodeNoToken},
		{"scope all of", a.RequireScope("posts:read", "posts:write")(mwEcho), user, 200, ""},
		{"scope one missing", a.RequireScope("posts:read", "posts:write")(mwEcho), admin, 403, CodeInsufficientScope},
		{"scope prefix is not a scope", a.RequireScope("posts")(mwEcho), user, 403, CodeInsufficientScope},
		{"empty scope list refuses", a.RequireScope()(mwEcho), user, 403, CodeInsufficientScope},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req func(*http.Request)
			if tt.tok != "" {
				req = mwBearer(tt.tok)
			}
			w := mwServe(tt.h, req)
			if w.Code != tt.status {
				t.Fatalf("status = %d; want %d (body %s)", w.Code, tt.status, w.Body)
			}
			if tt.status != 200 {
				if got := mwDecodeError(t, w).Code; got != tt.code {
					t.Errorf("code = %q; want %q", got, tt.code)
				}
			}
			if tt.status == 403 && !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), `Bearer error="insufficient_scope"`) {
				t.Errorf("403 WWW-Authenticate = %q", w.Header().Get("WWW-Authenticate"))
			}
		})
	}
}

func TestErrorHandler(t *testing.T) {
	t.Parallel()
	now := mwNow
	var got error
	a := newMWAuth(t, &now, WithAccessTTL(time.Minute), WithErrorHandler(func(w http.ResponseWriter, _ *http.Request, err error) {
		got = err
		w.WriteHeader(418)
	}))
	tok := mwIssue(t, a, Claims{Subject: "u"})
	now = now.Add(time.Hour)
	w := mwServe(a.Require(mwEcho), mwBearer(tok))
	if w.Code != 418 {
		t.Fatalf("status = %d; want the handler's 418", w.Code)
	}
	if !errors.Is(got, ErrTokenExpired) || !errors.Is(got, ErrInvalidToken) {
		t.Errorf("handler got %v; want ErrTokenExpired (an ErrInvalidToken)", got)
	}
	mwServe(a.RequireRole("admin")(mwEcho), nil)
	if !errors.Is(got, ErrNoToken) {
		t.Errorf("handler got %v; want ErrNoToken", got)
	}
}

func TestServeMuxIntegration(t *testing.T) {
	t.Parallel()
	now := mwNow
	a := newMWAuth(t, &now)
	mux := http.NewServeMux()
	mux.Handle("GET /api/items/{id}", a.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := ClaimsFromContext(r.Context())
		_, _ = w.Write([]byte(c.Subject + ":" + r.PathValue("id")))
	})))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/items/42", nil)
	req.Header.Set("Authorization", "Bearer "+mwIssue(t, a, Claims{Subject: "u7"}))
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(body) != "u7:42" {
		t.Errorf("GET = %d %q; want 200 u7:42", resp.StatusCode, body)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	key, _ := NewHMACKey(HS256, mwSecret)
	ks, _ := NewKeySet(key)
	ok := []Option{WithKeys(ks), WithIssuer("iss"), WithAudience("aud")}
	tests := []struct {
		name string
		opts []Option
	}{
		{"no keys", []Option{WithIssuer("iss"), WithAudience("aud")}},
		{"empty issuer", append(ok[:1:1], WithAudience("aud"))},
		{"empty audience", append(ok[:1:1], WithIssuer("iss"))},
		{"issuer set empty", append(ok[:3:3], WithIssuer(""))},
		{"zero ttl", append(ok[:3:3], WithAccessTTL(0))},
		{"negative ttl", append(ok[:3:3], WithAccessTTL(-time.Second))},
		{"ttl too long", append(ok[:3:3], WithAccessTTL(25*time.Hour))},
		{"negative leeway", append(ok[:3:3], WithLeeway(-time.Second))},
		{"leeway over 5m", append(ok[:3:3], WithLeeway(5*time.Minute+time.Second))},
		{"tiny size cap", append(ok[:3:3], WithMaxTokenSize(10))},
		{"huge size cap", append(ok[:3:3], WithMaxTokenSize(1<<20))},
		{"nil clock", append(ok[:3:3], WithClock(nil))},
		{"nil error handler", append(ok[:3:3], WithErrorHandler(nil))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := New(tt.opts...)
			if !errors.Is(err, ErrConfig) || a != nil {
				t.Errorf("New = %v, %v; want nil, ErrConfig", a, err)
			}
		})
	}
	if _, err := New(ok...); err != nil {
		t.Errorf("New(valid) = %v", err)
	}
	if _, err := New(append(ok[:3:3], WithLeeway(5*time.Minute))...); err != nil {
		t.Errorf("New(leeway 5m) = %v; want ok", err)
	}
}

func TestVerifyOnlyCannotIssue(t *testing.T) {
	t.Parallel()
	key, _ := GenerateKey(nil, EdDSA)
	vs, err := NewVerifyKeySet(key)
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(WithKeySource(vs), WithIssuer("iss"), WithAudience("aud"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Issue(context.Background(), Claims{Subject: "u"}); !errors.Is(err, ErrNoSigningKey) {
		t.Errorf("Issue on a verify-only Auth = %v; want ErrNoSigningKey", err)
	}
	signer, _ := NewKeySet(key)
	sa, _ := New(WithKeys(signer), WithIssuer("iss"), WithAudience("aud"))
	at, _ := sa.Issue(context.Background(), Claims{Subject: "u"})
	if _, err := a.Verify(context.Background(), at.Token); err != nil {
		t.Errorf("verify-only Verify = %v; want nil", err)
	}
}

func TestErrorCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err    error
		status int
		code   string
	}{
		{ErrNoToken, 401, CodeNoToken},
		{ErrTokenExpired, 401, CodeTokenExpired},
		{ErrTokenRevoked, 401, CodeTokenRevoked},
		{ErrTokenSignature, 401, CodeInvalidToken},
		{ErrTokenMalformed, 401, CodeInvalidToken},
		{ErrInsufficientRole, 403, CodeInsufficientRole},
		{ErrInsufficientScope, 403, CodeInsufficientScope},
		{ErrUnavailable, 503, CodeUnavailable},
		{errors.New("boom"), 500, CodeInternal},
	}
	for _, tt := range tests {
		if s, c := ErrorStatus(tt.err), ErrorCode(tt.err); s != tt.status || c != tt.code {
			t.Errorf("ErrorStatus/ErrorCode(%v) = %d, %q; want %d, %q", tt.err, s, c, tt.status, tt.code)
		}
	}
}
