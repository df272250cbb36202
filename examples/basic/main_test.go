package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/examples/refserver"
	"github.com/jwtkit/auth/password"
)

// The tests in this package run the reference server over real HTTP: each
// test starts its own server with httptest.NewServer and talks to it with an
// http.Client that keeps cookies like a browser does.

func envFrom(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// config is the server configuration (see refserver.LoadConfig).
type config = refserver.Config

// loadConfig reads the configuration as run does.
func loadConfig(getenv func(string) string, logger *slog.Logger) (*config, error) {
	return refserver.LoadConfig(getenv, logger)
}

// newServer builds the server on cfg as run does, on in-memory stores.
func newServer(cfg *config, logger *slog.Logger) (*refserver.Server, error) {
	return refserver.New(context.Background(), cfg, logger, refserver.Backend{})
}

// defaultRefreshTTL is the contract's default AUTH_REFRESH_TTL.
const defaultRefreshTTL = 168 * time.Hour

func TestMain(m *testing.M) {
	code := m.Run()
	if keyDir != "" {
		os.RemoveAll(keyDir)
	}
	os.Exit(code)
}

// testPassword is the password of every account the tests create.
const testPassword = "correct horse battery"

// uuidRE matches a canonical random UUID.
var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// testServer is the reference server behind httptest.NewServer.
type testServer struct {
	*httptest.Server
	cfg *config
}

// newTestServer starts the server configured by env over the test default
// AUTH_COOKIE_SECURE=false (httptest serves plain HTTP; an empty value in
// env restores the server's default), with bcrypt cost 10, the lowest the
// library allows, which keeps -race runs short.
func newTestServer(tb testing.TB, env map[string]string) *testServer {
	tb.Helper()
	return startServer(tb, env, password.MinCost)
}

// startServer is newTestServer with the bcrypt cost given.
func startServer(tb testing.TB, env map[string]string, bcryptCost int) *testServer {
	tb.Helper()
	full := map[string]string{"AUTH_COOKIE_SECURE": "false"}
	maps.Copy(full, env)
	cfg, err := loadConfig(envFrom(full), quiet)
	if err != nil {
		tb.Fatalf("loadConfig(%v) = %v; want nil", full, err)
	}
	cfg.BcryptCost = bcryptCost
	s, err := newServer(cfg, quiet)
	if err != nil {
		tb.Fatalf("newServer(%v) = %v; want nil", full, err)
	}
	hs := httptest.NewServer(s)
	tb.Cleanup(hs.Close)
	return &testServer{Server: hs, cfg: cfg}
}

// client is one browser: an http.Client with its own cookie jar.
type client struct {
	tb   testing.TB
	base string
	jar  http.CookieJar
	http *http.Client
}

// client returns a new browser talking to ts from 127.0.0.1.
func (ts *testServer) client(tb testing.TB) *client {
	tb.Helper()
	return ts.clientFrom(tb, "")
}

// clientFrom returns a new browser whose connections leave from the
// loopback address ip (127.0.0.0/8 is all loopback on Linux), so that login
// throttling sees a distinct client address. An empty ip is the default.
func (ts *testServer) clientFrom(tb testing.TB, ip string) *client {
	tb.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 4}
	if ip != "" {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
		tr.DialContext = d.DialContext
	}
	tb.Cleanup(tr.CloseIdleConnections)
	return &client{tb: tb, base: ts.URL, jar: jar, http: &http.Client{Jar: jar, Transport: tr, Timeout: 30 * time.Second}}
}

// response is a response read in full.
type response struct {
	method, path string
	status       int
	header       http.Header
	body         []byte
	elapsed      time.Duration
}

func (r *response) String() string {
	return r.method + " " + r.path + " = " + strconv.Itoa(r.status) + " " + strings.TrimSpace(string(r.body))
}

// in returns c reporting to tb, for use in a subtest: the same browser.
func (c *client) in(tb testing.TB) *client {
	cc := *c
	cc.tb = tb
	return &cc
}

// do sends a request; body, when not empty, is sent as JSON. header holds
// name, value pairs; a name may repeat.
func (c *client) do(method, path, body string, header ...string) *response {
	c.tb.Helper()
	r, err := c.send(context.Background(), method, path, body, header...)
	if err != nil {
		c.tb.Fatal(err)
	}
	return r
}

// send is do for any goroutine: it returns the failure instead of ending
// the test.
func (c *client) send(ctx context.Context, method, path, body string, header ...string) (*response, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the body: %w", method, path, err)
	}
	return &response{method: method, path: path, status: resp.StatusCode, header: resp.Header, body: b, elapsed: time.Since(start)}, nil
}

func (c *client) post(path, body string, header ...string) *response {
	c.tb.Helper()
	return c.do(http.MethodPost, path, body, header...)
}

func (c *client) get(path string, header ...string) *response {
	c.tb.Helper()
	return c.do(http.MethodGet, path, "", header...)
}

// refreshCookie returns the refresh token the jar holds, or "".
func (c *client) refreshCookie() string {
	c.tb.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.base+"/api/auth/refresh", nil)
	for _, ck := range c.jar.Cookies(req.URL) {
		if ck.Name == "refreshToken" {
			return ck.Value
		}
	}
	return ""
}

// bearer returns the Authorization header pair for tok.
func bearer(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

// cookieHeader returns the Cookie header pair that presents refresh token tok.
func cookieHeader(tok string) []string { return []string{"Cookie", "refreshToken=" + tok} }

// credentials returns the register or login JSON for email.
func credentials(email, pw string, extra ...string) string {
	m := map[string]string{"email": email, "password": pw}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i]] = extra[i+1]
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// session is what registering or logging in gave a client.
type session struct {
	userID  string
	access  string
	refresh string // from the body or the jar
}

// register creates an account named Ada for email and returns its session.
func (c *client) register(email string) session {
	c.tb.Helper()
	r := c.post("/api/auth/register", credentials(email, testPassword, "name", "Ada"))
	if r.status != http.StatusCreated {
		c.tb.Fatalf("%v; want 201", r)
	}
	return c.sessionOf(r)
}

// login logs in as email with the test password and returns the session.
func (c *client) login(email string) session {
	c.tb.Helper()
	r := c.post("/api/auth/login", credentials(email, testPassword))
	if r.status != http.StatusOK {
		c.tb.Fatalf("%v; want 200", r)
	}
	return c.sessionOf(r)
}

func (c *client) sessionOf(r *response) session {
	c.tb.Helper()
	var body struct {
		User         struct{ ID string }
		AccessToken  string
		RefreshToken string
	}
	if err := json.Unmarshal(r.body, &body); err != nil || body.AccessToken == "" || body.User.ID == "" {
		c.tb.Fatalf("%v; want {user, accessToken, ...}", r)
	}
	s := session{userID: body.User.ID, access: body.AccessToken, refresh: body.RefreshToken}
	if s.refresh == "" {
		s.refresh = c.refreshCookie()
	}
	return s
}

// object decodes r's body as a JSON object.
func object(tb testing.TB, r *response) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		tb.Fatalf("%v; want a JSON object: %v", r, err)
	}
	return m
}

// wantKeys reports an error unless m has exactly the keys want.
func wantKeys(tb testing.TB, what string, m map[string]any, want ...string) {
	tb.Helper()
	got := slices.Sorted(maps.Keys(m))
	slices.Sort(want)
	if !slices.Equal(got, want) {
		tb.Errorf("%s keys = %v; want %v", what, got, want)
	}
}

// wantError reports an error unless r has the status and the JSON error
// body {"error": sentence, "code": code}; an empty code accepts any.
func wantError(tb testing.TB, r *response, status int, code string) {
	tb.Helper()
	var e map[string]any
	err := json.Unmarshal(r.body, &e)
	msg, _ := e["error"].(string)
	got, _ := e["code"].(string)
	if r.status != status || err != nil || len(e) != 2 || msg == "" || got == "" || (code != "" && got != code) {
		tb.Errorf("%v; want %d {error, code: %q}", r, status, code)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		tb.Errorf("%s %s Content-Type = %q; want application/json", r.method, r.path, ct)
	}
}

// setCookie returns the refresh cookie that r sets and the raw header, or
// nil when r sets none.
func setCookie(tb testing.TB, r *response) (*http.Cookie, string) {
	tb.Helper()
	return namedCookie(tb, r, "refreshToken")
}

// namedCookie returns the cookie name that r sets and the raw header, or
// nil when r sets none; setting it twice is an error.
func namedCookie(tb testing.TB, r *response, name string) (*http.Cookie, string) {
	tb.Helper()
	var found *http.Cookie
	var raw string
	for _, line := range r.header.Values("Set-Cookie") {
		ck, err := http.ParseSetCookie(line)
		if err != nil {
			tb.Errorf("%s %s: Set-Cookie %q: %v", r.method, r.path, line, err)
			continue
		}
		if ck.Name == name {
			if found != nil {
				tb.Errorf("%s %s sets the cookie %s twice", r.method, r.path, name)
			}
			found, raw = ck, line
		}
	}
	return found, raw
}

// cookieAttrs returns the attributes of a raw Set-Cookie header, name to
// value ("" for a flag), names as written.
func cookieAttrs(raw string) map[string]string {
	attrs := map[string]string{}
	parts := strings.Split(raw, ";")
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		attrs[k] = v
	}
	return attrs
}

// wantRefreshCookie reports an error unless r sets the refresh cookie to a
// new token with exactly HttpOnly, SameSite=Strict, Path=/api/auth, Secure
// when secure, and Max-Age the remaining lifetime ttl (less the second that
// may pass before the header is written). It returns the token.
func wantRefreshCookie(tb testing.TB, r *response, secure bool, ttl time.Duration) string {
	tb.Helper()
	ck, raw := setCookie(tb, r)
	if ck == nil {
		tb.Errorf("%s %s sets no refresh cookie; want one", r.method, r.path)
		return ""
	}
	attrs := cookieAttrs(raw)
	maxAge, err := strconv.Atoi(attrs["Max-Age"])
	want := int(ttl / time.Second)
	if err != nil || maxAge < want-1 || maxAge > want {
		tb.Errorf("%s %s cookie Max-Age = %q; want %d", r.method, r.path, attrs["Max-Age"], want)
	}
	delete(attrs, "Max-Age")
	wantAttrs := map[string]string{"HttpOnly": "", "SameSite": "Strict", "Path": "/api/auth"}
	if secure {
		wantAttrs["Secure"] = ""
	}
	if !maps.Equal(attrs, wantAttrs) {
		tb.Errorf("%s %s Set-Cookie %q attributes = %v; want %v and Max-Age", r.method, r.path, raw, attrs, wantAttrs)
	}
	if ck.Value == "" {
		tb.Errorf("%s %s sets an empty refresh cookie; want a token", r.method, r.path)
	}
	return ck.Value
}

// wantClearedCookie reports an error unless r clears the refresh cookie:
// same name and path, Max-Age=0.
func wantClearedCookie(tb testing.TB, r *response) {
	tb.Helper()
	ck, raw := setCookie(tb, r)
	if ck == nil {
		tb.Errorf("%s %s does not clear the refresh cookie; want Max-Age=0", r.method, r.path)
		return
	}
	attrs := cookieAttrs(raw)
	if ck.Value != "" || attrs["Path"] != "/api/auth" || attrs["Max-Age"] != "0" {
		tb.Errorf("%s %s Set-Cookie = %q; want refreshToken=; Path=/api/auth; Max-Age=0", r.method, r.path, raw)
	}
}

// wantNoCookie reports an error if r sets a cookie.
func wantNoCookie(tb testing.TB, r *response) {
	tb.Helper()
	if v := r.header.Values("Set-Cookie"); len(v) > 0 {
		tb.Errorf("%s %s Set-Cookie = %q; want none", r.method, r.path, v)
	}
}

// wantNoStore reports an error unless r has Cache-Control: no-store.
func wantNoStore(tb testing.TB, r *response) {
	tb.Helper()
	if got := r.header.Get("Cache-Control"); got != "no-store" {
		tb.Errorf("%s %s Cache-Control = %q; want no-store", r.method, r.path, got)
	}
}

// decodeJWT returns the JOSE header and the claims of a compact JWS,
// without checking the signature.
func decodeJWT(tb testing.TB, tok string) (header, claims map[string]any) {
	tb.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		tb.Fatalf("token %q has %d parts; want 3", tok, len(parts))
	}
	for i, dst := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			tb.Fatalf("token part %d: %v", i, err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if err := dec.Decode(dst); err != nil {
			tb.Fatalf("token part %d: %v", i, err)
		}
	}
	return header, claims
}

// mint signs an access token outside the server with keys (ts.cfg.Keys for
// the server's own) and the server's issuer and audience, changed by the
// options given (a clock in the past for an expired token).
func mint(tb testing.TB, ts *testServer, keys *auth.KeySet, c auth.Claims, opts ...auth.Option) string {
	tb.Helper()
	base := []auth.Option{auth.WithKeys(keys), auth.WithIssuer(ts.cfg.Issuer), auth.WithAudience(ts.cfg.Audience)}
	a, err := auth.New(append(base, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	at, err := a.Issue(context.Background(), c)
	if err != nil {
		tb.Fatal(err)
	}
	return at.Token
}
