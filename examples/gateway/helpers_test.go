package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/jwtkit/auth"
)

// The tests run the issuer's JWK Set, the gateway and the upstream as
// httptest servers on loopback and talk to them over real HTTP. Each test
// has its own servers and fake clock, so every test runs in parallel.

const (
	testIssuer   = "https://issuer.example.test"
	testAudience = "api"
)

// testStart is the fixed instant every fake clock starts at.
var testStart = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// fakeClock is a clock that moves only when told to.
type fakeClock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: testStart} }

// Now returns the clock's time.
func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// issuer publishes a JWK Set and signs tokens with its key, as the auth
// service of examples/microservices does.
type issuer struct {
	keys    *auth.KeySet
	signer  *auth.Auth
	jwksURL string
	now     func() time.Time
}

// startIssuer serves a new EdDSA key's JWK Set on loopback and signs
// tokens for testAudience on the clock now.
func startIssuer(t *testing.T, now func() time.Time) *issuer {
	t.Helper()
	key, err := auth.GenerateKey(nil, auth.EdDSA)
	if err != nil {
		t.Fatalf("GenerateKey(EdDSA) = %v", err)
	}
	keys, err := auth.NewKeySet(key)
	if err != nil {
		t.Fatalf("NewKeySet = %v", err)
	}
	srv := httptest.NewServer(keys)
	t.Cleanup(srv.Close)
	is := &issuer{keys: keys, jwksURL: srv.URL + "/.well-known/jwks.json", now: now}
	is.signer = is.signerFor(t, testAudience, now)
	return is
}

// signerFor returns a signer with the issuer's keys for audience on the
// clock now.
func (is *issuer) signerFor(t *testing.T, audience string, now func() time.Time) *auth.Auth {
	t.Helper()
	a, err := auth.New(auth.WithKeys(is.keys), auth.WithIssuer(testIssuer), auth.WithAudience(audience), auth.WithClock(now))
	if err != nil {
		t.Fatalf("auth.New(signer) = %v", err)
	}
	return a
}

// token returns a token for subject with role, signed by the issuer.
func (is *issuer) token(t *testing.T, subject, role string) string {
	t.Helper()
	return issue(t, is.signer, auth.Claims{Subject: subject, Role: role})
}

func issue(t *testing.T, a *auth.Auth, c auth.Claims) string {
	t.Helper()
	at, err := a.Issue(t.Context(), c)
	if err != nil {
		t.Fatalf("Issue(%q) = %v", c.Subject, err)
	}
	return at.Token
}

// received is a request as a recorder server got it.
type received struct {
	Host       string
	RequestURI string
	Header     http.Header
}

// recorder is an upstream that records every request and answers 200
// "upstream".
type recorder struct {
	srv *httptest.Server
	mu  sync.Mutex // guards got
	got []received
}

func startRecorder(t *testing.T) *recorder {
	t.Helper()
	rec := &recorder{}
	rec.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.got = append(rec.got, received{Host: r.Host, RequestURI: r.RequestURI, Header: r.Header.Clone()})
		rec.mu.Unlock()
		io.WriteString(w, "upstream")
	}))
	t.Cleanup(rec.srv.Close)
	return rec
}

// requests returns the requests received so far.
func (rec *recorder) requests() []received {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]received(nil), rec.got...)
}

// host returns the recorder's host:port.
func (rec *recorder) host() string { return strings.TrimPrefix(rec.srv.URL, "http://") }

// setup is a gateway in front of an upstream, with its issuer and clock.
type setup struct {
	gw       *gateway
	url      string // the gateway's base URL
	upstream *recorder
	issuer   *issuer
	clock    *fakeClock
	client   *http.Client
}

// upstreamPrefix is the path of UPSTREAM_URL in the tests.
const upstreamPrefix = "/svc"

// startGateway starts a gateway on loopback in front of a new recorder,
// with a budget of 100 requests then one every 2 seconds per subject,
// after edit (if not nil) changed its configuration.
func startGateway(t *testing.T, edit func(*config)) *setup {
	t.Helper()
	clock := newFakeClock()
	is := startIssuer(t, clock.Now)
	up := startRecorder(t)
	u, err := url.Parse(up.srv.URL + upstreamPrefix)
	if err != nil {
		t.Fatal(err)
	}
	cfg := config{
		Upstream:    u,
		JWKSURL:     is.jwksURL,
		Issuer:      testIssuer,
		Audience:    testAudience,
		Rate:        rate.Limit(0.5),
		Burst:       100,
		MaxSubjects: 1000,
		Now:         clock.Now,
	}
	if edit != nil {
		edit(&cfg)
	}
	g, err := newGateway(cfg)
	if err != nil {
		t.Fatalf("newGateway = %v", err)
	}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	client := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(client.CloseIdleConnections)
	return &setup{gw: g, url: srv.URL, upstream: up, issuer: is, clock: clock, client: client}
}

// get sends GET path to the gateway with token (none when empty) and the
// headers h, set as given: keys are sent in the spelling of the map.
func (s *setup) get(t *testing.T, path, token string, h http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading the body: %v", path, err)
	}
	return resp, strings.TrimSpace(string(b))
}

// raw sends the request head to the gateway byte for byte, on a
// connection of its own, and returns the response.
func (s *setup) raw(t *testing.T, head string) (*http.Response, string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer to %q: %v", head, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, strings.TrimSpace(string(b))
}

// errorCode returns the code of a body in the JSON error shape
// {"error", "code"}, or "" when body is not one.
func errorCode(body string) string {
	var e struct {
		Error string `json:"error"`
		Code  string `json:"code"`
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil || e.Error == "" {
		return ""
	}
	return e.Code
}

// syncBuffer is a bytes.Buffer safe for concurrent use: the output of run,
// read while it still writes.
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
