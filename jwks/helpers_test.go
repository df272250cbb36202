package jwks

// The shared fixtures of the jwks tests: one fixed instant, one fake clock,
// a JWK Set server the test controls, an issuer that signs, and the helpers
// that build a RemoteKeySet and check what it answers.
//
// The tests serve JWK Sets from httptest servers and measure time with the
// fake clock; Start's timer is replaced by one the test fires. Nothing waits
// for real time to pass except the HTTP timeout test; where a fetch finishes
// in another goroutine, the test waits for the server's request channel or
// polls the result, with a deadline.

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtkit/auth/internal/testclock"

	"github.com/jwtkit/auth"
)

const (
	rjIssuer   = "https://id.example.com"
	rjAudience = "api"
)

// rjNow is the fixed instant of the issuing and verifying Auths, and where
// every fake clock starts.
var rjNow = testclock.Instant

func rjClock() time.Time { return rjNow }

// waitLimit bounds every wait for something that happens on its own.
const waitLimit = 10 * time.Second

// fakeClock is the fake clock of the tests; newFakeClock starts one at
// testclock.Instant.
type fakeClock = testclock.Clock

func newFakeClock() *fakeClock { return testclock.New() }

// jwksServer serves a JWK Set document that the test can change, counts
// the requests and reports each on hits.
type jwksServer struct {
	*httptest.Server
	requests atomic.Int64
	hits     chan struct{}

	mu     sync.Mutex // guards the fields below
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

// issuer is a key set that signs and the Auth that issues with it (and
// verifies with it locally).
type issuer struct {
	keys  *auth.KeySet
	local *auth.Auth
}

func newIssuer(t testing.TB, alg auth.Algorithm) *issuer {
	t.Helper()
	ks, err := auth.NewKeySet(genKey(t, alg))
	if err != nil {
		t.Fatal(err)
	}
	a, err := auth.New(auth.WithKeys(ks), auth.WithIssuer(rjIssuer), auth.WithAudience(rjAudience), auth.WithClock(rjClock))
	if err != nil {
		t.Fatal(err)
	}
	return &issuer{keys: ks, local: a}
}

func (is *issuer) token(t testing.TB) string {
	t.Helper()
	at, err := is.local.Issue(context.Background(), auth.Claims{Subject: "user-42"})
	if err != nil {
		t.Fatal(err)
	}
	return at.Token
}

// genKey returns a new key for alg.
func genKey(t testing.TB, alg auth.Algorithm, opts ...auth.KeyOption) *auth.Key {
	t.Helper()
	k, err := auth.GenerateKey(nil, alg, opts...)
	if err != nil {
		t.Fatalf("GenerateKey(%s) = %v", alg, err)
	}
	return k
}

// genEd25519 returns a new EdDSA key and its private key, for forgeToken.
func genEd25519(t testing.TB) (*auth.Key, ed25519.PrivateKey) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := auth.NewPrivateKey(auth.EdDSA, priv)
	if err != nil {
		t.Fatalf("NewPrivateKey(EdDSA) = %v", err)
	}
	return k, priv
}

// setDoc returns the JWK Set document that ks serves.
func setDoc(t testing.TB, ks *auth.KeySet) []byte {
	t.Helper()
	w := httptest.NewRecorder()
	ks.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/.well-known/jwks.json", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("KeySet.ServeHTTP = %d %s; want 200", w.Code, w.Body)
	}
	return w.Body.Bytes()
}

// jwksOf returns the JWK Set document of keys.
func jwksOf(t testing.TB, keys ...*auth.Key) []byte {
	t.Helper()
	if len(keys) == 0 {
		return []byte(`{"keys":[]}`)
	}
	ks, err := auth.NewKeySet(nil, keys...)
	if err != nil {
		t.Fatal(err)
	}
	return setDoc(t, ks)
}

// newRemote returns a remote key set for srv with a fake clock.
func newRemote(t testing.TB, srv *jwksServer, clock *fakeClock, opts ...Option) *RemoteKeySet {
	t.Helper()
	opts = append([]Option{WithClock(clock.Now)}, opts...)
	rs, err := NewRemoteKeySet(srv.URL(), opts...)
	if err != nil {
		t.Fatalf("NewRemoteKeySet(%q) = %v", srv.URL(), err)
	}
	return rs
}

// newVerifier returns an Auth that verifies with src only.
func newVerifier(t testing.TB, src auth.KeySource) *auth.Auth {
	t.Helper()
	a, err := auth.New(auth.WithKeySource(src), auth.WithIssuer(rjIssuer), auth.WithAudience(rjAudience), auth.WithClock(rjClock))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func wantVerify(t *testing.T, a *auth.Auth, tok string, want error) {
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

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// forgeToken signs, with the Ed25519 key priv, a token with header h and
// the claims an issuer would write, so tests can send headers the library
// never writes.
func forgeToken(t testing.TB, priv ed25519.PrivateKey, h map[string]any) string {
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
	input := b64(hb) + "." + b64(cb)
	return input + "." + b64(ed25519.Sign(priv, []byte(input)))
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

// waitClosed waits for Start's goroutine to signal its end on c.
func waitClosed(t *testing.T, c <-chan struct{}) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(waitLimit):
		t.Fatalf("refresh goroutine still running %v after its context ended", waitLimit)
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

// jwkMap returns the public JWK of k as a map, to be edited.
func jwkMap(t testing.TB, k *auth.Key) map[string]any {
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

// edit returns a copy of m with the members of kv (name, value, ...)
// set, or deleted for a nil value.
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

// attr returns the value of the attribute key of r, and whether it has one.
func attr(r slog.Record, key string) (slog.Value, bool) {
	var (
		v     slog.Value
		found bool
	)
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == key {
			v, found = a.Value, true
			return false
		}
		return true
	})
	return v, found
}

// benchFixture is one algorithm's issuer and token, shared by
// BenchmarkVerifyRemote and BenchmarkVerifyLocal so that both verify the
// same token string.
type benchFixture struct {
	issuer *issuer
	token  string
}

var (
	benchMu       sync.Mutex // guards benchFixtures
	benchFixtures = map[auth.Algorithm]*benchFixture{}
)

// benchFixtureFor returns the shared fixture for alg, building it on first
// use (an RSA key takes a while to generate).
func benchFixtureFor(b *testing.B, alg auth.Algorithm) *benchFixture {
	b.Helper()
	benchMu.Lock()
	defer benchMu.Unlock()
	if f, ok := benchFixtures[alg]; ok {
		return f
	}
	is := newIssuer(b, alg)
	f := &benchFixture{issuer: is, token: is.token(b)}
	benchFixtures[alg] = f
	return f
}
