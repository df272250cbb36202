package auth

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtkit/auth/password"
)

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
		{"no header", nil, 401, codeNoToken, "Bearer", ""},
		{"basic scheme", func(r *http.Request) { r.Header.Set("Authorization", "Basic dXNlcjpwYXNz") }, 401, codeNoToken, "Bearer", ""},
		{"query string never read", func(r *http.Request) { r.URL.RawQuery = "access_token=" + valid }, 401, codeNoToken, "Bearer", ""},
		{"cookie not read by default", func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "access", Value: valid}) }, 401, codeNoToken, "Bearer", ""},
		{"empty bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer ") }, 401, codeInvalidToken, `Bearer error="invalid_token"`, ""},
		{"bare scheme", func(r *http.Request) { r.Header.Set("Authorization", "Bearer") }, 401, codeInvalidToken, `Bearer error="invalid_token"`, ""},
		{"two headers", func(r *http.Request) {
			r.Header.Add("Authorization", "Bearer "+valid)
			r.Header.Add("Authorization", "Bearer "+valid)
		}, 401, codeInvalidToken, `Bearer error="invalid_token"`, ""},
		{"tampered", mwBearer(tampered), 401, codeInvalidToken, `Bearer error="invalid_token"`, ""},
		{"garbage", mwBearer("not-a-token"), 401, codeInvalidToken, `Bearer error="invalid_token"`, ""},
		{"expired", mwBearer(expired), 401, codeTokenExpired, `Bearer error="invalid_token", error_description="the access token expired"`, ""},
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
	a := newMWAuth(t, &now, WithRevocation(revocationFunc(func(_ context.Context, c *Claims) (bool, error) {
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
	if w.Code != 401 || mwDecodeError(t, w).Code != codeTokenRevoked {
		t.Errorf("denied jti: status %d body %s; want 401 TOKEN_REVOKED", w.Code, w.Body)
	}
	w = mwServe(h, mwBearer(mwIssue(t, a, Claims{Subject: "revoked"})))
	if w.Code != 401 || mwDecodeError(t, w).Code != codeTokenRevoked {
		t.Errorf("revoked user: status %d body %s; want 401 TOKEN_REVOKED", w.Code, w.Body)
	}
	w = mwServe(h, mwBearer(mwIssue(t, a, Claims{Subject: "down"})))
	if w.Code != 503 || mwDecodeError(t, w).Code != codeUnavailable {
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
	a := newMWAuth(t, &now, WithAccessCookie("access"))
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
		{"role missing", a.RequireRole("admin")(mwEcho), user, 403, codeInsufficientRole},
		{"no role claim", a.RequireRole("user")(mwEcho), norole, 403, codeInsufficientRole},
		{"empty role list refuses", a.RequireRole()(mwEcho), admin, 403, codeInsufficientRole},
		{"role without token", a.RequireRole("user")(mwEcho), "", 401, codeNoToken},
		{"role inside Require", a.Require(a.RequireRole("admin")(mwEcho)), admin, 200, ""},
		{"role inside Optional, anonymous", a.Optional(a.RequireRole("admin")(mwEcho)), "", 401, codeNoToken},
		{"scope all of", a.RequireScope("posts:read", "posts:write")(mwEcho), user, 200, ""},
		{"scope one missing", a.RequireScope("posts:read", "posts:write")(mwEcho), admin, 403, codeInsufficientScope},
		{"scope prefix is not a scope", a.RequireScope("posts")(mwEcho), user, 403, codeInsufficientScope},
		{"empty scope list refuses", a.RequireScope()(mwEcho), user, 403, codeInsufficientScope},
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
	with := func(o ...Option) []Option { return append(ok[:3:3], o...) }
	tests := []struct {
		name   string
		opts   []Option
		option string // named in the error
	}{
		{"no keys", []Option{WithIssuer("iss"), WithAudience("aud")}, "WithKeys"},
		{"no issuer", append(ok[:1:1], WithAudience("aud")), "WithIssuer"},
		{"no audience", append(ok[:1:1], WithIssuer("iss")), "WithAudience"},
		{"issuer set empty", with(WithIssuer("")), "WithIssuer"},
		{"audience set empty", with(WithAudience("")), "WithAudience"},
		{"nil key set", with(WithKeys(nil)), "WithKeys"},
		{"nil key source", with(WithKeySource(nil)), "WithKeySource"},
		{"keys twice", with(WithKeys(ks)), "WithKeys"},
		{"keys and a key source", with(WithKeySource(ks)), "WithKeySource"},
		{"zero ttl", with(WithAccessTTL(0)), "WithAccessTTL"},
		{"negative ttl", with(WithAccessTTL(-time.Second)), "WithAccessTTL"},
		{"ttl too long", with(WithAccessTTL(25 * time.Hour)), "WithAccessTTL"},
		{"negative leeway", with(WithLeeway(-time.Second)), "WithLeeway"},
		{"leeway over 5m", with(WithLeeway(5*time.Minute + time.Second)), "WithLeeway"},
		{"tiny size cap", with(WithMaxTokenSize(10)), "WithMaxTokenSize"},
		{"huge size cap", with(WithMaxTokenSize(1 << 20)), "WithMaxTokenSize"},
		{"nil clock", with(WithClock(nil)), "WithClock"},
		{"nil random", with(WithRandom(nil)), "WithRandom"},
		{"nil error handler", with(WithErrorHandler(nil)), "WithErrorHandler"},
		{"nil revocation", with(WithRevocation(nil)), "WithRevocation"},
		{"nil refresh store", with(WithRefreshStore(nil)), "WithRefreshStore"},
		{"zero refresh ttl", with(WithRefreshTTL(0)), "WithRefreshTTL"},
		{"refresh ttl over the session's", with(WithSessionTTL(time.Hour), WithRefreshTTL(2*time.Hour)), "WithRefreshTTL"},
		{"zero session ttl", with(WithSessionTTL(0)), "WithSessionTTL"},
		{"negative reuse grace", with(WithReuseGrace(-time.Second)), "WithReuseGrace"},
		{"reuse grace over 5m", with(WithReuseGrace(6 * time.Minute)), "WithReuseGrace"},
		{"nil claims loader", with(WithClaimsLoader(nil)), "WithClaimsLoader"},
		{"nil events", with(WithEvents(nil)), "WithEvents"},
		{"empty access cookie", with(WithAccessCookie("")), "WithAccessCookie"},
		{"access cookie with a space", with(WithAccessCookie("a b")), "WithAccessCookie"},
		{"nil logger", with(WithLogger(nil)), "WithLogger"},
		{"nil passwords", with(WithPasswords(nil)), "WithPasswords"},
		{"typed nil passwords", with(WithPasswords((*password.Bcrypt)(nil))), "WithPasswords"},
		{"nil credentials", with(WithCredentials(nil)), "WithCredentials"},
		{"nil login throttle", with(WithLoginThrottle(nil)), "WithLoginThrottle"},
		{"invalid proxy prefix", with(WithTrustedProxies(netip.Prefix{})), "WithTrustedProxies"},
		{"refresh cookie name", with(WithRefreshCookie(CookieConfig{Name: "a;b"})), "WithRefreshCookie"},
		{"refresh cookie path", with(WithRefreshCookie(CookieConfig{Path: "api"})), "WithRefreshCookie"},
		{"SameSite=None without Secure", with(WithRefreshCookie(CookieConfig{SameSite: http.SameSiteNoneMode, Insecure: true})), "WithRefreshCookie"},
		{"bad trusted origin", with(WithTrustedOrigins("not a url")), "WithTrustedOrigins"},
		{"nil option", with(nil), "option 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := New(tt.opts...)
			if !errors.Is(err, ErrConfig) || a != nil || !strings.Contains(err.Error(), tt.option) {
				t.Errorf("New = %v, %v; want nil and an ErrConfig naming %s", a, err, tt.option)
			}
		})
	}
	for name, opts := range map[string][]Option{
		"valid":                 ok,
		"leeway 5m":             with(WithLeeway(5 * time.Minute)),
		"ttl of a millisecond":  with(WithAccessTTL(time.Millisecond)),
		"ttl 24h":               with(WithAccessTTL(24 * time.Hour)),
		"refresh ttl = session": with(WithSessionTTL(time.Hour), WithRefreshTTL(time.Hour)),
		"zero cookie config":    with(WithRefreshCookie(CookieConfig{})),
	} {
		if _, err := New(opts...); err != nil {
			t.Errorf("New(%s) = %v; want ok", name, err)
		}
	}
}

// TestRefreshHandlerNeedsClaimsLoader: the handler that every refresh goes
// through is refused when it is built, not at the first request.
func TestRefreshHandlerNeedsClaimsLoader(t *testing.T) {
	t.Parallel()
	now := mwNow
	a := newMWAuth(t, &now)
	if h, err := a.RefreshHandler(); !errors.Is(err, ErrConfig) || h != nil || !strings.Contains(err.Error(), "WithClaimsLoader") {
		t.Errorf("RefreshHandler() without a loader = %v, %v; want nil and an ErrConfig naming WithClaimsLoader", h, err)
	}
	if _, err := a.Refresh(context.Background(), "whatever", Client{}); !errors.Is(err, ErrConfig) {
		t.Errorf("Refresh without a loader = %v; want ErrConfig", err)
	}
	if _, err := a.Login(context.Background(), "ada@example.com", "correct horse", Client{}); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "WithCredentials") {
		t.Errorf("Login without credentials = %v; want an ErrConfig naming WithCredentials", err)
	}
}

// TestIssueLifetimeExact: exp on the wire is exactly iat plus the lifetime,
// whatever the fraction of a second the token was issued at; a lifetime
// under a second lives one.
func TestIssueLifetimeExact(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		ttl, frac time.Duration
		want      int64
	}{
		{60 * time.Second, 0, 60},
		{60 * time.Second, 700 * time.Millisecond, 60},
		{60 * time.Second, 999999 * time.Microsecond, 60},
		{15 * time.Minute, 300 * time.Millisecond, 900},
		{1500 * time.Millisecond, 100 * time.Millisecond, 2},
		{time.Millisecond, 900 * time.Millisecond, 1},
	} {
		now := mwNow.Add(tt.frac)
		a := newMWAuth(t, &now, WithAccessTTL(tt.ttl))
		at, err := a.Issue(context.Background(), Claims{Subject: "u"})
		if err != nil {
			t.Fatal(err)
		}
		var wire struct{ Iat, Exp int64 }
		if err := json.Unmarshal(at.Claims.raw, &wire); err != nil {
			t.Fatal(err)
		}
		if got := wire.Exp - wire.Iat; got != tt.want || at.ExpiresIn != time.Duration(tt.want)*time.Second {
			t.Errorf("Issue with ttl %v at +%v: exp - iat = %d, ExpiresIn %v; want %d", tt.ttl, tt.frac, got, at.ExpiresIn, tt.want)
		}
		if _, err := a.Verify(context.Background(), at.Token); err != nil {
			t.Errorf("Verify(fresh token, ttl %v at +%v) = %v", tt.ttl, tt.frac, err)
		}
	}
}

func TestVerifyOnlyCannotIssue(t *testing.T) {
	t.Parallel()
	key, _ := GenerateKey(nil, EdDSA)
	vs, err := NewKeySet(nil, key)
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(WithKeySource(vs), WithIssuer("iss"), WithAudience("aud"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Issue(context.Background(), Claims{Subject: "u"}); !errors.Is(err, errNoSigningKey) {
		t.Errorf("Issue on a verify-only Auth = %v; want errNoSigningKey", err)
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
		{ErrNoToken, 401, codeNoToken},
		{ErrTokenExpired, 401, codeTokenExpired},
		{ErrTokenRevoked, 401, codeTokenRevoked},
		{ErrTokenSignature, 401, codeInvalidToken},
		{ErrTokenMalformed, 401, codeInvalidToken},
		{ErrInsufficientRole, 403, codeInsufficientRole},
		{ErrInsufficientScope, 403, codeInsufficientScope},
		{ErrUnavailable, 503, codeUnavailable},
		{errors.New("boom"), 500, codeInternal},
	}
	for _, tt := range tests {
		if s, c := ErrorStatus(tt.err), ErrorCode(tt.err); s != tt.status || c != tt.code {
			t.Errorf("ErrorStatus/ErrorCode(%v) = %d, %q; want %d, %q", tt.err, s, c, tt.status, tt.code)
		}
	}
}

// TestObserver: the observer sees each Verify, Login and Refresh once,
// with its outcome.
func TestObserver(t *testing.T) {
	t.Parallel()
	type seen struct {
		op  string
		err error
	}
	type ctxKey struct{}
	var mu sync.Mutex
	var got []seen
	observer := WithObserver(func(ctx context.Context, op string) (context.Context, func(error)) {
		return context.WithValue(ctx, ctxKey{}, op), func(err error) {
			mu.Lock()
			got = append(got, seen{op, err})
			mu.Unlock()
		}
	})
	e, _ := newLoginEnv(t, password.MinCost, observer)
	ctx := context.Background()
	tok, err := e.a.Login(ctx, "ada@example.com", "correct horse", Client{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.a.Verify(ctx, tok.Access.Token); err != nil {
		t.Fatal(err)
	}
	if _, err := e.a.Verify(ctx, "garbage"); !errors.Is(err, ErrTokenMalformed) {
		t.Fatalf("Verify(garbage) = %v", err)
	}
	if _, err := e.a.Refresh(ctx, tok.RefreshToken, Client{}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"login", "verify", "verify", "refresh"}
	if len(got) != len(want) {
		t.Fatalf("observed %v; want ops %v", got, want)
	}
	for i, op := range want {
		if got[i].op != op {
			t.Errorf("observation %d = %q; want %q", i, got[i].op, op)
		}
	}
	if got[1].err != nil || !errors.Is(got[2].err, ErrTokenMalformed) {
		t.Errorf("verify outcomes = %v, %v; want nil, then ErrTokenMalformed", got[1].err, got[2].err)
	}
	if _, err := New(WithObserver(nil)); !errors.Is(err, ErrConfig) {
		t.Errorf("New(WithObserver(nil)) = %v; want ErrConfig", err)
	}
}
