package browser_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtkit/auth/examples/refserver"
)

// tabHeader names the tab that sent a request: every tab adds it to all of
// its requests (Network.setExtraHTTPHeaders), so that the server side of the
// test can tell the tabs apart. The page knows nothing of it.
const tabHeader = "X-Browser-Test-Tab"

// exchange is one answered request to /api/.
type exchange struct {
	seq       int
	tab       string // the tabHeader of the request; "" when absent
	method    string
	path      string
	hadCookie bool      // the request carried a refreshToken cookie
	status    int       // the answer's status
	code      string    // the code of an error body
	token     string    // an access token in the body
	sid       string    // its sid
	exp       time.Time // the exp of that token
}

func (e exchange) String() string {
	s := fmt.Sprintf("#%d %s %s %s cookie=%t -> %d", e.seq, e.tab, e.method, e.path, e.hadCookie, e.status)
	if e.code != "" {
		s += " " + e.code
	}
	if e.sid != "" {
		s += fmt.Sprintf(" (token of session %s, exp %s)", e.sid, e.exp.Format(time.TimeOnly))
	}
	return s
}

// recorder is an http.Handler that passes every request to the server and
// keeps a log of the /api/ exchanges that tests wait on and check.
type recorder struct {
	next http.Handler
	// refreshLatency holds back every answer to a refresh for that long
	// after the server rotated the token, as a slow network does. It
	// widens the window in which a browser still holds the old cookie, so
	// two tabs that refresh together without taking turns present one
	// token twice, and the server sees reuse.
	refreshLatency time.Duration

	mu      sync.Mutex    // guards the fields below
	log     []exchange    // in the order of the answers
	changed chan struct{} // closed and replaced at every append
}

func newRecorder(next http.Handler) *recorder {
	return &recorder{next: next, changed: make(chan struct{})}
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, "/api/") {
		rec.next.ServeHTTP(w, r)
		return
	}
	_, cookieErr := r.Cookie("refreshToken")
	cw := &capture{header: w.Header(), status: http.StatusOK}
	rec.next.ServeHTTP(cw, r)
	if r.URL.Path == refreshPath {
		time.Sleep(rec.refreshLatency)
	}
	w.WriteHeader(cw.status)
	w.Write(cw.body.Bytes())
	e := exchange{
		tab:       r.Header.Get(tabHeader),
		method:    r.Method,
		path:      r.URL.Path,
		hadCookie: cookieErr == nil,
		status:    cw.status,
	}
	var body struct {
		Code        string `json:"code"`
		AccessToken string `json:"accessToken"`
	}
	if json.Unmarshal(cw.body.Bytes(), &body) == nil {
		e.code, e.token = body.Code, body.AccessToken
		e.sid, e.exp = accessClaims(body.AccessToken)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	e.seq = len(rec.log)
	rec.log = append(rec.log, e)
	close(rec.changed)
	rec.changed = make(chan struct{})
}

// mark returns the sequence number that the next exchange gets.
func (rec *recorder) mark() int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return len(rec.log)
}

// since returns the exchanges from sequence number from on.
func (rec *recorder) since(from int) []exchange {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]exchange(nil), rec.log[min(from, len(rec.log)):]...)
}

// waitFor waits until match finds an exchange from sequence number from on,
// and returns it. It fails the test after timeout.
func (rec *recorder) waitFor(t testing.TB, ctx context.Context, from int, what string, match func(exchange) bool) exchange {
	t.Helper()
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	for {
		rec.mu.Lock()
		for _, e := range rec.log[min(from, len(rec.log)):] {
			if match(e) {
				rec.mu.Unlock()
				return e
			}
		}
		changed := rec.changed
		rec.mu.Unlock()
		select {
		case <-changed:
		case <-timer.C:
			t.Fatalf("the server saw no %s within %v; it saw:\n%s", what, waitTimeout, rec.dump(from))
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v; the server saw:\n%s", what, ctx.Err(), rec.dump(from))
		}
	}
}

// dump formats the exchanges from sequence number from on, one a line.
func (rec *recorder) dump(from int) string {
	var b strings.Builder
	for _, e := range rec.since(from) {
		fmt.Fprintf(&b, "\t%s\n", e)
	}
	if b.Len() == 0 {
		return "\t(nothing)\n"
	}
	return b.String()
}

// lastTokens returns, for each tab given, the last access token the server
// handed to it.
func (rec *recorder) lastTokens(tabs ...string) map[string]exchange {
	last := map[string]exchange{}
	for _, e := range rec.since(0) {
		for _, tab := range tabs {
			if e.tab == tab && e.sid != "" && (e.status == http.StatusOK || e.status == http.StatusCreated) {
				last[tab] = e
			}
		}
	}
	return last
}

// capture is an http.ResponseWriter that holds the answer (a small JSON
// body) for the recorder to read and then send.
type capture struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func (c *capture) Header() http.Header { return c.header }

func (c *capture) WriteHeader(status int) {
	if !c.wrote {
		c.status, c.wrote = status, true
	}
}

func (c *capture) Write(p []byte) (int, error) {
	c.wrote = true
	return c.body.Write(p)
}

// accessClaims returns the sid and exp claims of an access token, read
// without verification (the server issued it a moment ago).
func accessClaims(token string) (sid string, exp time.Time) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", time.Time{}
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", time.Time{}
	}
	var c struct {
		Sid string `json:"sid"`
		Exp int64  `json:"exp"`
	}
	if json.Unmarshal(payload, &c) != nil {
		return "", time.Time{}
	}
	return c.Sid, time.Unix(c.Exp, 0)
}

// testServer is the reference server on loopback behind a recorder.
type testServer struct {
	URL string
	rec *recorder
}

// startServer starts the reference server configured by env, on in-memory
// stores, at http://127.0.0.1:PORT. The cookie stays Secure: Chromium
// counts http://127.0.0.1 as a secure context and keeps Secure cookies
// there.
func startServer(t testing.TB, env map[string]string) *testServer {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg, err := refserver.LoadConfig(func(k string) string { return env[k] }, quiet)
	if err != nil {
		t.Fatalf("refserver.LoadConfig(%v) = %v; want nil", env, err)
	}
	s, err := refserver.New(context.Background(), cfg, quiet, refserver.Backend{})
	if err != nil {
		t.Fatalf("refserver.New = %v; want nil", err)
	}
	rec := newRecorder(s)
	rec.refreshLatency = 100 * time.Millisecond
	hs := httptest.NewServer(rec)
	t.Cleanup(hs.Close)
	return &testServer{URL: hs.URL, rec: rec}
}

// login signs in outside the browser, as a client that keeps its refresh
// token in the body, and returns the new session's id. userAgent marks the
// session, so that a page that shows it can be matched.
func (ts *testServer) login(t testing.TB, ctx context.Context, email, password, userAgent string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "password": password, "refreshTransfer": "body"})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ts.URL+"/api/auth/login", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set(tabHeader, "go")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST /api/auth/login: %v", err)
	}
	defer resp.Body.Close()
	var got struct {
		AccessToken string `json:"accessToken"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /api/auth/login = %d (%v); want 200", resp.StatusCode, err)
	}
	sid, _ := accessClaims(got.AccessToken)
	if sid == "" {
		t.Fatalf("POST /api/auth/login: the access token has no sid")
	}
	return sid
}
