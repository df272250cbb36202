package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/jwtkit/auth/internal/testclock"

	"github.com/golang-jwt/jwt/v5"
)

// The benchmarks sign and verify tokens with the same fixed claims, under a
// fixed clock so that no token expires while a benchmark runs. For each
// algorithm one key and one token are built and shared: Verify, the
// middleware and the raw golang-jwt parse all measure the same token string.
//
// To compare Verify with the golang-jwt baseline, give the lines of
// BenchmarkVerify/ALG and BenchmarkGolangJWTParse/ALG one common name in two
// files and run benchstat on them.

const (
	benchIssuer   = "https://id.example.com"
	benchAudience = "api"
)

// benchNow is the fixed instant of every benchmark clock.
var benchNow = testclock.Instant

func benchClock() time.Time { return benchNow }

// benchAlgs are the algorithms every benchmark runs for.
var benchAlgs = []Algorithm{HS256, RS256, ES256, EdDSA}

// benchClaims returns the claims every benchmark token carries; Issue adds
// iss, aud, iat, exp and jti.
func benchClaims() Claims {
	return Claims{Subject: "user-42", Role: "admin", Email: "ada@example.com"}
}

// benchFixture is one algorithm's key, verifier and token, and what the
// cold benchmarks need: distinct tokens of the same claims, and a verifier
// whose cache is too small to hold any of them by the time it comes round
// again, so that every verification is a miss (and an insertion).
type benchFixture struct {
	key   *Key
	auth  *Auth
	token string
	pool  []string
	cold  *Auth
}

// benchPool is the number of distinct tokens a cold benchmark cycles
// through; the cold verifier's cache holds 32.
const benchPool = 1024

var (
	benchMu       sync.Mutex
	benchFixtures = map[Algorithm]*benchFixture{}
)

// benchFixtureFor returns the shared fixture for alg, building it on first
// use (an RSA key takes a while to generate).
func benchFixtureFor(b *testing.B, alg Algorithm) *benchFixture {
	b.Helper()
	benchMu.Lock()
	defer benchMu.Unlock()
	if f, ok := benchFixtures[alg]; ok {
		return f
	}
	key, err := GenerateKey(nil, alg)
	if err != nil {
		b.Fatalf("GenerateKey(nil, %s) = %v", alg, err)
	}
	ks, err := NewKeySet(key)
	if err != nil {
		b.Fatalf("NewKeySet = %v", err)
	}
	a, err := New(WithKeys(ks), WithIssuer(benchIssuer), WithAudience(benchAudience), WithClock(benchClock))
	if err != nil {
		b.Fatalf("New = %v", err)
	}
	at, err := a.Issue(context.Background(), benchClaims())
	if err != nil {
		b.Fatalf("Issue = %v", err)
	}
	if _, err := a.Verify(context.Background(), at.Token); err != nil {
		b.Fatalf("Verify(%q) = %v; want nil", at.Token, err)
	}
	cold, err := New(WithKeys(ks), WithIssuer(benchIssuer), WithAudience(benchAudience), WithClock(benchClock), WithTokenCache(32, 64<<10))
	if err != nil {
		b.Fatalf("New = %v", err)
	}
	f := &benchFixture{key: key, auth: a, token: at.Token, cold: cold}
	for range benchPool {
		at, err := a.Issue(context.Background(), benchClaims())
		if err != nil {
			b.Fatalf("Issue = %v", err)
		}
		f.pool = append(f.pool, at.Token)
	}
	benchFixtures[alg] = f
	return f
}

func BenchmarkSign(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run(string(alg), func(b *testing.B) {
			a := benchFixtureFor(b, alg).auth
			ctx := context.Background()
			c := benchClaims()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Issue(ctx, c); err != nil {
					b.Fatalf("Issue = %v", err)
				}
			}
		})
	}
}

// BenchmarkVerify verifies the same token again and again (hit: the
// verified-token cache answers) and a token not seen lately each time
// (cold: the whole verification, then an insertion into the cache).
func BenchmarkVerify(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run(string(alg)+"/hit", func(b *testing.B) {
			f := benchFixtureFor(b, alg)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.auth.Verify(ctx, f.token); err != nil {
					b.Fatalf("Verify = %v", err)
				}
			}
		})
		b.Run(string(alg)+"/cold", func(b *testing.B) {
			f := benchFixtureFor(b, alg)
			ctx := context.Background()
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.cold.Verify(ctx, f.pool[i%benchPool]); err != nil {
					b.Fatalf("Verify = %v", err)
				}
				i++
			}
		})
	}
}

// BenchmarkVerifyParallel is the hit of BenchmarkVerify from every
// goroutine at once: run it with -cpu 1,2 to see that readers do not wait
// for one another.
func BenchmarkVerifyParallel(b *testing.B) {
	for _, alg := range []Algorithm{HS256, RS256} {
		b.Run(string(alg)+"/hit", func(b *testing.B) {
			f := benchFixtureFor(b, alg)
			ctx := context.Background()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					// A few distinct tokens, so goroutines touch several shards.
					if _, err := f.auth.Verify(ctx, f.pool[i%8]); err != nil {
						b.Errorf("Verify = %v", err)
						return
					}
					i++
				}
			})
		})
	}
}

// benchWriter is a ResponseWriter that does no work, so that a benchmark
// measures the middleware rather than the recorder. It keeps the status of
// a refusal so the benchmark can fail on one.
type benchWriter struct {
	header http.Header
	status int
}

func (w *benchWriter) Header() http.Header         { return w.header }
func (w *benchWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *benchWriter) WriteHeader(code int)        { w.status = code }

// benchHandler reads the claims and nothing else; it reports their absence
// as a 500 so a broken path cannot pass for a fast one.
var benchHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if _, ok := ClaimsFromContext(r.Context()); !ok {
		w.WriteHeader(http.StatusInternalServerError)
	}
})

// BenchmarkMiddleware runs Require around a handler that reads the claims,
// as a server does: a new httptest.ResponseRecorder per request, the same
// token again (hit) or a token not seen lately (cold). Harness is the same
// loop around a handler that does nothing, without Require: what Require
// adds is the difference.
func BenchmarkMiddleware(b *testing.B) {
	b.Run("harness", func(b *testing.B) {
		r := httptest.NewRequest(http.MethodGet, "/me", nil)
		r.Header.Set("Authorization", "Bearer "+benchFixtureFor(b, HS256).token)
		h := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
		b.ReportAllocs()
		for b.Loop() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d; want %d", w.Code, http.StatusOK)
			}
		}
	})
	for _, alg := range benchAlgs {
		for _, mode := range []string{"hit", "cold"} {
			b.Run(string(alg)+"/"+mode, func(b *testing.B) {
				f := benchFixtureFor(b, alg)
				a, toks := f.auth, []string{f.token}
				if mode == "cold" {
					a, toks = f.cold, f.pool
				}
				h := a.Require(benchHandler)
				reqs := make([]*http.Request, len(toks))
				for i, tok := range toks {
					reqs[i] = httptest.NewRequest(http.MethodGet, "/me", nil)
					reqs[i].Header.Set("Authorization", "Bearer "+tok)
				}
				i := 0
				b.ReportAllocs()
				for b.Loop() {
					w := httptest.NewRecorder()
					h.ServeHTTP(w, reqs[i%len(reqs)])
					if w.Code != http.StatusOK {
						b.Fatalf("status %d; want %d", w.Code, http.StatusOK)
					}
					i++
				}
			})
		}
	}
	b.Run("HS256/hit-nowriter", func(b *testing.B) {
		f := benchFixtureFor(b, HS256)
		r := httptest.NewRequest(http.MethodGet, "/me", nil)
		r.Header.Set("Authorization", "Bearer "+f.token)
		h := f.auth.Require(benchHandler)
		w := &benchWriter{header: make(http.Header)}
		b.ReportAllocs()
		for b.Loop() {
			h.ServeHTTP(w, r)
			if w.status != 0 {
				b.Fatalf("status %d; want none written", w.status)
			}
		}
	})
}

// benchJWTClaims is what a golang-jwt user would declare for the same token.
type benchJWTClaims struct {
	jwt.RegisteredClaims
	Role  string `json:"role"`
	Email string `json:"email"`
	Scope string `json:"scope"`
}

// BenchmarkGolangJWTParse is the baseline: golang-jwt/v5 parsing the same
// token with the checks Verify makes that it can express (alg, kid, typ,
// iss, aud, exp required, iat, strict base64, sub and jti present).
func BenchmarkGolangJWTParse(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run(string(alg), func(b *testing.B) {
			f := benchFixtureFor(b, alg)
			kid, vk := f.key.ID(), f.key.verify
			p := jwt.NewParser(
				jwt.WithValidMethods([]string{string(alg)}),
				jwt.WithIssuer(benchIssuer),
				jwt.WithAudience(benchAudience),
				jwt.WithExpirationRequired(),
				jwt.WithIssuedAt(),
				jwt.WithStrictDecoding(),
				jwt.WithTimeFunc(benchClock),
			)
			keyFunc := func(t *jwt.Token) (any, error) {
				if k, _ := t.Header["kid"].(string); k != kid {
					return nil, ErrTokenUnknownKey
				}
				if typ, _ := t.Header["typ"].(string); typ != tokenType {
					return nil, ErrTokenHeader
				}
				return vk, nil
			}
			b.ReportAllocs()
			for b.Loop() {
				var c benchJWTClaims
				if _, err := p.ParseWithClaims(f.token, &c, keyFunc); err != nil {
					b.Fatalf("ParseWithClaims = %v", err)
				}
				if c.Subject == "" || c.ID == "" {
					b.Fatalf("claims %+v; want sub and jti", c)
				}
			}
		})
	}
}
