package auth

// The shared fixtures of the tests: one fixed instant, one fake clock, one
// HMAC secret, and the helpers that build an Auth, issue a token and run a
// request. The instant and the clock are those of package
// internal/testclock, which the external test package (auth_test) and the
// other packages' tests use too; the exported names at the end give
// auth_test the unexported API it checks, as export_test.go files do.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jwtkit/auth/internal/testclock"

	"github.com/jwtkit/auth/memstore"
	"github.com/jwtkit/auth/password"
)

// testNow is the one fixed instant the tests issue and verify at.
var testNow = testclock.Instant

// mwNow is testNow under the name the middleware tests use.
var mwNow = testNow

// fakeClock is the fake clock of the tests; newFakeClock starts one at
// testclock.Instant.
type fakeClock = testclock.Clock

func newFakeClock() *fakeClock { return testclock.New() }

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

// revocationFunc adapts a function of the claims to
// [authstore.RevocationChecker], for tests that decide per token.
type revocationFunc func(ctx context.Context, c *Claims) (bool, error)

func (f revocationFunc) Revoked(ctx context.Context, userID, sessionID, tokenID string, issuedAt time.Time) (bool, error) {
	return f(ctx, &Claims{Subject: userID, SessionID: sessionID, ID: tokenID, IssuedAt: issuedAt})
}

// mustHandler returns h, failing the test on err.
func mustHandler(t testing.TB) func(http.Handler, error) http.Handler {
	return func(h http.Handler, err error) http.Handler {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
}

// newMemStore returns an empty in-memory refresh and revocation store.
func newMemStore(t testing.TB) *memstore.Store {
	t.Helper()
	s, err := memstore.New()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newTestBcrypt returns a bcrypt hasher of the lowest cost, to keep tests
// quick.
func newTestBcrypt(t testing.TB) *password.Bcrypt {
	t.Helper()
	p, err := password.NewBcrypt(password.WithCost(password.MinCost))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Unexported API that the external test package checks, as export_test.go
// files expose it.
var (
	CanSign         = (*Key).canSign
	VerifyOnly      = (*Key).verifyOnly
	KeySetJWKS      = (*KeySet).jwks
	HasAudience     = (*Claims).hasAudience
	ErrNoSigningKey = errNoSigningKey
)

// TokenCacheLen returns the number of tokens a's verified-token cache
// holds and the bytes it counts for them; -1 without a cache.
func TokenCacheLen(a *Auth) (int, int64) {
	if a.cache == nil {
		return -1, -1
	}
	return a.cache.len()
}
