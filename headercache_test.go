package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// countingKeySource is a KeySource that counts its calls. Not being a
// *KeySet, it makes Verify take the path of any other source, such as a
// remote JWK Set: the header cache, then VerificationKey.
type countingKeySource struct {
	KeySource
	calls atomic.Int64
}

func (s *countingKeySource) VerificationKey(ctx context.Context, kid string) (*Key, error) {
	s.calls.Add(1)
	return s.KeySource.VerificationKey(ctx, kid)
}

// newSourceAuth returns an Auth that verifies with src only, at testNow.
func newSourceAuth(t testing.TB, src KeySource) *Auth {
	t.Helper()
	a, err := New(WithKeySource(src), WithIssuer("https://issuer.test"), WithAudience("api"), WithClock(func() time.Time { return testNow }))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// genTestKey returns a new key for alg.
func genTestKey(t testing.TB, alg Algorithm, opts ...KeyOption) *Key {
	t.Helper()
	k, err := GenerateKey(nil, alg, opts...)
	if err != nil {
		t.Fatalf("GenerateKey(%s) = %v", alg, err)
	}
	return k
}

// forgeToken signs with k a token with header h and the claims
// newSourceAuth accepts, so tests can send headers the library never
// writes, as another issuer might.
func forgeToken(t testing.TB, k *Key, h map[string]any) string {
	t.Helper()
	hb, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := json.Marshal(map[string]any{
		"iss": "https://issuer.test", "aud": "api", "sub": "user-42", "jti": "j1",
		"iat": testNow.Unix(), "exp": testNow.Add(time.Hour).Unix(),
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

// headerOf returns the header segment of tok.
func headerOf(tok string) string { return tok[:strings.IndexByte(tok, '.')] }

// TestVerifyHeaderCache shows the header cache: a header decoded once is
// remembered, a hit still asks the key source, so a retired key or a kid
// that now names a key of another algorithm is refused as without the
// cache, and a header whose signature failed is never remembered.
func TestVerifyHeaderCache(t *testing.T) {
	t.Parallel()
	k := genTestKey(t, EdDSA)
	keys, err := NewKeySet(nil, k, genTestKey(t, EdDSA))
	if err != nil {
		t.Fatal(err)
	}
	src := &countingKeySource{KeySource: keys}
	a := newSourceAuth(t, src)
	tok := forgeToken(t, k, map[string]any{"typ": "at+jwt", "kid": k.ID(), "alg": "EdDSA"})
	hSeg := headerOf(tok)
	if e := a.headers.get(hSeg); e != nil {
		t.Fatalf("header cache before any token = %+v; want nil", e)
	}

	if _, err := a.Verify(context.Background(), tok); err != nil {
		t.Fatalf("Verify(forged token) = %v; want nil", err)
	}
	e := a.headers.get(hSeg)
	if e == nil || e.kid != k.ID() || e.alg != EdDSA {
		t.Fatalf("header cache after a verified token = %+v; want kid %q alg EdDSA", e, k.ID())
	}
	before := src.calls.Load()
	for range 3 {
		if _, err := a.Verify(context.Background(), tok); err != nil {
			t.Fatalf("Verify(forged token) from the cache = %v; want nil", err)
		}
	}
	if n := src.calls.Load() - before; n != 3 {
		t.Errorf("key source asked %d times for 3 verifications from the cache; want 3", n)
	}

	// A badly signed token with a new header is not remembered.
	bad := forgeToken(t, genTestKey(t, EdDSA), map[string]any{"alg": "EdDSA", "kid": k.ID(), "typ": "at+jwt", "x": 1})
	if _, err := a.Verify(context.Background(), bad); !errors.Is(err, ErrTokenSignature) {
		t.Errorf("Verify(badly signed token) = %v; want %v", err, ErrTokenSignature)
	}
	if e := a.headers.get(headerOf(bad)); e != nil {
		t.Errorf("header of a token with a bad signature was remembered: %+v", e)
	}

	// The same kid now names an ES256 key: the cached header's alg no
	// longer fits.
	if err := keys.Retire(k.ID()); err != nil {
		t.Fatal(err)
	}
	if err := keys.Add(genTestKey(t, ES256, WithKeyID(k.ID()))); err != nil {
		t.Fatal(err)
	}
	if a.headers.get(hSeg) == nil {
		t.Fatalf("header cache lost the header of %q", k.ID())
	}
	if _, err := a.Verify(context.Background(), tok); !errors.Is(err, ErrTokenHeader) {
		t.Errorf("Verify(token whose kid now names an ES256 key) = %v; want %v", err, ErrTokenHeader)
	}

	// Retired: the kid is gone.
	if err := keys.Retire(k.ID()); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Verify(context.Background(), tok); !errors.Is(err, ErrTokenUnknownKey) {
		t.Errorf("Verify(token of a retired key) = %v; want %v", err, ErrTokenUnknownKey)
	}
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

// TestVerifyHeaderCacheAllocs shows a header cache hit allocates nothing,
// and that verifying through a key source other than a KeySet, once its
// header is cached, allocates no more than through the KeySet that signed
// the token. It is not parallel, since AllocsPerRun counts every
// allocation of the process.
func TestVerifyHeaderCacheAllocs(t *testing.T) {
	for _, alg := range []Algorithm{EdDSA, ES256} {
		t.Run(string(alg), func(t *testing.T) {
			k := genTestKey(t, alg)
			ks, err := NewKeySet(k)
			if err != nil {
				t.Fatal(err)
			}
			local, err := New(WithKeys(ks), WithIssuer("https://issuer.test"), WithAudience("api"), WithClock(func() time.Time { return testNow }))
			if err != nil {
				t.Fatal(err)
			}
			tok := mwIssue(t, local, Claims{Subject: "user-42"})
			verifyOnly, err := NewKeySet(nil, k)
			if err != nil {
				t.Fatal(err)
			}
			viaSource := newSourceAuth(t, &countingKeySource{KeySource: verifyOnly})
			ctx := context.Background()
			if _, err := viaSource.Verify(ctx, tok); err != nil {
				t.Fatalf("Verify through a key source = %v; want nil", err)
			}
			hSeg := headerOf(tok)
			if viaSource.headers.get(hSeg) == nil {
				t.Fatalf("header of a verified token not cached")
			}
			if n := testing.AllocsPerRun(100, func() { _ = viaSource.headers.get(hSeg) }); n != 0 {
				t.Errorf("header cache hit allocates %v times; want 0", n)
			}
			l := testing.AllocsPerRun(100, func() { _, _ = local.Verify(ctx, tok) })
			s := testing.AllocsPerRun(100, func() { _, _ = viaSource.Verify(ctx, tok) })
			if s > l {
				t.Errorf("Verify allocates %v times through a key source, %v through the key set; want no more", s, l)
			}
		})
	}
}

// BenchmarkHeaderKey measures only what the key source changes in Verify:
// resolving a token's header to its key, through another key source (the
// header cache and the source's VerificationKey, as for a remote JWK Set)
// and through the key set that signed the token (its own header table).
func BenchmarkHeaderKey(b *testing.B) {
	f := benchFixtureFor(b, EdDSA)
	verifyOnly, err := NewKeySet(nil, f.key)
	if err != nil {
		b.Fatal(err)
	}
	viaSource, err := New(WithKeySource(&countingKeySource{KeySource: verifyOnly}), WithIssuer(benchIssuer), WithAudience(benchAudience), WithClock(benchClock))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := viaSource.Verify(ctx, f.token); err != nil {
		b.Fatalf("Verify = %v", err)
	}
	hSeg := headerOf(f.token)
	for _, bc := range []struct {
		name string
		a    *Auth
	}{{"local", f.auth}, {"source", viaSource}} {
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
