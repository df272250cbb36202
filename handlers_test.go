package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

func TestDecodeJSON(t *testing.T) {
	t.Parallel()
	type in struct {
		A string `json:"a"`
		B []any  `json:"b"`
		C string
	}
	tests := []struct {
		name string
		body string
		want error
	}{
		{"ok", `{"a":"x"}`, nil},
		{"unknown field", `{"a":"x","z":1}`, ErrInvalidInput},
		{"other case", `{"A":"x"}`, ErrInvalidInput},
		{"untagged field in its own case", `{"C":"x"}`, nil},
		{"untagged field in another case", `{"c":"x"}`, ErrInvalidInput},
		{"twice", `{"a":"x","a":"y"}`, ErrInvalidInput},
		{"twice in a nested object", `{"b":[{"k":1,"k":2}]}`, ErrInvalidInput},
		{"nested too deep", `{"b":` + strings.Repeat("[", maxJSONDepth+1) + strings.Repeat("]", maxJSONDepth+1) + `}`, ErrInvalidInput},
		{"nested within the bound", `{"b":[[[{"k":[1]}]]]}`, nil},
		{"whitespace only", " \n", ErrInvalidInput},
		{"wrong type", `{"a":1}`, ErrInvalidInput},
		{"trailing data", `{"a":"x"} {}`, ErrInvalidInput},
		{"not json", `a=x`, ErrInvalidInput},
		{"empty", ``, ErrInvalidInput},
		{"too large", `{"a":"` + strings.Repeat("x", maxBodyBytes) + `"}`, ErrBodyTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", strings.NewReader(tt.body))
			var v in
			err := DecodeJSON(httptest.NewRecorder(), r, &v)
			if (tt.want == nil) != (err == nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Errorf("DecodeJSON(%.20q) = %v; want %v", tt.body, err, tt.want)
			}
		})
	}
}

func TestParseTransfer(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]RefreshTransfer{"": TransferCookie, "cookie": TransferCookie, "body": TransferBody} {
		if got, err := ParseTransfer(s); got != want || err != nil {
			t.Errorf("ParseTransfer(%q) = %q, %v; want %q", s, got, err, want)
		}
	}
	if _, err := ParseTransfer("Body"); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("ParseTransfer(Body) = %v; want ErrInvalidInput", err)
	}
}

func findCookie(w *httptest.ResponseRecorder, name string) *http.Cookie {
	for _, c := range w.Result().Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestWriteSession(t *testing.T) {
	t.Parallel()
	e := newRTEnv(t)
	s := e.start(t, "alice")
	w := httptest.NewRecorder()
	e.a.WriteTokens(w, 201, s, TransferCookie, map[string]any{"user": "alice"})
	c := findCookie(w, "refreshToken")
	if w.Code != 201 || c == nil || c.Value != s.RefreshToken || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode || c.Path != "/api/auth" {
		t.Fatalf("cookie transfer: status %d cookie %+v", w.Code, c)
	}
	if want := int(defaultRefreshTTL.Seconds()); c.MaxAge != want {
		t.Errorf("Max-Age = %d; want %d", c.MaxAge, want)
	}
	if w.Header().Get("Cache-Control") != "no-store" {
		t.Error("no Cache-Control: no-store")
	}
	var body map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &body)
	if body["accessToken"] != s.Access.Token || body["expiresIn"] != float64(900) || body["user"] != "alice" || body["refreshToken"] != nil {
		t.Errorf("cookie transfer body = %v", body)
	}

	w = httptest.NewRecorder()
	e.a.WriteTokens(w, 200, s, TransferBody, nil)
	body = nil
	_ = json.Unmarshal(w.Body.Bytes(), &body)
	if findCookie(w, "refreshToken") != nil || body["refreshToken"] != s.RefreshToken {
		t.Errorf("body transfer: cookie set %v, body %v", findCookie(w, "refreshToken") != nil, body)
	}
}

func post(h http.Handler, body string, mutate func(*http.Request)) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", "/api/auth/x", strings.NewReader(body))
	if mutate != nil {
		mutate(r)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func withCookie(tok string) func(*http.Request) {
	return func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "refreshToken", Value: tok}) }
}

func TestRefreshHandlerFailures(t *testing.T) {
	t.Parallel()
	e := newRTEnv(t)
	h := mustHandler(t)(e.a.RefreshHandler())
	tok := e.start(t, "alice").RefreshToken

	w := post(h, "", withCookie("bogus"))
	if c := findCookie(w, "refreshToken"); w.Code != 401 || c == nil || c.MaxAge >= 0 || !strings.Contains(w.Header().Get("Set-Cookie"), "Max-Age=0") {
		t.Errorf("bad token: status %d, Set-Cookie %q; want 401 and a cleared cookie", w.Code, w.Header().Get("Set-Cookie"))
	}
	e.store.set("Lookup", true)
	w = post(h, "", withCookie(tok))
	if w.Code != 503 || w.Header().Get("Set-Cookie") != "" || w.Header().Get("Retry-After") == "" {
		t.Errorf("store down: status %d, Set-Cookie %q; want 503, Retry-After, cookie untouched", w.Code, w.Header().Get("Set-Cookie"))
	}
	e.store.set("Lookup", false)
	w = post(h, `{"refreshToken":"`+tok+`"}`, nil)
	var body map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &body)
	if w.Code != 200 || body["refreshToken"] == nil || w.Header().Get("Set-Cookie") != "" {
		t.Errorf("body refresh: status %d, body %v, Set-Cookie %q", w.Code, body, w.Header().Get("Set-Cookie"))
	}
	if w := post(h, `{"refreshToken":1}`, nil); w.Code != 400 {
		t.Errorf("mistyped body: status %d; want 400", w.Code)
	}
}

func TestLogoutHandlers(t *testing.T) {
	t.Parallel()
	e := newRTEnv(t)
	ctx := context.Background()
	s := e.start(t, "alice")
	h := e.a.LogoutHandler()

	e.store.set("Lookup", true)
	if w := post(h, "", withCookie(s.RefreshToken)); w.Code != 503 || w.Header().Get("Set-Cookie") != "" {
		t.Errorf("logout with the store down: status %d, Set-Cookie %q; want 503, cookie untouched", w.Code, w.Header().Get("Set-Cookie"))
	}
	e.store.set("Lookup", false)
	w := post(h, "", func(r *http.Request) {
		withCookie(s.RefreshToken)(r)
		r.Header.Set("Authorization", "Bearer "+s.Access.Token)
	})
	if w.Code != 200 || !strings.Contains(w.Header().Get("Set-Cookie"), "Max-Age=0") {
		t.Fatalf("logout: status %d, Set-Cookie %q", w.Code, w.Header().Get("Set-Cookie"))
	}
	if _, err := e.a.Verify(ctx, s.Access.Token); !errors.Is(err, ErrTokenRevoked) {
		t.Errorf("access token after logout: %v; want ErrTokenRevoked", err)
	}
	e.wantRefreshErr(t, s.RefreshToken, ErrRefreshTokenRevoked)
	if w := post(h, "", nil); w.Code != 200 {
		t.Errorf("logout without anything: status %d; want 200", w.Code)
	}

	all := e.a.LogoutAllHandler()
	if w := post(all, "", nil); w.Code != 401 {
		t.Errorf("logout-all without a bearer: status %d; want 401", w.Code)
	}
	s2 := e.start(t, "alice")
	e.store.set("RevokeUser", true)
	if w := post(all, "", mwBearer(s2.Access.Token)); w.Code != 503 {
		t.Errorf("logout-all with the store down: status %d; want 503", w.Code)
	}
	e.store.set("RevokeUser", false)
	if w := post(all, "", mwBearer(s2.Access.Token)); w.Code != 200 {
		t.Errorf("logout-all: status %d; want 200", w.Code)
	}
	e.wantRefreshErr(t, s2.RefreshToken, ErrRefreshTokenRevoked)
}

func TestCrossOriginProtection(t *testing.T) {
	t.Parallel()
	now := mwNow
	a := newMWAuth(t, &now, WithTrustedOrigins("https://app.example.com"))
	h := a.CrossOriginProtection(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }))
	tests := []struct {
		name   string
		hdr    map[string]string
		status int
	}{
		{"no headers", nil, 204},
		{"same origin", map[string]string{"Sec-Fetch-Site": "same-origin"}, 204},
		{"cross site", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"foreign origin", map[string]string{"Origin": "https://evil.example"}, 403},
		{"trusted origin", map[string]string{"Origin": "https://app.example.com", "Sec-Fetch-Site": "cross-site"}, 204},
	}
	for _, tt := range tests {
		w := post(h, "", func(r *http.Request) {
			for k, v := range tt.hdr {
				r.Header.Set(k, v)
			}
		})
		if w.Code != tt.status {
			t.Errorf("%s: status %d; want %d", tt.name, w.Code, tt.status)
		}
		if tt.status == 403 && !strings.Contains(w.Body.String(), `"CROSS_ORIGIN"`) {
			t.Errorf("%s: body %s; want code CROSS_ORIGIN", tt.name, w.Body)
		}
	}
	if _, err := New(WithKeys(a.cfg.keySet), WithIssuer("i"), WithAudience("a"), WithTrustedOrigins("not a url")); !errors.Is(err, ErrConfig) {
		t.Errorf("New(bad trusted origin) = %v; want ErrConfig", err)
	}
}

// TestSessionsHandlerFailures: a store failure answers 503, another method
// 405, and the handler needs a bearer token.
func TestSessionsHandlerFailures(t *testing.T) {
	t.Parallel()
	e := newRTEnv(t)
	h := e.a.SessionsHandler()
	s := e.start(t, "alice")
	serve := func(method string, mutate func(*http.Request)) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, "/api/auth/sessions", nil)
		if mutate != nil {
			mutate(r)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	if w := serve(http.MethodGet, mwBearer(s.Access.Token)); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"current":true`) {
		t.Errorf("GET = %d %s; want 200 with the current session", w.Code, w.Body)
	}
	if w := serve(http.MethodPost, mwBearer(s.Access.Token)); w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") == "" {
		t.Errorf("POST = %d (Allow %q); want 405 with Allow", w.Code, w.Header().Get("Allow"))
	}
	if w := serve(http.MethodGet, nil); w.Code != http.StatusUnauthorized {
		t.Errorf("GET without a token = %d; want 401", w.Code)
	}
	e.store.set("Sessions", true)
	if w := serve(http.MethodGet, mwBearer(s.Access.Token)); w.Code != http.StatusServiceUnavailable {
		t.Errorf("GET with the store down = %d; want 503", w.Code)
	}
	e.store.set("Sessions", false)
	e.store.set("RevokeSession", true)
	if w := serve(http.MethodDelete, func(r *http.Request) {
		mwBearer(s.Access.Token)(r)
		r.SetPathValue("id", s.SessionID)
	}); w.Code != http.StatusServiceUnavailable {
		t.Errorf("DELETE with the store down = %d; want 503", w.Code)
	}
}

// A request with several refresh cookies (a sibling subdomain planted one
// for the parent domain, which the browser sends first) is refused without
// using either or clearing the cookie: the holder's own cookie keeps
// working. Logout revokes the session of each.
func TestSeveralRefreshCookies(t *testing.T) {
	t.Parallel()
	e := newRTEnv(t)
	h := mustHandler(t)(e.a.RefreshHandler())
	mine := e.start(t, "alice").RefreshToken
	planted := e.start(t, "bob").RefreshToken // a valid token of the attacker's own session
	both := func(r *http.Request) {
		withCookie(planted)(r)
		withCookie(mine)(r)
	}
	w := post(h, "", both)
	if body := mwDecodeError(t, w); w.Code != 401 || body.Code != "INVALID_REFRESH_TOKEN" || w.Header().Get("Set-Cookie") != "" {
		t.Errorf("two cookies: status %d, code %q, Set-Cookie %q; want 401 INVALID_REFRESH_TOKEN and no cookie set", w.Code, body.Code, w.Header().Get("Set-Cookie"))
	}
	// Neither was used: both still rotate.
	for _, tok := range []string{mine, planted} {
		if w := post(h, "", withCookie(tok)); w.Code != 200 {
			t.Errorf("refresh with one cookie after the refusal: status %d; want 200", w.Code)
		}
	}
	// Logout with several cookies revokes the session of each.
	a1, a2 := e.start(t, "alice").RefreshToken, e.start(t, "alice").RefreshToken
	w = post(e.a.LogoutHandler(), "", func(r *http.Request) {
		withCookie(a1)(r)
		withCookie(a2)(r)
	})
	if w.Code != 200 {
		t.Fatalf("logout with two cookies: status %d; want 200", w.Code)
	}
	e.wantRefreshErr(t, a1, ErrRefreshTokenRevoked)
	e.wantRefreshErr(t, a2, ErrRefreshTokenRevoked)
}

// A "__Host-" cookie name gets Path=/ and is refused with a Domain, another
// path or without Secure.
func TestHostPrefixCookie(t *testing.T) {
	t.Parallel()
	e := newRTEnv(t, WithRefreshCookie(CookieConfig{Name: "__Host-refreshToken"}))
	s := e.start(t, "alice")
	w := httptest.NewRecorder()
	e.a.WriteTokens(w, 200, s, TransferCookie, nil)
	c := findCookie(w, "__Host-refreshToken")
	if c == nil || c.Path != "/" || c.Domain != "" || !c.Secure || !c.HttpOnly {
		t.Fatalf("__Host- cookie = %+v; want Path=/, host-only, Secure, HttpOnly", c)
	}
	if d := findCookie(w, "__Host-deviceToken"); d != nil {
		t.Errorf("device cookie set by a refresh-only answer: %+v", d)
	}
	h := mustHandler(t)(e.a.RefreshHandler())
	if w := post(h, "", func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "__Host-refreshToken", Value: s.RefreshToken}) }); w.Code != 200 {
		t.Errorf("refresh with the __Host- cookie: status %d; want 200", w.Code)
	}
	for _, cc := range []CookieConfig{
		{Name: "__Host-refreshToken", Path: "/api/auth"},
		{Name: "__Host-refreshToken", Domain: "example.com"},
		{Name: "__Host-refreshToken", Insecure: true},
		{Name: "__Secure-refreshToken", Insecure: true},
	} {
		if err := WithRefreshCookie(cc)(&config{}); !errors.Is(err, ErrConfig) {
			t.Errorf("WithRefreshCookie(%+v) = %v; want ErrConfig", cc, err)
		}
	}
}

// Every 503 is logged once, at error level, with its cause and without the
// token.
func TestFailureLoggedOnce(t *testing.T) {
	t.Parallel()
	var buf strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(lockedWriter{&mu, &buf}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := newRTEnv(t, WithLogger(logger))
	h := mustHandler(t)(e.a.RefreshHandler())
	tok := e.start(t, "alice").RefreshToken
	e.store.set("Lookup", true)
	if w := post(h, "", withCookie(tok)); w.Code != 503 {
		t.Fatalf("refresh with the store down: status %d; want 503", w.Code)
	}
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	var errorLines int
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["level"] == "ERROR" {
			errorLines++
			if rec["code"] != "UNAVAILABLE" || !strings.Contains(fmt.Sprint(rec["err"]), "refresh") {
				t.Errorf("error record %v; want code UNAVAILABLE and the cause", rec)
			}
		}
	}
	if errorLines != 1 || strings.Contains(out, tok) {
		t.Errorf("log = %s; want one error record and never the token", out)
	}
}

// lockedWriter serializes writes to w.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Logout with only a bearer token ends the token's session: its refresh
// token and every access token of the session stop working at once, by one
// revocation entry for the session rather than one per token.
func TestLogoutBearerEndsSession(t *testing.T) {
	t.Parallel()
	e := newRTEnv(t, WithRevocation(newMemStore(t)))
	ctx := context.Background()
	s := e.start(t, "alice")
	rotated, err := e.a.Refresh(ctx, s.RefreshToken, Client{})
	if err != nil {
		t.Fatal(err)
	}
	other := e.start(t, "alice")
	w := post(e.a.LogoutHandler(), "", mwBearer(rotated.Access.Token))
	if w.Code != 200 {
		t.Fatalf("bearer-only logout: status %d; want 200", w.Code)
	}
	for name, tok := range map[string]string{"the bearer": rotated.Access.Token, "an earlier token of the session": s.Access.Token} {
		if _, err := e.a.Verify(ctx, tok); !errors.Is(err, ErrTokenRevoked) {
			t.Errorf("Verify(%s) after logout = %v; want ErrTokenRevoked", name, err)
		}
	}
	e.wantRefreshErr(t, rotated.RefreshToken, ErrRefreshTokenRevoked)
	if _, err := e.a.Verify(ctx, other.Access.Token); err != nil {
		t.Errorf("Verify(another session's token) = %v; want nil", err)
	}
}
