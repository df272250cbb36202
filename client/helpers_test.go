package client

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/examples/refserver"
	"github.com/jwtkit/auth/internal/testclock"
	"github.com/jwtkit/auth/password"
)

// The tests run the reference server (examples/refserver) over loopback
// with httptest, each test its own server, behind a wrapper that counts
// what the server saw and can make it misbehave on request.

// testPassword is the password of every account the tests create.
const testPassword = "correct horse battery"

// testEmail is the account of the tests; every test has its own server.
const testEmail = "ada@example.com"

var quiet = slog.New(slog.DiscardHandler)

// Answers of the refresh route while the server is down.
const (
	up          int32 = iota
	unavailable       // 503 UNAVAILABLE with Retry-After
	dropped           // the connection is cut without an answer
)

// testServer is the reference server and what its wrapper counted.
type testServer struct {
	*httptest.Server
	cfg *refserver.Config

	refreshes atomic.Int64 // POST /api/auth/refresh requests
	rotations atomic.Int64 // of those, answered 200
	// bearerCalls and expiredAnswers count the requests to routes other
	// than /api/auth/refresh, /login and /register, and their 401
	// TOKEN_EXPIRED answers.
	bearerCalls    atomic.Int64
	expiredAnswers atomic.Int64
	// browserHeaders counts requests that carried Origin or
	// Sec-Fetch-Site.
	browserHeaders atomic.Int64
	// down is how the refresh route answers: up, unavailable or dropped.
	down atomic.Int32
}

// serverSetup is what the options of newTestServer set.
type serverSetup struct {
	env map[string]string
	// expiredLogins makes the answers of login and register carry an
	// access token that expired an hour ago (signed with the server's
	// keys), with expiresIn as the server sent it: the client believes it
	// valid, the server refuses it with TOKEN_EXPIRED.
	expiredLogins bool
	// beforeRefresh runs before the refresh route handles a request.
	beforeRefresh func(*http.Request)
	// wrap wraps the server, inside the counting wrapper.
	wrap func(http.Handler) http.Handler
}

type serverOption func(*serverSetup)

func withExpiredLogins() serverOption { return func(s *serverSetup) { s.expiredLogins = true } }

func withBeforeRefresh(f func(*http.Request)) serverOption {
	return func(s *serverSetup) { s.beforeRefresh = f }
}

func withWrap(w func(http.Handler) http.Handler) serverOption {
	return func(s *serverSetup) { s.wrap = w }
}

// newTestServer starts the reference server with AUTH_COOKIE_SECURE=false
// (httptest serves plain HTTP) and bcrypt at its lowest cost, which keeps
// -race runs short.
func newTestServer(tb testing.TB, opts ...serverOption) *testServer {
	tb.Helper()
	setup := serverSetup{env: map[string]string{"AUTH_COOKIE_SECURE": "false"}}
	for _, o := range opts {
		o(&setup)
	}
	env := maps.Clone(setup.env)
	cfg, err := refserver.LoadConfig(func(k string) string { return env[k] }, quiet)
	if err != nil {
		tb.Fatalf("refserver.LoadConfig(%v) = %v; want nil", env, err)
	}
	cfg.BcryptCost = password.MinCost
	s, err := refserver.New(context.Background(), cfg, quiet, refserver.Backend{})
	if err != nil {
		tb.Fatalf("refserver.New = %v; want nil", err)
	}
	ts := &testServer{cfg: cfg}
	var h http.Handler = s
	if setup.expiredLogins {
		h = ts.expireLogins(tb, h)
	}
	if setup.wrap != nil {
		h = setup.wrap(h)
	}
	ts.Server = httptest.NewServer(ts.count(h, setup.beforeRefresh))
	tb.Cleanup(ts.Close)
	return ts
}

// statusWriter records the status of an answer.
type statusWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer // the start of the body
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.body.Len() < 512 {
		w.body.Write(b[:min(len(b), 512)])
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// count is the counting wrapper.
func (ts *testServer) count(h http.Handler, beforeRefresh func(*http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Origin") != "" || r.Header.Get("Sec-Fetch-Site") != "" {
			ts.browserHeaders.Add(1)
		}
		sw := &statusWriter{ResponseWriter: w}
		switch r.URL.Path {
		case "/api/auth/refresh":
			ts.refreshes.Add(1)
			if beforeRefresh != nil {
				beforeRefresh(r)
			}
			switch ts.down.Load() {
			case unavailable:
				w.Header().Set("Retry-After", "5")
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = w.Write([]byte(`{"error":"service temporarily unavailable, retry later","code":"UNAVAILABLE"}` + "\n"))
				return
			case dropped:
				panic(http.ErrAbortHandler)
			}
			h.ServeHTTP(sw, r)
			if sw.status == http.StatusOK {
				ts.rotations.Add(1)
			}
		case "/api/auth/login", "/api/auth/register":
			h.ServeHTTP(w, r)
		default:
			ts.bearerCalls.Add(1)
			h.ServeHTTP(sw, r)
			if sw.status == http.StatusUnauthorized && strings.Contains(sw.body.String(), `"TOKEN_EXPIRED"`) {
				ts.expiredAnswers.Add(1)
			}
		}
	})
}

// expireLogins rewrites the access token of login and register answers
// (see serverSetup.expiredLogins).
func (ts *testServer) expireLogins(tb testing.TB, h http.Handler) http.Handler {
	minter, err := auth.New(auth.WithKeys(ts.cfg.Keys), auth.WithIssuer(ts.cfg.Issuer), auth.WithAudience(ts.cfg.Audience),
		auth.WithClock(func() time.Time { return time.Now().Add(-time.Hour) }))
	if err != nil {
		tb.Fatal(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/auth/login" && r.URL.Path != "/api/auth/register" {
			h.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		var m map[string]any
		if rec.Code < 300 && json.Unmarshal(body, &m) == nil {
			u, _ := m["user"].(map[string]any)
			id, _ := u["id"].(string)
			role, _ := u["role"].(string)
			email, _ := u["email"].(string)
			at, err := minter.Issue(r.Context(), auth.Claims{Subject: id, Role: role, Email: email})
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			m["accessToken"] = at.Token
			body, _ = json.Marshal(m)
		}
		maps.Copy(w.Header(), rec.Header())
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body)
	})
}

// newClient returns a client of ts over the server's own HTTP client.
func newClient(tb testing.TB, ts *testServer, opts ...Option) *Client {
	tb.Helper()
	c, err := New(ts.URL, append([]Option{WithHTTPClient(ts.Client())}, opts...)...)
	if err != nil {
		tb.Fatalf("New(%q) = %v; want nil", ts.URL, err)
	}
	return c
}

// signUp registers the test account through c.
func signUp(tb testing.TB, c *Client) *User {
	tb.Helper()
	u, err := c.Register(context.Background(), testEmail, testPassword, "Ada")
	if err != nil {
		tb.Fatalf("Register(%q) = %v; want nil", testEmail, err)
	}
	return u
}

// newFakeClock returns the fake clock of the repository's tests.
func newFakeClock() *testclock.Clock { return testclock.New() }

// api returns an HTTP client whose requests go through c's Transport.
func api(c *Client, ts *testServer) *http.Client {
	return &http.Client{Transport: c.Transport(ts.Client().Transport), Timeout: 30 * time.Second}
}

// get sends GET path through hc and returns the status, reading the body.
func get(ctx context.Context, hc *http.Client, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, err = b.ReadFrom(resp.Body)
	return resp.StatusCode, err
}

// waitFor polls cond until it holds or ten seconds pass.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("waited 10s for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// joined returns how many callers have waited for the refresh under way.
func (c *Client) joined() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.flight == nil {
		return 0
	}
	return c.flight.joined
}

// held returns the refresh token c holds in memory.
func (c *Client) held() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.refresh
}

func mustURL(tb testing.TB, raw string) *url.URL {
	tb.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

func mustOrigin(tb testing.TB, raw string) origin {
	tb.Helper()
	return originOf(mustURL(tb, raw))
}
