package auth_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/internal/testclock"
	"github.com/jwtkit/auth/memstore"
)

// A token that verified is answered again from the cache, but every check
// that can change between two requests runs again: expiry, nbf, revocation,
// and whether its key still stands.
func TestTokenCacheRechecks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	newFixture := func(t *testing.T, opts ...auth.Option) (*auth.Auth, *auth.KeySet, *testclock.Clock, signer, signer) {
		clock := testclock.New()
		cur := newSigner(t, auth.ES256, "p256-a")
		old := newSigner(t, auth.ES256, "p256-b")
		ks, err := auth.NewKeySet(cur.key, old.key)
		if err != nil {
			t.Fatal(err)
		}
		a, err := auth.New(append([]auth.Option{auth.WithKeys(ks), auth.WithIssuer(fxIssuer), auth.WithAudience(fxAudience), auth.WithClock(clock.Now)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		return a, ks, clock, cur, old
	}
	claims := func(clock *testclock.Clock, kv ...any) map[string]any {
		now := clock.Now().Unix()
		return with(map[string]any{"iss": fxIssuer, "aud": fxAudience, "sub": "u1", "jti": "j1", "iat": now - 1, "exp": now + 60}, kv...)
	}
	cached := func(t *testing.T, a *auth.Auth, tok string) {
		t.Helper()
		checkVerify(t, a, tok, nil)
		checkVerify(t, a, tok, nil)
		if n, _ := auth.TokenCacheLen(a); n < 1 {
			t.Fatalf("cache holds %d tokens after a verification; want at least 1", n)
		}
	}

	t.Run("expired on the next request", func(t *testing.T) {
		a, _, clock, cur, _ := newFixture(t, auth.WithLeeway(5*time.Second))
		tok := forge(t, headerFor(cur), claims(clock), cur)
		cached(t, a, tok)
		clock.Advance(64 * time.Second) // within the leeway
		checkVerify(t, a, tok, nil)
		clock.Advance(time.Second) // exp + leeway
		checkVerify(t, a, tok, auth.ErrTokenExpired)
		checkVerify(t, a, tok, auth.ErrTokenExpired)
		clock.Advance(-time.Hour)                   // a clock going back does not revive the entry: it was dropped, and the token is verified again
		checkVerify(t, a, tok, auth.ErrTokenClaims) // iat in the future
	})
	t.Run("not yet valid, then valid", func(t *testing.T) {
		a, _, clock, cur, _ := newFixture(t)
		tok := forge(t, headerFor(cur), claims(clock, "nbf", clock.Now().Unix()+10), cur)
		checkVerify(t, a, tok, auth.ErrTokenClaims)
		if n, _ := auth.TokenCacheLen(a); n != 0 {
			t.Fatalf("cache holds %d tokens after a refusal; want 0", n)
		}
		clock.Advance(10 * time.Second)
		cached(t, a, tok)
		clock.Advance(-11 * time.Second)
		checkVerify(t, a, tok, auth.ErrTokenClaims) // nbf checked again on a hit
	})
	t.Run("revoked on the next request", func(t *testing.T) {
		store := newMemStoreExt(t)
		a, _, _, _, _ := newFixture(t, auth.WithRevocation(store))
		at, err := a.Issue(ctx, auth.Claims{Subject: "u1"})
		if err != nil {
			t.Fatal(err)
		}
		cached(t, a, at.Token)
		other, _ := a.Issue(ctx, auth.Claims{Subject: "u2"})
		cached(t, a, other.Token)
		if err := a.RevokeAccessToken(ctx, at.Claims); err != nil {
			t.Fatal(err)
		}
		checkVerify(t, a, at.Token, auth.ErrTokenRevoked)
		checkVerify(t, a, other.Token, nil)
	})
	t.Run("revocation check failing is 503 on a hit", func(t *testing.T) {
		var fail bool
		var mu sync.Mutex
		rc := checkerFunc(func(context.Context, string, string, string, time.Time) (bool, error) {
			mu.Lock()
			defer mu.Unlock()
			if fail {
				return false, errors.New("store down")
			}
			return false, nil
		})
		a, _, clock, cur, _ := newFixture(t, auth.WithRevocation(rc))
		tok := forge(t, headerFor(cur), claims(clock), cur)
		cached(t, a, tok)
		mu.Lock()
		fail = true
		mu.Unlock()
		checkVerify(t, a, tok, auth.ErrUnavailable)
	})
	t.Run("key retired", func(t *testing.T) {
		a, ks, clock, cur, old := newFixture(t)
		tok := forge(t, headerFor(old), claims(clock), old)
		cached(t, a, tok)
		if err := ks.Retire(old.key.ID()); err != nil {
			t.Fatal(err)
		}
		checkVerify(t, a, tok, auth.ErrTokenUnknownKey)
		checkVerify(t, a, tok, auth.ErrTokenUnknownKey)
		checkVerify(t, a, forge(t, headerFor(cur), claims(clock), cur), nil)
	})
	t.Run("claims are the caller's own", func(t *testing.T) {
		a, _, clock, cur, _ := newFixture(t)
		tok := forge(t, headerFor(cur), claims(clock, "role", "user"), cur)
		c1 := checkVerify(t, a, tok, nil)
		c1.Role, c1.Audience[0], c1.Subject = "admin", "elsewhere", "root"
		c2 := checkVerify(t, a, tok, nil)
		c2.Audience[0] = "again"
		c3 := checkVerify(t, a, tok, nil)
		if c3.Role != "user" || c3.Subject != "u1" || !slices.Equal(c3.Audience, []string{fxAudience}) {
			t.Errorf("Verify() after callers modified earlier claims = %+v; want the token's own", c3)
		}
	})
	t.Run("off", func(t *testing.T) {
		a, _, clock, cur, _ := newFixture(t, auth.WithTokenCache(0, 0))
		checkVerify(t, a, forge(t, headerFor(cur), claims(clock), cur), nil)
		if n, _ := auth.TokenCacheLen(a); n != -1 {
			t.Errorf("WithTokenCache(0, 0): cache of %d tokens; want none", n)
		}
	})
}

// A token refused under one key set state and accepted under another: the
// cache follows the state, whichever order the requests come in.
func TestTokenCacheFollowsKeySet(t *testing.T) {
	t.Parallel()
	clock := testclock.New()
	cur := newSigner(t, auth.ES256, "p256-a")
	next := newSigner(t, auth.ES256, "p256-b")
	ks, err := auth.NewKeySet(cur.key)
	if err != nil {
		t.Fatal(err)
	}
	a, err := auth.New(auth.WithKeys(ks), auth.WithIssuer(fxIssuer), auth.WithAudience(fxAudience), auth.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	c := with(validClaims(), "iat", clock.Now().Unix()-1, "exp", clock.Now().Unix()+600)
	tok := forge(t, headerFor(next), c, next)
	checkVerify(t, a, tok, auth.ErrTokenUnknownKey)
	if err := ks.Add(next.key); err != nil {
		t.Fatal(err)
	}
	checkVerify(t, a, tok, nil)
	checkVerify(t, a, tok, nil)
	if err := ks.Promote(next.key); err != nil {
		t.Fatal(err)
	}
	checkVerify(t, a, tok, nil)
	if err := ks.Retire(cur.key.ID()); err != nil {
		t.Fatal(err)
	}
	checkVerify(t, a, tok, nil)
	old := forge(t, headerFor(cur), c, cur)
	checkVerify(t, a, old, auth.ErrTokenUnknownKey)
}

// A flood of distinct valid tokens keeps the cache within its bounds, and
// the cache keeps answering.
func TestTokenCacheBounds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, b := range []struct {
		entries int
		bytes   int64
	}{
		{100, 1 << 20},   // bound by entries
		{5000, 64 << 10}, // bound by bytes
		{1, 64 << 10},
	} {
		t.Run(fmt.Sprintf("%d entries, %d bytes", b.entries, b.bytes), func(t *testing.T) {
			t.Parallel()
			clock := testclock.New()
			a := newAuth(t, newSigner(t, auth.HS256, "hmac").key, auth.WithClock(clock.Now), auth.WithTokenCache(b.entries, b.bytes))
			var last string
			for i := range 3000 {
				at, err := a.Issue(ctx, auth.Claims{Subject: fmt.Sprint("user-", i)})
				if err != nil {
					t.Fatal(err)
				}
				checkVerify(t, a, at.Token, nil)
				last = at.Token
				if i%7 == 0 {
					clock.Advance(time.Second)
				}
				if n, size := auth.TokenCacheLen(a); n > b.entries || size > b.bytes {
					t.Fatalf("after %d tokens the cache holds %d tokens, %d bytes; want at most %d and %d", i+1, n, size, b.entries, b.bytes)
				}
			}
			if n, _ := auth.TokenCacheLen(a); n == 0 {
				t.Error("the cache holds nothing after 3000 valid tokens")
			}
			checkVerify(t, a, last, nil)
		})
	}
}

// Expired entries leave as new tokens arrive, even when the cache is far
// from full.
func TestTokenCacheSweepsExpired(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := testclock.New()
	a := newAuth(t, newSigner(t, auth.HS256, "hmac").key, auth.WithClock(clock.Now), auth.WithAccessTTL(time.Minute))
	for i := range 500 {
		at, _ := a.Issue(ctx, auth.Claims{Subject: fmt.Sprint("u", i)})
		checkVerify(t, a, at.Token, nil)
	}
	clock.Advance(2 * time.Minute)
	// 2000 insertions reach every shard (that one of 32 gets none has a
	// chance under 1e-25), and each sweeps its expired entries.
	for i := range 2000 {
		at, _ := a.Issue(ctx, auth.Claims{Subject: fmt.Sprint("v", i)})
		checkVerify(t, a, at.Token, nil)
	}
	if n, _ := auth.TokenCacheLen(a); n != 2000 {
		t.Errorf("cache holds %d tokens; want the 2000 unexpired ones", n)
	}
}

func TestWithTokenCacheRefuses(t *testing.T) {
	t.Parallel()
	key := newSigner(t, auth.HS256, "hmac").key
	ks, _ := auth.NewKeySet(key)
	for _, b := range [][2]int64{{-1, 1 << 20}, {10, -1}, {0, 1 << 20}, {10, 0}, {10, 1000}} {
		if _, err := auth.New(auth.WithKeys(ks), auth.WithIssuer(fxIssuer), auth.WithAudience(fxAudience), auth.WithTokenCache(int(b[0]), b[1])); !errors.Is(err, auth.ErrConfig) {
			t.Errorf("WithTokenCache(%d, %d) = %v; want ErrConfig", b[0], b[1], err)
		}
	}
}

// Many goroutines verify the same and distinct tokens while a key is
// retired: no race, and once Retire returned its tokens are refused.
func TestTokenCacheConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := testclock.New()
	cur := newSigner(t, auth.ES256, "p256-a")
	old := newSigner(t, auth.ES256, "p256-b")
	ks, _ := auth.NewKeySet(cur.key, old.key)
	a, err := auth.New(auth.WithKeys(ks), auth.WithIssuer(fxIssuer), auth.WithAudience(fxAudience), auth.WithClock(clock.Now), auth.WithTokenCache(64, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	c := with(validClaims(), "iat", clock.Now().Unix()-1, "exp", clock.Now().Unix()+600)
	var toks []string
	for i := range 100 {
		s := cur
		if i%2 == 1 {
			s = old
		}
		toks = append(toks, forge(t, headerFor(s), with(c, "jti", fmt.Sprint(i)), s))
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 400 {
				tok := toks[(i*7+g)%len(toks)]
				if _, err := a.Verify(ctx, tok); err != nil && !errors.Is(err, auth.ErrTokenUnknownKey) {
					t.Errorf("Verify() = %v", err)
					return
				}
			}
		}()
	}
	if err := ks.Retire(old.key.ID()); err != nil {
		t.Fatal(err)
	}
	for i, tok := range toks {
		want := error(nil)
		if i%2 == 1 {
			want = auth.ErrTokenUnknownKey
		}
		checkVerify(t, a, tok, want)
	}
	wg.Wait()
}

// checkerFunc adapts a function to authstore.RevocationChecker.
type checkerFunc func(ctx context.Context, userID, sessionID, tokenID string, issuedAt time.Time) (bool, error)

func (f checkerFunc) Revoked(ctx context.Context, userID, sessionID, tokenID string, issuedAt time.Time) (bool, error) {
	return f(ctx, userID, sessionID, tokenID, issuedAt)
}

// newMemStoreExt returns an in-memory store for the external tests.
func newMemStoreExt(t *testing.T) *memstore.Store {
	t.Helper()
	s, err := memstore.New()
	if err != nil {
		t.Fatal(err)
	}
	return s
}
