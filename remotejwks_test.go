package auth

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The remote key set tests serve JWK Sets from httptest servers and measure
// time with a fake clock; Start's timer is replaced by one the test fires.
// Nothing waits for real time to pass except the HTTP timeout test; where a
// fetch finishes in another goroutine, the test waits for the server's
// request channel or polls the result, with a deadline.

const (
	rjIssuer   = "https://id.example.com"
	rjAudience = "api"
)

// rjNow is the fixed instant of the issuing and verifying Auths.
var rjNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func rjClock() time.Time { return rjNow }

// waitLimit bounds every wait for something that happens on its own.
const waitLimit = 10 * time.Second

// fakeClock is a clock that moves only when told to; safe for concurrent
// use. The refresh and revocation tests use it too.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: rjNow} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// jwksServer serves a JWK Set document that the test can change, counts
// the requests and reports each on hits.
type jwksServer struct {
	*httptest.Server
	requests atomic.Int64
	hits     chan struct{}

	mu     sync.Mutex
	body   []byte
	status int
	header http.Header
	gate   chan struct{} // when non-nil, a request waits for it to close
}

func newJWKSServer(t *testing.T, body []byte) *jwksServer {
	t.Helper()
	s := &jwksServer{hits: make(chan struct{}, 10000), body: body, status: http.StatusOK, header: http.Header{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		s.hits <- struct{}{}
		s.mu.Lock()
		body, status, gate := s.body, s.status, s.gate
		h := s.header.Clone()
		s.mu.Unlock()
		if gate != nil {
			select {
			case <-gate:
			case <-r.Context().Done():
				return
			}
		}
		maps.Copy(w.Header(), h)
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) URL() string { return s.Server.URL + "/.well-known/jwks.json" }

// set changes the document served, its status and its Cache-Control.
func (s *jwksServer) set(body []byte, status int, cacheControl string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.body, s.status = body, status
	s.header = http.Header{}
	if cacheControl != "" {
		s.header.Set("Cache-Control", cacheControl)
	}
}

// hold makes requests wait until the returned function is called.
func (s *jwksServer) hold() (release func()) {
	gate := make(chan struct{})
	s.mu.Lock()
	s.gate = gate
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			s.gate = nil
			s.mu.Unlock()
			close(gate)
		})
	}
}

// waitHit waits for the next request to reach the server.
func (s *jwksServer) waitHit(t *testing.T) {
	t.Helper()
	select {
	case <-s.hits:
	case <-time.After(waitLimit):
		t.Fatalf("no request reached the JWK Set server within %v", waitLimit)
	}
}

func (s *jwksServer) wantRequests(t *testing.T, want int64) {
	t.Helper()
	if got := s.requests.Load(); got != want {
		t.Errorf("JWK Set server got %d requests; want %d", got, want)
	}
}

// issuer is a key set that signs and the Auth that issues with it.
type issuer struct {
	keys *KeySet
	auth *Auth
}

func newIssuer(t testing.TB, alg Algorithm) *issuer {
	t.Helper()
	k := genKey(t, alg)
	ks, err := NewKeySet(k)
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(WithKeys(ks), WithIssuer(rjIssuer), WithAudience(rjAudience), WithClock(rjClock))
	if err != nil {
		t.Fatal(err)
	}
	return &issuer{keys: ks, auth: a}
}

func (is *issuer) token(t testing.TB) string {
	t.Helper()
	at, err := is.auth.Issue(context.Background(), Claims{Subject: "user-42"})
	if err != nil {
		t.Fatal(err)
	}
	return at.Token
}

// genKey returns a new key for alg.
func genKey(t testing.TB, alg Algorithm, opts ...KeyOption) *Key {
	t.Helper()
	k, err := GenerateKey(nil, alg, opts...)
	if err != nil {
		t.Fatalf("GenerateKey(%s) = %v", alg, err)
	}
	return k
}

// jwksOf returns the JWK Set document of keys.
func jwksOf(t testing.TB, keys ...*Key) []byte {
	t.Helper()
	if len(keys) == 0 {
		return []byte(`{"keys":[]}`)
	}
	ks, err := NewVerifyKeySet(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return ks.JWKS()
}

// newRemote returns a remote key set for srv with a fake clock.
func newRemote(t testing.TB, srv *jwksServer, clock *fakeClock, opts ...RemoteOption) *RemoteKeySet {
	t.Helper()
	opts = append([]RemoteOption{WithJWKSClock(clock.Now)}, opts...)
	rs, err := NewRemoteKeySet(srv.URL(), opts...)
	if err != nil {
		t.Fatalf("NewRemoteKeySet(%q) = %v", srv.URL(), err)
	}
	return rs
}

// newVerifier returns an Auth that verifies with src only.
func newVerifier(t testing.TB, src KeySource) *Auth {
	t.Helper()
	a, err := New(WithKeySource(src), WithIssuer(rjIssuer), WithAudience(rjAudience), WithClock(rjClock))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func wantVerify(t *testing.T, a *Auth, tok string, want error) {
	t.Helper()
	_, err := a.Verify(context.Background(), tok)
	if want == nil && err != nil || want != nil && !errors.Is(err, want) {
		t.Fatalf("Verify(%.40q…) = %v; want %v", tok, err, want)
	}
}

func wantKey(t *testing.T, rs *RemoteKeySet, kid string, want error) {
	t.Helper()
	k, err := rs.VerificationKey(context.Background(), kid)
	switch {
	case want == nil && (err != nil || k == nil || k.ID() != kid):
		t.Fatalf("VerificationKey(%q) = %v, %v; want the key", kid, k, err)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("VerificationKey(%q) = %v, %v; want %v", kid, k, err, want)
	}
}

// forgeToken signs a token with header h and the claims an issuer would
// write, so tests can send headers the library never writes.
func forgeToken(t testing.TB, k *Key, h map[string]any) string {
	t.Helper()
	hb, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := json.Marshal(map[string]any{
		"iss": rjIssuer, "aud": rjAudience, "sub": "user-42", "jti": "j1",
		"iat": rjNow.Unix(), "exp": rjNow.Add(time.Hour).Unix(),
	})
	if err != nil {
		t.Fatal(err)
	}
	input := b64url.EncodeToString(hb) + "." + b64url.EncodeToString(cb)
	sig, err := k.info.method.Sign(input, k.signer)
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64url.EncodeToString(sig)
}

func TestNewRemoteKeySetRefuses(t *testing.T) {
	t.Parallel()
	const good = "https://id.example.com/.well-known/jwks.json"
	tests := []struct {
		name string
		url  string
		opts []RemoteOption
	}{
		{"empty URL", "", nil},
		{"relative URL", "/.well-known/jwks.json", nil},
		{"ftp URL", "ftp://id.example.com/jwks.json", nil},
		{"file URL", "file:///etc/jwks.json", nil},
		{"no host", "https:///jwks.json", nil},
		{"fragment", good + "#keys", nil},
		{"size cap too small", good, []RemoteOption{WithJWKSMaxSize(100)}},
		{"size cap too large", good, []RemoteOption{WithJWKSMaxSize(1 << 30)}},
		{"zero shortest lifetime", good, []RemoteOption{WithJWKSCacheBounds(0, time.Hour)}},
		{"longest under shortest", good, []RemoteOption{WithJWKSCacheBounds(time.Hour, time.Minute)}},
		{"zero default lifetime", good, []RemoteOption{WithJWKSDefaultLifetime(0)}},
		{"zero cooldown", good, []RemoteOption{WithJWKSCooldown(0)}},
		{"nil clock", good, []RemoteOption{WithJWKSClock(nil)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := NewRemoteKeySet(tt.url, tt.opts...); !errors.Is(err, ErrConfig) {
				t.Errorf("NewRemoteKeySet(%q) = %v; want %v", tt.url, err, ErrConfig)
			}
		})
	}
}

func TestNewRemoteKeySetDefaults(t *testing.T) {
	t.Parallel()
	rs, err := NewRemoteKeySet("https://id.example.com/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	c := rs.cfg
	if c.client.Timeout != DefaultJWKSTimeout || c.timeout != DefaultJWKSTimeout || c.client.CheckRedirect == nil {
		t.Errorf("default client: timeout %v, fetch timeout %v, redirect policy %v; want %v, %v, one refusing redirects",
			c.client.Timeout, c.timeout, c.client.CheckRedirect != nil, DefaultJWKSTimeout, DefaultJWKSTimeout)
	}
	if c.maxSize != 1<<20 || c.minLife != time.Minute || c.maxLife != 24*time.Hour || c.defaultLife != 5*time.Minute || c.cooldown != 30*time.Second {
		t.Errorf("defaults: size %d, bounds [%v, %v], default %v, cooldown %v", c.maxSize, c.minLife, c.maxLife, c.defaultLife, c.cooldown)
	}
	// A client without a Timeout still gets one per fetch.
	rs, err = NewRemoteKeySet("https://id.example.com/jwks", WithJWKSHTTPClient(&http.Client{}))
	if err != nil {
		t.Fatal(err)
	}
	if rs.cfg.timeout != DefaultJWKSTimeout {
		t.Errorf("fetch timeout with a client without one = %v; want %v", rs.cfg.timeout, DefaultJWKSTimeout)
	}
	if rs.Keys() != nil {
		t.Errorf("Keys() before any fetch = %v; want nil", rs.Keys())
	}
}

func TestRemoteKeySetLifetime(t *testing.T) {
	t.Parallel()
	rs, err := NewRemoteKeySet("https://id.example.com/jwks")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		cacheControl []string
		age          string
		want         time.Duration
	}{
		{nil, "", 5 * time.Minute},
		{[]string{"public, max-age=120"}, "", 2 * time.Minute},
		{[]string{"max-age=5"}, "", time.Minute},
		{[]string{"max-age=999999999"}, "", 24 * time.Hour},
		{[]string{"max-age=99999999999999999999999"}, "", 5 * time.Minute}, // not a number: ignored
		{[]string{`max-age="600"`}, "", 10 * time.Minute},
		{[]string{"MAX-AGE=600"}, "", 10 * time.Minute},
		{[]string{"max-age=600"}, "100", 500 * time.Second},
		{[]string{"max-age=600"}, "590", time.Minute},
		{[]string{"max-age=600"}, "junk", 10 * time.Minute},
		{[]string{"max-age=600, max-age=300"}, "", 5 * time.Minute},
		{[]string{"max-age=600", "max-age=3600"}, "", 10 * time.Minute},
		{[]string{"no-store"}, "", time.Minute},
		{[]string{"no-cache, max-age=600"}, "", time.Minute},
		{[]string{"max-age=-5"}, "", 5 * time.Minute},
		{[]string{"private"}, "", 5 * time.Minute},
		{[]string{"s-maxage=7200"}, "", 5 * time.Minute},
	}
	for _, tt := range tests {
		h := http.Header{}
		for _, v := range tt.cacheControl {
			h.Add("Cache-Control", v)
		}
		if tt.age != "" {
			h.Set("Age", tt.age)
		}
		if got := rs.lifetime(h); got != tt.want {
			t.Errorf("lifetime(Cache-Control %q, Age %q) = %v; want %v", tt.cacheControl, tt.age, got, tt.want)
		}
	}
}

// TestRemoteKeySetCachesForMaxAge shows a set is served without a fetch for
// its max-age, within the bounds, and fetched again after it, in the
// background, while the current keys keep serving.
func TestRemoteKeySetCachesForMaxAge(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		cacheControl string
		opts         []RemoteOption
		life         time.Duration
	}{
		{"max-age", "max-age=120", nil, 2 * time.Minute},
		{"no max-age", "", nil, 5 * time.Minute},
		{"under the lower bound", "max-age=1", nil, time.Minute},
		{"over the upper bound", "max-age=86400", []RemoteOption{WithJWKSCacheBounds(time.Minute, time.Hour)}, time.Hour},
		{"default lifetime", "", []RemoteOption{WithJWKSDefaultLifetime(10 * time.Minute)}, 10 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			is := newIssuer(t, EdDSA)
			kid := is.keys.SigningKey().ID()
			srv := newJWKSServer(t, is.keys.JWKS())
			srv.set(is.keys.JWKS(), http.StatusOK, tt.cacheControl)
			clock := newFakeClock()
			rs := newRemote(t, srv, clock, tt.opts...)
			a := newVerifier(t, rs)
			tok := is.token(t)

			wantVerify(t, a, tok, nil) // first use fetches
			srv.waitHit(t)
			clock.Advance(tt.life - time.Second)
			for range 10 {
				wantVerify(t, a, tok, nil)
			}
			srv.wantRequests(t, 1)

			// Past the lifetime: served at once, refreshed in the background.
			next := genKey(t, ES256)
			srv.set(jwksOf(t, is.keys.SigningKey(), next), http.StatusOK, tt.cacheControl)
			clock.Advance(time.Second)
			wantVerify(t, a, tok, nil)
			srv.waitHit(t)
			waitFor(t, "the refreshed set", func() bool { return len(rs.Keys()) == 2 })
			wantKey(t, rs, next.ID(), nil)
			wantKey(t, rs, kid, nil)
			srv.wantRequests(t, 2)
		})
	}
}

// waitFor polls cond until it holds, failing after waitLimit.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", waitLimit, what)
		}
		time.Sleep(time.Millisecond)
	}
}

// fakeTimer replaces Start's timer: each wait asked for is sent on asked,
// and the wait ends when the test sends on fire.
type fakeTimer struct {
	asked chan time.Duration
	fire  chan time.Time
}

func installFakeTimer(rs *RemoteKeySet) *fakeTimer {
	ft := &fakeTimer{asked: make(chan time.Duration, 100), fire: make(chan time.Time)}
	rs.cfg.after = func(d time.Duration) <-chan time.Time {
		ft.asked <- d
		return ft.fire
	}
	return ft
}

func (ft *fakeTimer) wantWait(t *testing.T, want time.Duration) {
	t.Helper()
	select {
	case d := <-ft.asked:
		if d != want {
			t.Fatalf("background refresh waits %v; want %v", d, want)
		}
	case <-time.After(waitLimit):
		t.Fatalf("background refresh asked for no timer within %v", waitLimit)
	}
}

func (ft *fakeTimer) tick() { ft.fire <- rjNow }

func TestRemoteKeySetBackgroundRefresh(t *testing.T) {
	t.Parallel()
	is := newIssuer(t, EdDSA)
	oldKid := is.keys.SigningKey().ID()
	srv := newJWKSServer(t, nil)
	srv.set(is.keys.JWKS(), http.StatusOK, "max-age=120")
	clock := newFakeClock()
	rs := newRemote(t, srv, clock, WithJWKSCooldown(20*time.Second))
	ft := installFakeTimer(rs)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	if err := rs.Start(ctx); err != nil {
		t.Fatalf("Start = %v; want nil", err)
	}
	srv.wantRequests(t, 1)
	// Three quarters of the 120 s lifetime.
	ft.wantWait(t, 90*time.Second)

	next := genKey(t, EdDSA)
	if err := is.keys.Add(next); err != nil {
		t.Fatal(err)
	}
	srv.set(is.keys.JWKS(), http.StatusOK, "max-age=600")
	clock.Advance(90 * time.Second)
	ft.tick()
	ft.wantWait(t, 450*time.Second)
	srv.wantRequests(t, 2)
	wantKey(t, rs, next.ID(), nil)

	// Failed refreshes back off from one second up to the cooldown, and
	// the last good set keeps serving.
	srv.set([]byte("oops"), http.StatusInternalServerError, "")
	for _, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 20 * time.Second, 20 * time.Second} {
		ft.tick()
		ft.wantWait(t, want)
		wantKey(t, rs, oldKid, nil)
		wantKey(t, rs, next.ID(), nil)
	}
	srv.wantRequests(t, 9)

	// Back to normal after one success.
	srv.set(is.keys.JWKS(), http.StatusOK, "max-age=60")
	ft.tick()
	ft.wantWait(t, 45*time.Second)
	srv.wantRequests(t, 10)

	if err := rs.Start(ctx); err == nil {
		t.Errorf("second Start = nil; want an error")
	}
}

// TestRemoteKeySetStartFailure shows Start reports a failed first fetch and
// keeps trying in the background.
func TestRemoteKeySetStartFailure(t *testing.T) {
	t.Parallel()
	is := newIssuer(t, EdDSA)
	srv := newJWKSServer(t, nil)
	srv.set([]byte("{}"), http.StatusServiceUnavailable, "")
	rs := newRemote(t, srv, newFakeClock())
	ft := installFakeTimer(rs)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := rs.Start(ctx); err == nil || errors.Is(err, ErrTokenUnknownKey) {
		t.Fatalf("Start with the server failing = %v; want a fetch error", err)
	}
	a := newVerifier(t, rs)
	tok := is.token(t)
	wantVerify(t, a, tok, ErrUnavailable)

	ft.wantWait(t, time.Second)
	srv.set(is.keys.JWKS(), http.StatusOK, "")
	ft.tick()
	ft.wantWait(t, 225*time.Second) // 3/4 of the default 5 minutes
	wantVerify(t, a, tok, nil)
}

// TestRemoteKeySetUnknownKidFetchesOnce shows 50 concurrent requests for a
// kid the set lacks cause one fetch, that a flood of random kids within the
// cooldown causes none, and that after the cooldown one more is allowed.
func TestRemoteKeySetUnknownKidFetchesOnce(t *testing.T) {
	t.Parallel()
	is := newIssuer(t, EdDSA)
	srv := newJWKSServer(t, nil)
	srv.set(is.keys.JWKS(), http.StatusOK, "max-age=3600")
	clock := newFakeClock()
	rs := newRemote(t, srv, clock)
	a := newVerifier(t, rs)
	wantVerify(t, a, is.token(t), nil)
	srv.waitHit(t)

	// The issuer rotates; the verifier has not seen the new key.
	clock.Advance(DefaultJWKSCooldown)
	next := genKey(t, EdDSA)
	if err := is.keys.Add(next); err != nil {
		t.Fatal(err)
	}
	if err := is.keys.Promote(next); err != nil {
		t.Fatal(err)
	}
	srv.set(is.keys.JWKS(), http.StatusOK, "max-age=3600")
	tok := is.token(t)
	release := srv.hold()

	const n = 50
	errs := make(chan error, n)
	var started sync.WaitGroup
	for range n {
		started.Add(1)
		go func() {
			started.Done()
			_, err := a.Verify(context.Background(), tok)
			errs <- err
		}()
	}
	started.Wait()
	srv.waitHit(t)
	release()
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("Verify(token of the new key) = %v; want nil", err)
		}
	}
	srv.wantRequests(t, 2)

	// Random kids within the cooldown: refused, and no fetch.
	for i := range 1000 {
		forged := forgeToken(t, next, map[string]any{"alg": "EdDSA", "kid": fmt.Sprintf("random-%d", i), "typ": "at+jwt"})
		wantVerify(t, a, forged, ErrTokenUnknownKey)
	}
	srv.wantRequests(t, 2)

	// After the cooldown a random kid may cause one fetch, and only one.
	clock.Advance(DefaultJWKSCooldown)
	for i := range 100 {
		wantKey(t, rs, fmt.Sprintf("random-%d", i), ErrTokenUnknownKey)
	}
	srv.wantRequests(t, 3)
}

// TestRemoteKeySetKeepsKeysOnFailure shows every kind of failed fetch leaves
// the last good set in use.
func TestRemoteKeySetKeepsKeysOnFailure(t *testing.T) {
	t.Parallel()
	is := newIssuer(t, ES256)
	srv := newJWKSServer(t, is.keys.JWKS())
	rs := newRemote(t, srv, newFakeClock(), WithJWKSMaxSize(4096))
	a := newVerifier(t, rs)
	tok := is.token(t)
	if err := rs.Refresh(context.Background()); err != nil {
		t.Fatalf("Refresh = %v; want nil", err)
	}
	hmac, err := NewHMACKey(HS256, bytes.Repeat([]byte("s"), 32))
	if err != nil {
		t.Fatal(err)
	}
	hmacSet, err := NewKeySet(hmac)
	if err != nil {
		t.Fatal(err)
	}
	failures := []struct {
		name   string
		body   []byte
		status int
	}{
		{"server error", is.keys.JWKS(), http.StatusInternalServerError},
		{"not found", []byte(`{"keys":[]}`), http.StatusNotFound},
		{"redirect", nil, http.StatusFound},
		{"not JSON", []byte("<html>"), http.StatusOK},
		{"JSON array", []byte(`[]`), http.StatusOK},
		{"no keys member", []byte(`{"kty":"OKP"}`), http.StatusOK},
		{"keys null", []byte(`{"keys":null}`), http.StatusOK},
		{"empty set", []byte(`{"keys":[]}`), http.StatusOK},
		{"HMAC set", hmacSet.JWKS(), http.StatusOK},
		{"only unusable keys", []byte(`{"keys":[{"kty":"oct","kid":"k","alg":"HS256","k":"c2VjcmV0"}]}`), http.StatusOK},
		{"over the size cap", append(append([]byte(nil), is.keys.JWKS()...), bytes.Repeat([]byte(" "), 4096)...), http.StatusOK},
	}
	for _, f := range failures {
		srv.set(f.body, f.status, "")
		if err := rs.Refresh(context.Background()); err == nil || errors.Is(err, ErrTokenUnknownKey) {
			t.Errorf("%s: Refresh = %v; want a fetch error", f.name, err)
		}
		wantVerify(t, a, tok, nil)
	}
}

// TestRemoteKeySetNeverFetched shows a set that never fetched successfully
// makes Verify answer ErrUnavailable, never ErrTokenUnknownKey, and retries
// only after the cooldown.
func TestRemoteKeySetNeverFetched(t *testing.T) {
	t.Parallel()
	is := newIssuer(t, EdDSA)
	srv := newJWKSServer(t, nil)
	srv.set([]byte("down"), http.StatusBadGateway, "")
	clock := newFakeClock()
	rs := newRemote(t, srv, clock)
	a := newVerifier(t, rs)
	tok := is.token(t)
	for range 20 {
		_, err := a.Verify(context.Background(), tok)
		if !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrTokenUnknownKey) || errors.Is(err, ErrInvalidToken) {
			t.Fatalf("Verify with no set fetched = %v; want %v only", err, ErrUnavailable)
		}
	}
	srv.wantRequests(t, 1)

	srv.set(is.keys.JWKS(), http.StatusOK, "")
	wantVerify(t, a, tok, ErrUnavailable) // the cooldown holds
	clock.Advance(DefaultJWKSCooldown)
	wantVerify(t, a, tok, nil)
	srv.wantRequests(t, 2)

	// A server that is gone: the same.
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	rs2, err := NewRemoteKeySet(gone.URL + "/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	_, err = rs2.VerificationKey(context.Background(), "kid")
	if err == nil || errors.Is(err, ErrTokenUnknownKey) {
		t.Errorf("VerificationKey with the server gone = %v; want a fetch error", err)
	}
	wantVerify(t, newVerifier(t, rs2), tok, ErrUnavailable)
}

func TestRemoteKeySetSizeCap(t *testing.T) {
	t.Parallel()
	is := newIssuer(t, EdDSA)
	doc := is.keys.JWKS()
	pad := func(n int) []byte { // doc padded with spaces to n bytes
		return append(append([]byte(nil), doc...), bytes.Repeat([]byte(" "), n-len(doc))...)
	}
	tests := []struct {
		name    string
		body    []byte
		chunked bool
		opts    []RemoteOption
		ok      bool
	}{
		{"1 MiB", pad(1 << 20), false, nil, true},
		{"1 MiB + 1", pad(1<<20 + 1), false, nil, false},
		{"1 MiB + 1 without Content-Length", pad(1<<20 + 1), true, nil, false},
		{"endless, without Content-Length", nil, true, nil, false},
		{"2 KiB cap", pad(2048), false, []RemoteOption{WithJWKSMaxSize(2048)}, true},
		{"2 KiB cap + 1", pad(2049), true, []RemoteOption{WithJWKSMaxSize(2048)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.chunked {
					// Write in pieces, flushing, so no Content-Length is sent.
					// A nil body is endless: spaces until the client hangs up
					// (or 1 GiB, which a capped reader never gets near).
					b := tt.body
					if b == nil {
						_, _ = w.Write([]byte(`{"keys":[`))
						spaces := bytes.Repeat([]byte(" "), 32<<10)
						for range (1 << 30) / len(spaces) {
							if _, err := w.Write(spaces); err != nil {
								return
							}
							w.(http.Flusher).Flush()
						}
						return
					}
					for len(b) > 0 {
						n := min(len(b), 32<<10)
						if _, err := w.Write(b[:n]); err != nil {
							return
						}
						w.(http.Flusher).Flush()
						b = b[n:]
					}
					return
				}
				_, _ = w.Write(tt.body)
			}))
			defer srv.Close()
			rs, err := NewRemoteKeySet(srv.URL, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			err = rs.Refresh(context.Background())
			if tt.ok != (err == nil) {
				t.Fatalf("Refresh of a %d-byte document = %v; want success %v", len(tt.body), err, tt.ok)
			}
			if !tt.ok && !strings.Contains(err.Error(), "exceeds") {
				t.Errorf("Refresh of a %d-byte document = %v; want it to say the cap was exceeded", len(tt.body), err)
			}
		})
	}
}

func TestRemoteKeySetTimeout(t *testing.T) {
	t.Parallel()
	is := newIssuer(t, EdDSA)
	srv := newJWKSServer(t, is.keys.JWKS())
	release := srv.hold()
	defer release()
	rs := newRemote(t, srv, newFakeClock(), WithJWKSHTTPClient(&http.Client{Timeout: 100 * time.Millisecond}))
	start := time.Now()
	err := rs.Refresh(context.Background())
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("Refresh of a server that never answers = %v; want a timeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Refresh took %v; want about the 100ms timeout", d)
	}
	a := newVerifier(t, rs)
	wantVerify(t, a, is.token(t), ErrUnavailable)
}

// TestRemoteKeySetRequestContext shows a request waiting for a fetch gives
// up when its own context ends, without cancelling the fetch for others.
func TestRemoteKeySetRequestContext(t *testing.T) {
	t.Parallel()
	is := newIssuer(t, EdDSA)
	srv := newJWKSServer(t, is.keys.JWKS())
	release := srv.hold()
	rs := newRemote(t, srv, newFakeClock())
	kid := is.keys.SigningKey().ID()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := rs.VerificationKey(ctx, kid)
		done <- err
	}()
	srv.waitHit(t)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) || errors.Is(err, ErrTokenUnknownKey) {
		t.Fatalf("VerificationKey with its context cancelled = %v; want %v", err, context.Canceled)
	}
	release()
	waitFor(t, "the fetch to finish", func() bool { return len(rs.Keys()) == 1 })
	wantKey(t, rs, kid, nil)
	srv.wantRequests(t, 1)
}

// jwkMap returns the public JWK of k as a map, to be edited.
func jwkMap(t testing.TB, k *Key) map[string]any {
	t.Helper()
	b, err := k.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func edit(m map[string]any, kv ...any) map[string]any {
	c := maps.Clone(m)
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
		} else {
			c[kv[i].(string)] = kv[i+1]
		}
	}
	return c
}

// captureHandler is a slog handler that keeps the records it gets.
type captureHandler struct {
	mu      sync.Mutex
	records []slog.Record
}

func (h *captureHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.records = append(h.records, r.Clone())
	h.mu.Unlock()
	return nil
}
func (h *captureHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *captureHandler) WithGroup(string) slog.Handler      { return h }

func (h *captureHandler) messages(level slog.Level, msg string) []slog.Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []slog.Record
	for _, r := range h.records {
		if r.Level == level && r.Message == msg {
			out = append(out, r)
		}
	}
	return out
}

// TestRemoteKeySetSkipsJWKs shows which JWKs are used and which are skipped,
// never guessed at, each with a debug log line.
func TestRemoteKeySetSkipsJWKs(t *testing.T) {
	t.Parallel()
	ed := jwkMap(t, genKey(t, EdDSA))
	es := jwkMap(t, genKey(t, ES256))
	rs256 := jwkMap(t, genKey(t, RS256))

	// Private JWKs, built from real private keys.
	_, edPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecPriv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	weakJWK := map[string]any{"kty": "RSA", "kid": "weak", "alg": "RS256", "use": "sig",
		"n": b64(weak.N.Bytes()), "e": "AQAB"}
	p384, err := GenerateKey(nil, ES384)
	if err != nil {
		t.Fatal(err)
	}
	es384 := jwkMap(t, p384)
	offCurve := edit(es, "kid", "off-curve", "y", es["x"]) // (x, x) is not on the curve

	skipped := []struct {
		name string
		jwk  any
	}{
		{"no alg", edit(ed, "kid", "no-alg", "alg", nil)},
		{"alg not a string", edit(ed, "kid", "alg-number", "alg", 1)},
		{"alg none", edit(ed, "kid", "alg-none", "alg", "none")},
		{"alg HS256 on an RSA key", edit(rs256, "kid", "rsa-hs256", "alg", "HS256")},
		{"unknown alg", edit(ed, "kid", "alg-ed448", "alg", "Ed448")},
		{"use enc", edit(ed, "kid", "use-enc", "use", "enc")},
		{"use not a string", edit(ed, "kid", "use-array", "use", []string{"sig"})},
		{"key_ops without verify", edit(ed, "kid", "ops-encrypt", "key_ops", []string{"encrypt"})},
		{"key_ops sign only", edit(ed, "kid", "ops-sign", "key_ops", []string{"sign"})},
		{"key_ops empty", edit(ed, "kid", "ops-empty", "key_ops", []string{})},
		{"key_ops not an array", edit(ed, "kid", "ops-string", "key_ops", "verify")},
		{"no kid", edit(ed, "kid", nil)},
		{"empty kid", edit(ed, "kid", "")},
		{"kid with a space", edit(ed, "kid", "a kid")},
		{"kid not a string", edit(ed, "kid", 7)},
		{"EC private key", edit(es, "kid", "ec-private", "d", b64(ecPriv.D.FillBytes(make([]byte, 32))))},
		{"OKP private key", edit(ed, "kid", "okp-private", "d", b64(edPriv.Seed()))},
		{"RSA private key", edit(rs256, "kid", "rsa-private", "d", "AQAB", "p", "AQAB", "q", "AQAB")},
		{"RSA with only qi", edit(rs256, "kid", "rsa-qi", "qi", "AQAB")},
		{"symmetric key", map[string]any{"kty": "oct", "kid": "oct", "alg": "HS256", "k": b64(bytes.Repeat([]byte("k"), 32))}},
		{"symmetric key without k", map[string]any{"kty": "oct", "kid": "oct-nok", "alg": "RS256"}},
		{"weak RSA key", weakJWK},
		{"RSA key with ES256", edit(rs256, "kid", "rsa-es256", "alg", "ES256")},
		{"EC key with RS256", edit(es, "kid", "ec-rs256", "alg", "RS256")},
		{"EC key with EdDSA", edit(es, "kid", "ec-eddsa", "alg", "EdDSA")},
		{"OKP key with ES256", edit(ed, "kid", "okp-es256", "alg", "ES256")},
		{"P-256 key with ES384", edit(es, "kid", "p256-es384", "alg", "ES384")},
		{"P-384 key with ES256", edit(es384, "kid", "p384-es256", "alg", "ES256")},
		{"P-256 key claiming P-384", edit(es, "kid", "p256-as-p384", "crv", "P-384")},
		{"Ed448", edit(ed, "kid", "ed448", "crv", "Ed448")},
		{"X25519", edit(ed, "kid", "x25519", "crv", "X25519")},
		{"OKP without crv", edit(ed, "kid", "okp-nocrv", "crv", nil)},
		{"unknown kty", edit(ed, "kid", "kty-foo", "kty", "FOO")},
		{"no kty", edit(ed, "kid", "kty-none", "kty", nil)},
		{"point off the curve", offCurve},
		{"EC x too short", edit(es, "kid", "ec-short", "x", b64(make([]byte, 31)))},
		{"Ed25519 x too long", edit(ed, "kid", "ed-long", "x", b64(make([]byte, 33)))},
		{"padded base64", edit(ed, "kid", "padded", "x", ed["x"].(string)+"=")},
		{"standard base64", edit(ed, "kid", "std-b64", "x", strings.NewReplacer("-", "+", "_", "/").Replace(ed["x"].(string))+"+")},
		{"RSA without e", edit(rs256, "kid", "rsa-noe", "e", nil)},
		{"RSA with huge e", edit(rs256, "kid", "rsa-bige", "e", b64(bytes.Repeat([]byte{1}, 9)))},
		{"RSA with even e", edit(rs256, "kid", "rsa-evene", "e", "AQAC")},
		{"not an object", []int{1, 2}},
		{"a string", "key"},
	}
	// Two otherwise usable keys sharing a kid: neither is used.
	dupA := edit(jwkMap(t, genKey(t, EdDSA)), "kid", "dup")
	dupB := edit(jwkMap(t, genKey(t, EdDSA)), "kid", "dup")

	usable := []map[string]any{
		ed,
		edit(es, "key_ops", []string{"verify"}, "use", nil),
		edit(rs256, "x5t", "ignored", "ext", true),
		jwkMap(t, genKey(t, PS256)),
		es384,
		jwkMap(t, genKey(t, ES512)),
	}
	keys := []any{}
	for _, s := range skipped {
		keys = append(keys, s.jwk)
	}
	keys = append(keys, dupA, dupB)
	for _, u := range usable {
		keys = append(keys, u)
	}
	doc, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		t.Fatal(err)
	}
	srv := newJWKSServer(t, doc)
	logs := &captureHandler{}
	rs := newRemote(t, srv, newFakeClock(), WithJWKSLogger(slog.New(logs)))
	if err := rs.Refresh(context.Background()); err != nil {
		t.Fatalf("Refresh = %v; want nil", err)
	}
	var got []string
	for _, k := range rs.Keys() {
		got = append(got, k.ID())
	}
	var want []string
	for _, u := range usable {
		want = append(want, u["kid"].(string))
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("keys used = %q; want %q", got, want)
	}
	for _, u := range usable {
		k, err := rs.VerificationKey(context.Background(), u["kid"].(string))
		if err != nil || string(k.Algorithm()) != u["alg"] {
			t.Errorf("VerificationKey(%q) = %v, %v; want a %s key", u["kid"], k, err, u["alg"])
		}
	}
	for _, s := range skipped {
		m, ok := s.jwk.(map[string]any)
		if !ok {
			continue
		}
		if kid, ok := m["kid"].(string); ok && checkKeyID(kid) == nil {
			wantKey(t, rs, kid, ErrTokenUnknownKey)
		}
	}
	wantKey(t, rs, "dup", ErrTokenUnknownKey)
	// One debug line per skipped JWK, and two for the shared kid.
	if n, want := len(logs.messages(slog.LevelDebug, "auth: JWK skipped")), len(skipped)+2; n != want {
		t.Errorf("%d debug lines for skipped keys; want %d", n, want)
	}
	for _, r := range logs.messages(slog.LevelDebug, "auth: JWK skipped") {
		var reason string
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "reason" {
				reason = a.Value.String()
			}
			return true
		})
		if reason == "" {
			t.Errorf("skipped-key log line without a reason: %v", r)
		}
	}
}

// TestRemoteKeySetKeepsUnchangedKeys shows a refresh that finds a key
// unchanged keeps the same *Key, and replaces one that changed.
func TestRemoteKeySetKeepsUnchangedKeys(t *testing.T) {
	t.Parallel()
	a, b := genKey(t, EdDSA), genKey(t, EdDSA, WithKeyID("b"))
	srv := newJWKSServer(t, jwksOf(t, a, b))
	rs := newRemote(t, srv, newFakeClock())
	if err := rs.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	before := rs.Keys()
	b2 := genKey(t, EdDSA, WithKeyID("b"))
	srv.set(jwksOf(t, a, b2), http.StatusOK, "")
	if err := rs.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	after := rs.Keys()
	if after[0] != before[0] {
		t.Errorf("unchanged key %q: a new *Key after refresh; want the same", a.ID())
	}
	if after[1] == before[1] || !samePublicKey(after[1].Public(), b2.Public()) {
		t.Errorf("changed key %q: not replaced by the new key", "b")
	}
}

// TestRemoteKeySetStopsOnCancel shows Start's goroutine, and the fetch it
// has under way, end when its context ends.
func TestRemoteKeySetStopsOnCancel(t *testing.T) {
	t.Parallel()
	t.Run("waiting", func(t *testing.T) {
		t.Parallel()
		is := newIssuer(t, EdDSA)
		srv := newJWKSServer(t, is.keys.JWKS())
		rs := newRemote(t, srv, newFakeClock())
		ft := installFakeTimer(rs)
		ctx, cancel := context.WithCancel(context.Background())
		if err := rs.Start(ctx); err != nil {
			t.Fatal(err)
		}
		ft.wantWait(t, 225*time.Second)
		cancel()
		waitClosed(t, rs.loopDone)
		// Still serving, without the goroutine.
		wantKey(t, rs, is.keys.SigningKey().ID(), nil)
	})
	t.Run("fetching", func(t *testing.T) {
		t.Parallel()
		is := newIssuer(t, EdDSA)
		srv := newJWKSServer(t, is.keys.JWKS())
		rs := newRemote(t, srv, newFakeClock())
		ft := installFakeTimer(rs)
		ctx, cancel := context.WithCancel(context.Background())
		if err := rs.Start(ctx); err != nil {
			t.Fatal(err)
		}
		ft.wantWait(t, 225*time.Second)
		release := srv.hold()
		defer release()
		ft.tick()
		srv.waitHit(t)
		srv.waitHit(t) // the first fetch's hit was not consumed
		cancel()
		waitClosed(t, rs.loopDone)
		waitFor(t, "the fetch to end", func() bool {
			rs.mu.Lock()
			defer rs.mu.Unlock()
			return rs.inflight == nil
		})
	})
	t.Run("goroutines", func(t *testing.T) {
		// Many sets started and stopped leave no goroutine behind.
		is := newIssuer(t, EdDSA)
		srv := newJWKSServer(t, is.keys.JWKS())
		var sets []*RemoteKeySet
		var cancels []context.CancelFunc
		for range 20 {
			rs := newRemote(t, srv, newFakeClock())
			ctx, cancel := context.WithCancel(context.Background())
			if err := rs.Start(ctx); err != nil {
				t.Fatal(err)
			}
			sets, cancels = append(sets, rs), append(cancels, cancel)
		}
		var running atomic.Int64
		for _, rs := range sets {
			running.Add(1)
			go func() {
				<-rs.loopDone
				running.Add(-1)
			}()
		}
		for _, c := range cancels {
			c()
		}
		waitFor(t, "every refresh goroutine to end", func() bool { return running.Load() == 0 })
	})
}

func waitClosed(t *testing.T, c <-chan struct{}) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(waitLimit):
		t.Fatalf("refresh goroutine still running %v after its context ended", waitLimit)
	}
}

// TestRemoteKeySetNeverFollowsJKU shows a token naming a key URL is refused
// before any key source is consulted: neither the configured JWK Set nor
// the URL in the token gets a request.
func TestRemoteKeySetNeverFollowsJKU(t *testing.T) {
	t.Parallel()
	attacker := genKey(t, EdDSA)
	evil := newJWKSServer(t, jwksOf(t, attacker))
	srv := newJWKSServer(t, jwksOf(t, genKey(t, EdDSA)))
	rs := newRemote(t, srv, newFakeClock())
	a := newVerifier(t, rs)
	for _, member := range []string{"jku", "x5u"} {
		tok := forgeToken(t, attacker, map[string]any{"alg": "EdDSA", "kid": attacker.ID(), "typ": "at+jwt", member: evil.URL()})
		wantVerify(t, a, tok, ErrTokenHeader)
	}
	srv.wantRequests(t, 0)
	evil.wantRequests(t, 0)
}

// TestVerifyHeaderCache shows the header cache: a header decoded once is
// not decoded again, a hit still asks the key source, so a retired key or a
// kid that now names a key of another algorithm is refused as without the
// cache.
func TestVerifyHeaderCache(t *testing.T) {
	k := genKey(t, EdDSA)
	// A header the library never writes, as another issuer might.
	h := map[string]any{"typ": "at+jwt", "kid": k.ID(), "alg": "EdDSA"}
	tok := forgeToken(t, k, h)
	hSeg := tok[:strings.IndexByte(tok, '.')]
	srv := newJWKSServer(t, jwksOf(t, k))
	clock := newFakeClock()
	rs := newRemote(t, srv, clock)
	a := newVerifier(t, rs)
	src := &countingKeySource{KeySource: rs}
	counted := newVerifier(t, src)

	wantVerify(t, a, tok, nil)
	e := a.headers.get(hSeg)
	if e == nil || e.kid != k.ID() || e.alg != EdDSA {
		t.Fatalf("header cache after a verified token = %+v; want kid %q alg EdDSA", e, k.ID())
	}
	for range 3 {
		wantVerify(t, counted, tok, nil)
	}
	if n := src.calls.Load(); n != 3 {
		t.Errorf("key source asked %d times for 3 verifications; want 3", n)
	}

	// A badly signed token with a new header is not remembered.
	bad := forgeToken(t, genKey(t, EdDSA), map[string]any{"alg": "EdDSA", "kid": k.ID(), "typ": "at+jwt", "x": 1})
	wantVerify(t, a, bad, ErrTokenSignature)
	if e := a.headers.get(bad[:strings.IndexByte(bad, '.')]); e != nil {
		t.Errorf("header of a token with a bad signature was remembered: %+v", e)
	}

	// The same kid now names an ES256 key: the cached header's alg no
	// longer fits.
	other := genKey(t, ES256, WithKeyID(k.ID()))
	srv.set(jwksOf(t, other), http.StatusOK, "")
	if err := rs.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantVerify(t, a, tok, ErrTokenAlgorithm)

	// Retired: the kid is gone.
	srv.set(jwksOf(t, genKey(t, EdDSA)), http.StatusOK, "")
	if err := rs.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantVerify(t, a, tok, ErrTokenUnknownKey)
}

type countingKeySource struct {
	KeySource
	calls atomic.Int64
}

func (s *countingKeySource) VerificationKey(ctx context.Context, kid string) (*Key, error) {
	s.calls.Add(1)
	return s.KeySource.VerificationKey(ctx, kid)
}

func TestHeaderCacheBounds(t *testing.T) {
	t.Parallel()
	c := newHeaderCache()
	for i := range 10000 {
		c.put(fmt.Sprintf("header-%d", i), "kid", EdDSA)
	}
	n := 0
	for i := range c.slots {
		if c.slots[i].Load() != nil {
			n++
		}
	}
	if n > headerCacheSlots {
		t.Errorf("%d entries after 10000 puts; want at most %d", n, headerCacheSlots)
	}
	if e := c.get("header-9999"); e == nil || e.kid != "kid" {
		t.Errorf("get(last header put) = %+v; want it", e)
	}
	long := strings.Repeat("h", maxCachedHeader+1)
	c.put(long, "kid", EdDSA)
	if e := c.get(long); e != nil {
		t.Errorf("get(%d-byte header) = %+v; want nil: too long to remember", len(long), e)
	}
	// Two headers of one set both stay.
	pair := newHeaderCache()
	a := "header-a"
	var b string
	for i := 0; b == ""; i++ {
		if h := fmt.Sprintf("header-b%d", i); maphash.String(pair.seed, h)&(headerCacheSlots-2) == maphash.String(pair.seed, a)&(headerCacheSlots-2) {
			b = h
		}
	}
	pair.put(a, "ka", EdDSA)
	pair.put(b, "kb", ES256)
	if ea, eb := pair.get(a), pair.get(b); ea == nil || ea.kid != "ka" || eb == nil || eb.kid != "kb" || eb.alg != ES256 {
		t.Errorf("two headers of one set: get = %+v, %+v; want both", ea, eb)
	}
	if e := newHeaderCache().get("x"); e != nil {
		t.Errorf("empty headerCache get = %+v; want nil", e)
	}
}

// TestVerifyRemoteAllocs shows verifying through a warm remote key set
// allocates exactly as much as through a local key set: the cache hit, the
// key lookup and the freshness check allocate nothing. It is not parallel,
// since AllocsPerRun counts every allocation of the process.
func TestVerifyRemoteAllocs(t *testing.T) {
	for _, alg := range []Algorithm{EdDSA, ES256} {
		t.Run(string(alg), func(t *testing.T) {
			is := newIssuer(t, alg)
			tok := is.token(t)
			srv := newJWKSServer(t, is.keys.JWKS())
			rs := newRemote(t, srv, newFakeClock())
			remote := newVerifier(t, rs)
			ctx := context.Background()
			wantVerify(t, remote, tok, nil)
			kid := is.keys.SigningKey().ID()
			hSeg := tok[:strings.IndexByte(tok, '.')]
			if n := testing.AllocsPerRun(100, func() { _ = remote.headers.get(hSeg) }); n != 0 {
				t.Errorf("header cache hit allocates %v times; want 0", n)
			}
			if n := testing.AllocsPerRun(100, func() { _, _ = rs.VerificationKey(ctx, kid) }); n != 0 {
				t.Errorf("RemoteKeySet.VerificationKey of a cached key allocates %v times; want 0", n)
			}
			local := testing.AllocsPerRun(100, func() { _, _ = is.auth.Verify(ctx, tok) })
			viaRemote := testing.AllocsPerRun(100, func() { _, _ = remote.Verify(ctx, tok) })
			if viaRemote > local {
				t.Errorf("Verify allocates %v times through the remote set, %v through the local one; want no more", viaRemote, local)
			}
		})
	}
}

// BenchmarkVerifyRemote and BenchmarkVerifyLocal verify the same token, with
// a started, warm remote key set and with the key set that signed it.
// Compare them:
//
//	go test -run '^$' -bench 'VerifyRemote|VerifyLocal' -benchmem -count 10 . > bench.txt
//	benchstat -col .name bench.txt
func BenchmarkVerifyRemote(b *testing.B) {
	for _, alg := range remoteBenchAlgs {
		b.Run(string(alg), func(b *testing.B) {
			f := benchFixtureFor(b, alg)
			srv := httptest.NewServer(f.auth.Keys())
			defer srv.Close()
			a := startedRemote(b, srv.URL)
			ctx := context.Background()
			if _, err := a.Verify(ctx, f.token); err != nil {
				b.Fatalf("Verify = %v", err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Verify(ctx, f.token); err != nil {
					b.Fatalf("Verify = %v", err)
				}
			}
		})
	}
}

func BenchmarkVerifyLocal(b *testing.B) {
	for _, alg := range remoteBenchAlgs {
		b.Run(string(alg), func(b *testing.B) {
			f := benchFixtureFor(b, alg)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.auth.Verify(ctx, f.token); err != nil {
					b.Fatalf("Verify = %v", err)
				}
			}
		})
	}
}

// startedRemote returns a verifier on a started remote key set for the JWK
// Set at url, as a service would run one.
func startedRemote(b *testing.B, url string) *Auth {
	b.Helper()
	rs, err := NewRemoteKeySet(url)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	if err := rs.Start(ctx); err != nil {
		b.Fatalf("Start = %v", err)
	}
	a, err := New(WithKeySource(rs), WithIssuer(benchIssuer), WithAudience(benchAudience), WithClock(benchClock))
	if err != nil {
		b.Fatal(err)
	}
	return a
}

// remoteBenchAlgs are the public-key algorithms of the remote benchmarks.
var remoteBenchAlgs = []Algorithm{EdDSA, ES256, RS256}

// BenchmarkHeaderKey measures only what the key source changes in Verify:
// resolving a token's header to its key, with a warm remote key set (the
// header cache and RemoteKeySet.VerificationKey) and with the key set that
// signed the token (its own header table).
func BenchmarkHeaderKey(b *testing.B) {
	f := benchFixtureFor(b, EdDSA)
	srv := httptest.NewServer(f.auth.Keys())
	defer srv.Close()
	remote := startedRemote(b, srv.URL)
	ctx := context.Background()
	if _, err := remote.Verify(ctx, f.token); err != nil {
		b.Fatalf("Verify = %v", err)
	}
	hSeg := f.token[:strings.IndexByte(f.token, '.')]
	for _, bc := range []struct {
		name string
		a    *Auth
	}{{"local", f.auth}, {"remote", remote}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if k, learn, err := bc.a.headerKey(ctx, hSeg); err != nil || k == nil || learn != "" {
					b.Fatalf("headerKey = %v, %q, %v; want the key from a fast path", k, learn, err)
				}
			}
		})
	}
}
