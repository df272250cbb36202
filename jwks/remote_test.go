package jwks

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

	"github.com/jwtkit/auth"
)

func TestNewRemoteKeySetRefuses(t *testing.T) {
	t.Parallel()
	const good = "https://id.example.com/.well-known/jwks.json"
	tests := []struct {
		name string
		url  string
		opts []Option
	}{
		{"empty URL", "", nil},
		{"relative URL", "/.well-known/jwks.json", nil},
		{"ftp URL", "ftp://id.example.com/jwks.json", nil},
		{"file URL", "file:///etc/jwks.json", nil},
		{"no host", "https:///jwks.json", nil},
		{"fragment", good + "#keys", nil},
		{"size cap too small", good, []Option{WithMaxSize(100)}},
		{"size cap too large", good, []Option{WithMaxSize(1 << 30)}},
		{"zero shortest lifetime", good, []Option{WithCacheBounds(0, time.Hour)}},
		{"longest under shortest", good, []Option{WithCacheBounds(time.Hour, time.Minute)}},
		{"zero default lifetime", good, []Option{WithDefaultLifetime(0)}},
		{"zero cooldown", good, []Option{WithCooldown(0)}},
		{"negative max staleness", good, []Option{WithMaxStale(-time.Second)}},
		{"nil clock", good, []Option{WithClock(nil)}},
		{"HMAC default algorithm", good, []Option{WithAlgorithm(auth.HS256)}},
		{"unknown default algorithm", good, []Option{WithAlgorithm("RS1")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := NewRemoteKeySet(tt.url, tt.opts...); !errors.Is(err, auth.ErrConfig) {
				t.Errorf("NewRemoteKeySet(%q) = %v; want %v", tt.url, err, auth.ErrConfig)
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
	if c.client.Timeout != DefaultTimeout || c.timeout != DefaultTimeout || c.client.CheckRedirect == nil {
		t.Errorf("default client: timeout %v, fetch timeout %v, redirect policy %v; want %v, %v, one refusing redirects",
			c.client.Timeout, c.timeout, c.client.CheckRedirect != nil, DefaultTimeout, DefaultTimeout)
	}
	if c.maxSize != 1<<20 || c.minLife != time.Minute || c.maxLife != 24*time.Hour || c.defaultLife != 5*time.Minute || c.cooldown != 30*time.Second {
		t.Errorf("defaults: size %d, bounds [%v, %v], default %v, cooldown %v", c.maxSize, c.minLife, c.maxLife, c.defaultLife, c.cooldown)
	}
	// A client without a Timeout still gets one per fetch.
	rs, err = NewRemoteKeySet("https://id.example.com/jwks", WithHTTPClient(&http.Client{}))
	if err != nil {
		t.Fatal(err)
	}
	if rs.cfg.timeout != DefaultTimeout {
		t.Errorf("fetch timeout with a client without one = %v; want %v", rs.cfg.timeout, DefaultTimeout)
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
		opts         []Option
		life         time.Duration
	}{
		{"max-age", "max-age=120", nil, 2 * time.Minute},
		{"no max-age", "", nil, 5 * time.Minute},
		{"under the lower bound", "max-age=1", nil, time.Minute},
		{"over the upper bound", "max-age=86400", []Option{WithCacheBounds(time.Minute, time.Hour)}, time.Hour},
		{"default lifetime", "", []Option{WithDefaultLifetime(10 * time.Minute)}, 10 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			is := newIssuer(t, auth.EdDSA)
			kid := is.keys.SigningKey().ID()
			srv := newJWKSServer(t, setDoc(t, is.keys))
			srv.set(setDoc(t, is.keys), http.StatusOK, tt.cacheControl)
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
			next := genKey(t, auth.ES256)
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

func TestRemoteKeySetBackgroundRefresh(t *testing.T) {
	t.Parallel()
	is := newIssuer(t, auth.EdDSA)
	oldKid := is.keys.SigningKey().ID()
	srv := newJWKSServer(t, nil)
	srv.set(setDoc(t, is.keys), http.StatusOK, "max-age=120")
	clock := newFakeClock()
	rs := newRemote(t, srv, clock, WithCooldown(20*time.Second))
	ft := installFakeTimer(rs)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	if err := rs.Start(ctx); err != nil {
		t.Fatalf("Start = %v; want nil", err)
	}
	srv.wantRequests(t, 1)
	// Three quarters of the 120 s lifetime.
	ft.wantWait(t, 90*time.Second)

	next := genKey(t, auth.EdDSA)
	if err := is.keys.Add(next); err != nil {
		t.Fatal(err)
	}
	srv.set(setDoc(t, is.keys), http.StatusOK, "max-age=600")
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
	srv.set(setDoc(t, is.keys), http.StatusOK, "max-age=60")
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
	is := newIssuer(t, auth.EdDSA)
	srv := newJWKSServer(t, nil)
	srv.set([]byte("{}"), http.StatusServiceUnavailable, "")
	rs := newRemote(t, srv, newFakeClock())
	ft := installFakeTimer(rs)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := rs.Start(ctx); err == nil || errors.Is(err, auth.ErrTokenUnknownKey) {
		t.Fatalf("Start with the server failing = %v; want a fetch error", err)
	}
	a := newVerifier(t, rs)
	tok := is.token(t)
	wantVerify(t, a, tok, auth.ErrUnavailable)

	ft.wantWait(t, time.Second)
	srv.set(setDoc(t, is.keys), http.StatusOK, "")
	ft.tick()
	ft.wantWait(t, 225*time.Second) // 3/4 of the default 5 minutes
	wantVerify(t, a, tok, nil)
}

// TestRemoteKeySetUnknownKidFetchesOnce shows 50 concurrent requests for a
// kid the set lacks cause one fetch, that a flood of random kids within the
// cooldown causes none, and that after the cooldown one more is allowed.
func TestRemoteKeySetUnknownKidFetchesOnce(t *testing.T) {
	t.Parallel()
	is := newIssuer(t, auth.EdDSA)
	srv := newJWKSServer(t, nil)
	srv.set(setDoc(t, is.keys), http.StatusOK, "max-age=3600")
	clock := newFakeClock()
	rs := newRemote(t, srv, clock)
	a := newVerifier(t, rs)
	wantVerify(t, a, is.token(t), nil)
	srv.waitHit(t)

	// The issuer rotates; the verifier has not seen the new key.
	clock.Advance(DefaultCooldown)
	next, nextPriv := genEd25519(t)
	if err := is.keys.Add(next); err != nil {
		t.Fatal(err)
	}
	if err := is.keys.Promote(next); err != nil {
		t.Fatal(err)
	}
	srv.set(setDoc(t, is.keys), http.StatusOK, "max-age=3600")
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
		forged := forgeToken(t, nextPriv, map[string]any{"alg": "EdDSA", "kid": fmt.Sprintf("random-%d", i), "typ": "at+jwt"})
		wantVerify(t, a, forged, auth.ErrTokenUnknownKey)
	}
	srv.wantRequests(t, 2)

	// After the cooldown a random kid may cause one fetch, and only one.
	clock.Advance(DefaultCooldown)
	for i := range 100 {
		wantKey(t, rs, fmt.Sprintf("random-%d", i), auth.ErrTokenUnknownKey)
	}
	srv.wantRequests(t, 3)
}

// TestRemoteKeySetKeepsKeysOnFailure shows every kind of failed fetch leaves
// the last good set in use.
func TestRemoteKeySetKeepsKeysOnFailure(t *testing.T) {
	t.Parallel()
	is := newIssuer(t, auth.ES256)
	srv := newJWKSServer(t, setDoc(t, is.keys))
	rs := newRemote(t, srv, newFakeClock(), WithMaxSize(4096))
	a := newVerifier(t, rs)
	tok := is.token(t)
	if err := rs.Refresh(context.Background()); err != nil {
		t.Fatalf("Refresh = %v; want nil", err)
	}
	failures := []struct {
		name   string
		body   []byte
		status int
	}{
		{"server error", setDoc(t, is.keys), http.StatusInternalServerError},
		{"not found", []byte(`{"keys":[]}`), http.StatusNotFound},
		{"redirect", nil, http.StatusFound},
		{"not JSON", []byte("<html>"), http.StatusOK},
		{"JSON array", []byte(`[]`), http.StatusOK},
		{"no keys member", []byte(`{"kty":"OKP"}`), http.StatusOK},
		{"keys null", []byte(`{"keys":null}`), http.StatusOK},
		{"only unusable keys", []byte(`{"keys":[{"kty":"oct","kid":"k","alg":"HS256","k":"c2VjcmV0"}]}`), http.StatusOK},
		{"over the size cap", append(append([]byte(nil), setDoc(t, is.keys)...), bytes.Repeat([]byte(" "), 4096)...), http.StatusOK},
	}
	for _, f := range failures {
		srv.set(f.body, f.status, "")
		if err := rs.Refresh(context.Background()); err == nil || errors.Is(err, auth.ErrTokenUnknownKey) {
			t.Errorf("%s: Refresh = %v; want a fetch error", f.name, err)
		}
		wantVerify(t, a, tok, nil)
	}
}

// TestRemoteKeySetNeverFetched shows a set that never fetched successfully
// makes Verify answer auth.ErrUnavailable, never auth.ErrTokenUnknownKey, and retries
// only after the cooldown.
func TestRemoteKeySetNeverFetched(t *testing.T) {
	t.Parallel()
	is := newIssuer(t, auth.EdDSA)
	srv := newJWKSServer(t, nil)
	srv.set([]byte("down"), http.StatusBadGateway, "")
	clock := newFakeClock()
	rs := newRemote(t, srv, clock)
	a := newVerifier(t, rs)
	tok := is.token(t)
	for range 20 {
		_, err := a.Verify(context.Background(), tok)
		if !errors.Is(err, auth.ErrUnavailable) || errors.Is(err, auth.ErrTokenUnknownKey) || errors.Is(err, auth.ErrInvalidToken) {
			t.Fatalf("Verify with no set fetched = %v; want %v only", err, auth.ErrUnavailable)
		}
	}
	srv.wantRequests(t, 1)

	srv.set(setDoc(t, is.keys), http.StatusOK, "")
	wantVerify(t, a, tok, auth.ErrUnavailable) // the cooldown holds
	clock.Advance(DefaultCooldown)
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
	if err == nil || errors.Is(err, auth.ErrTokenUnknownKey) {
		t.Errorf("VerificationKey with the server gone = %v; want a fetch error", err)
	}
	wantVerify(t, newVerifier(t, rs2), tok, auth.ErrUnavailable)
}

func TestRemoteKeySetSizeCap(t *testing.T) {
	t.Parallel()
	is := newIssuer(t, auth.EdDSA)
	doc := setDoc(t, is.keys)
	pad := func(n int) []byte { // doc padded with spaces to n bytes
		return append(append([]byte(nil), doc...), bytes.Repeat([]byte(" "), n-len(doc))...)
	}
	tests := []struct {
		name    string
		body    []byte
		chunked bool
		opts    []Option
		ok      bool
	}{
		{"1 MiB", pad(1 << 20), false, nil, true},
		{"1 MiB + 1", pad(1<<20 + 1), false, nil, false},
		{"1 MiB + 1 without Content-Length", pad(1<<20 + 1), true, nil, false},
		{"endless, without Content-Length", nil, true, nil, false},
		{"2 KiB cap", pad(2048), false, []Option{WithMaxSize(2048)}, true},
		{"2 KiB cap + 1", pad(2049), true, []Option{WithMaxSize(2048)}, false},
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
	is := newIssuer(t, auth.EdDSA)
	srv := newJWKSServer(t, setDoc(t, is.keys))
	release := srv.hold()
	defer release()
	rs := newRemote(t, srv, newFakeClock(), WithHTTPClient(&http.Client{Timeout: 100 * time.Millisecond}))
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
	wantVerify(t, a, is.token(t), auth.ErrUnavailable)
}

// TestRemoteKeySetRequestContext shows a request waiting for a fetch gives
// up when its own context ends, without cancelling the fetch for others.
func TestRemoteKeySetRequestContext(t *testing.T) {
	t.Parallel()
	is := newIssuer(t, auth.EdDSA)
	srv := newJWKSServer(t, setDoc(t, is.keys))
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
	if err := <-done; !errors.Is(err, context.Canceled) || errors.Is(err, auth.ErrTokenUnknownKey) {
		t.Fatalf("VerificationKey with its context cancelled = %v; want %v", err, context.Canceled)
	}
	release()
	waitFor(t, "the fetch to finish", func() bool { return len(rs.Keys()) == 1 })
	wantKey(t, rs, kid, nil)
	srv.wantRequests(t, 1)
}

// TestRemoteKeySetSkipsJWKs shows which JWKs are used and which are skipped,
// never guessed at, each with a debug log line.
func TestRemoteKeySetSkipsJWKs(t *testing.T) {
	t.Parallel()
	ed := jwkMap(t, genKey(t, auth.EdDSA))
	es := jwkMap(t, genKey(t, auth.ES256))
	rs256 := jwkMap(t, genKey(t, auth.RS256))

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
	p384, err := auth.GenerateKey(nil, auth.ES384)
	if err != nil {
		t.Fatal(err)
	}
	es384 := jwkMap(t, p384)
	offCurve := edit(es, "kid", "off-curve", "y", es["x"]) // (x, x) is not on the curve

	// Each skipped JWK, and what the reason logged for it must name.
	skipped := []struct {
		name   string
		jwk    any
		reason string
	}{
		{"no alg", edit(ed, "kid", "no-alg", "alg", nil), "no alg"},
		{"alg not a string", edit(ed, "kid", "alg-number", "alg", 1), "alg is not a string"},
		{"alg none", edit(ed, "kid", "alg-none", "alg", "none"), `alg "none"`},
		{"alg HS256 on an RSA key", edit(rs256, "kid", "rsa-hs256", "alg", "HS256"), `alg "HS256"`},
		{"unknown alg", edit(ed, "kid", "alg-ed448", "alg", "Ed448"), `alg "Ed448"`},
		{"use enc", edit(ed, "kid", "use-enc", "use", "enc"), "use"},
		{"use not a string", edit(ed, "kid", "use-array", "use", []string{"sig"}), "use is not a string"},
		{"key_ops without verify", edit(ed, "kid", "ops-encrypt", "key_ops", []string{"encrypt"}), "key_ops"},
		{"key_ops sign only", edit(ed, "kid", "ops-sign", "key_ops", []string{"sign"}), "key_ops"},
		{"key_ops empty", edit(ed, "kid", "ops-empty", "key_ops", []string{}), "key_ops"},
		{"key_ops not an array", edit(ed, "kid", "ops-string", "key_ops", "verify"), "key_ops"},
		{"no kid", edit(ed, "kid", nil), "kid"},
		{"empty kid", edit(ed, "kid", ""), "kid"},
		{"kid with a space", edit(ed, "kid", "a kid"), "kid"},
		{"kid not a string", edit(ed, "kid", 7), "kid"},
		{"EC private key", edit(es, "kid", "ec-private", "d", b64(ecPriv.D.FillBytes(make([]byte, 32)))), `"d"`},
		{"OKP private key", edit(ed, "kid", "okp-private", "d", b64(edPriv.Seed())), `"d"`},
		{"RSA private key", edit(rs256, "kid", "rsa-private", "d", "AQAB", "p", "AQAB", "q", "AQAB"), "private"},
		{"RSA with only qi", edit(rs256, "kid", "rsa-qi", "qi", "AQAB"), `"qi"`},
		{"symmetric key", map[string]any{"kty": "oct", "kid": "oct", "alg": "HS256", "k": b64(bytes.Repeat([]byte("k"), 32))}, `"k"`},
		{"symmetric key without k", map[string]any{"kty": "oct", "kid": "oct-nok", "alg": "RS256"}, "oct"},
		{"weak RSA key", weakJWK, "weak"},
		{"RSA key with ES256", edit(rs256, "kid", "rsa-es256", "alg", "ES256"), `kty "RSA"`},
		{"EC key with RS256", edit(es, "kid", "ec-rs256", "alg", "RS256"), `kty "EC"`},
		{"EC key with EdDSA", edit(es, "kid", "ec-eddsa", "alg", "EdDSA"), `kty "EC"`},
		{"OKP key with ES256", edit(ed, "kid", "okp-es256", "alg", "ES256"), `kty "OKP"`},
		{"P-256 key with ES384", edit(es, "kid", "p256-es384", "alg", "ES384"), `crv "P-256"`},
		{"P-384 key with ES256", edit(es384, "kid", "p384-es256", "alg", "ES256"), `crv "P-384"`},
		{"P-256 key claiming P-384", edit(es, "kid", "p256-as-p384", "crv", "P-384"), `crv "P-384"`},
		{"Ed448", edit(ed, "kid", "ed448", "crv", "Ed448"), `crv "Ed448"`},
		{"X25519", edit(ed, "kid", "x25519", "crv", "X25519"), `crv "X25519"`},
		{"OKP without crv", edit(ed, "kid", "okp-nocrv", "crv", nil), "crv"},
		{"unknown kty", edit(ed, "kid", "kty-foo", "kty", "FOO"), `kty "FOO"`},
		{"no kty", edit(ed, "kid", "kty-none", "kty", nil), "kty"},
		{"point off the curve", offCurve, "curve"},
		{"EC x too short", edit(es, "kid", "ec-short", "x", b64(make([]byte, 31))), "length"},
		{"Ed25519 x too long", edit(ed, "kid", "ed-long", "x", b64(make([]byte, 33))), "length"},
		{"padded base64", edit(ed, "kid", "padded", "x", ed["x"].(string)+"="), "base64url"},
		{"standard base64", edit(ed, "kid", "std-b64", "x", strings.NewReplacer("-", "+", "_", "/").Replace(ed["x"].(string))+"+"), "base64url"},
		{"RSA without e", edit(rs256, "kid", "rsa-noe", "e", nil), "no e"},
		{"RSA with huge e", edit(rs256, "kid", "rsa-bige", "e", b64(bytes.Repeat([]byte{1}, 9))), "e out of range"},
		{"RSA with even e", edit(rs256, "kid", "rsa-evene", "e", "AQAC"), "exponent"},
		{"not an object", []int{1, 2}, "object"},
		{"a string", "key", "object"},
	}
	// Two otherwise usable keys sharing a kid: neither is used.
	dupA := edit(jwkMap(t, genKey(t, auth.EdDSA)), "kid", "dup")
	dupB := edit(jwkMap(t, genKey(t, auth.EdDSA)), "kid", "dup")

	usable := []map[string]any{
		ed,
		edit(es, "key_ops", []string{"verify"}, "use", nil),
		edit(rs256, "x5t", "ignored", "ext", true),
		jwkMap(t, genKey(t, auth.PS256)),
		es384,
		jwkMap(t, genKey(t, auth.ES512)),
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
	rs := newRemote(t, srv, newFakeClock(), WithLogger(slog.New(logs)))
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
		if kid, ok := m["kid"].(string); ok {
			wantKey(t, rs, kid, auth.ErrTokenUnknownKey)
		}
	}
	wantKey(t, rs, "dup", auth.ErrTokenUnknownKey)
	// One debug line per skipped JWK, with its index in the document and a
	// reason that names the problem, and two for the shared kid.
	lines := logs.messages(slog.LevelDebug, "jwks: JWK skipped")
	if n, want := len(lines), len(skipped)+2; n != want {
		t.Errorf("%d debug lines for skipped keys; want %d", n, want)
	}
	byIndex := map[int64][]string{}
	var shared []string
	for _, r := range lines {
		reason, _ := attr(r, "reason")
		if reason.String() == "" {
			t.Errorf("skipped-key log line without a reason: %v", r)
		}
		if i, ok := attr(r, "index"); ok {
			byIndex[i.Int64()] = append(byIndex[i.Int64()], reason.String())
			continue
		}
		if kid, _ := attr(r, "kid"); kid.String() != "dup" {
			t.Errorf("skipped-key log line without an index, for kid %q; want only kid %q", kid, "dup")
		}
		shared = append(shared, reason.String())
	}
	for i, s := range skipped {
		reasons := byIndex[int64(i)]
		if len(reasons) != 1 || !strings.Contains(reasons[0], s.reason) {
			t.Errorf("%s: skipped with reasons %q; want one naming %q", s.name, reasons, s.reason)
		}
	}
	if len(shared) != 2 || !strings.Contains(shared[0], "kid") || !strings.Contains(shared[1], "kid") {
		t.Errorf("keys sharing a kid: skipped with reasons %q; want two naming the kid", shared)
	}
}

// TestRemoteKeySetKeepsUnchangedKeys shows a refresh that finds a key
// unchanged keeps the same *Key, and replaces one that changed.
func TestRemoteKeySetKeepsUnchangedKeys(t *testing.T) {
	t.Parallel()
	a, b := genKey(t, auth.EdDSA), genKey(t, auth.EdDSA, auth.WithKeyID("b"))
	srv := newJWKSServer(t, jwksOf(t, a, b))
	rs := newRemote(t, srv, newFakeClock())
	if err := rs.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	before := rs.Keys()
	b2 := genKey(t, auth.EdDSA, auth.WithKeyID("b"))
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
		is := newIssuer(t, auth.EdDSA)
		srv := newJWKSServer(t, setDoc(t, is.keys))
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
		is := newIssuer(t, auth.EdDSA)
		srv := newJWKSServer(t, setDoc(t, is.keys))
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
		is := newIssuer(t, auth.EdDSA)
		srv := newJWKSServer(t, setDoc(t, is.keys))
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

// TestRemoteKeySetNeverFollowsJKU shows a token naming a key URL is refused
// before any key source is consulted: neither the configured JWK Set nor
// the URL in the token gets a request.
func TestRemoteKeySetNeverFollowsJKU(t *testing.T) {
	t.Parallel()
	attacker, attackerPriv := genEd25519(t)
	evil := newJWKSServer(t, jwksOf(t, attacker))
	srv := newJWKSServer(t, jwksOf(t, genKey(t, auth.EdDSA)))
	rs := newRemote(t, srv, newFakeClock())
	a := newVerifier(t, rs)
	for _, member := range []string{"jku", "x5u"} {
		tok := forgeToken(t, attackerPriv, map[string]any{"alg": "EdDSA", "kid": attacker.ID(), "typ": "at+jwt", member: evil.URL()})
		wantVerify(t, a, tok, auth.ErrTokenHeader)
	}
	srv.wantRequests(t, 0)
	evil.wantRequests(t, 0)
}

// TestVerifyRemoteAllocs shows verifying through a warm remote key set
// allocates exactly as much as through a local key set: the key lookup and
// the freshness check allocate nothing (the root package's tests show the
// same of its header cache). It is not parallel, since AllocsPerRun counts
// every allocation of the process.
func TestVerifyRemoteAllocs(t *testing.T) {
	for _, alg := range []auth.Algorithm{auth.EdDSA, auth.ES256} {
		t.Run(string(alg), func(t *testing.T) {
			is := newIssuer(t, alg)
			tok := is.token(t)
			srv := newJWKSServer(t, setDoc(t, is.keys))
			rs := newRemote(t, srv, newFakeClock())
			remote := newVerifier(t, rs)
			ctx := context.Background()
			wantVerify(t, remote, tok, nil)
			kid := is.keys.SigningKey().ID()
			if n := testing.AllocsPerRun(100, func() { _, _ = rs.VerificationKey(ctx, kid) }); n != 0 {
				t.Errorf("RemoteKeySet.VerificationKey of a cached key allocates %v times; want 0", n)
			}
			local := testing.AllocsPerRun(100, func() { _, _ = is.local.Verify(ctx, tok) })
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
//	make bench-remote
//
// or, in this directory:
//
//	go test -run '^$' -bench 'VerifyRemote|VerifyLocal' -benchmem -count 10 . > bench.txt
//	benchstat -col '.name@(VerifyLocal VerifyRemote)' bench.txt
func BenchmarkVerifyRemote(b *testing.B) {
	for _, alg := range remoteBenchAlgs {
		b.Run(string(alg), func(b *testing.B) {
			f := benchFixtureFor(b, alg)
			srv := httptest.NewServer(f.issuer.keys)
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

// BenchmarkVerifyLocal is the baseline of [BenchmarkVerifyRemote].
func BenchmarkVerifyLocal(b *testing.B) {
	for _, alg := range remoteBenchAlgs {
		b.Run(string(alg), func(b *testing.B) {
			f := benchFixtureFor(b, alg)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.issuer.local.Verify(ctx, f.token); err != nil {
					b.Fatalf("Verify = %v", err)
				}
			}
		})
	}
}

// startedRemote returns a verifier on a started remote key set for the JWK
// Set at url, as a service would run one.
func startedRemote(b *testing.B, url string) *auth.Auth {
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
	return newVerifier(b, rs)
}

// remoteBenchAlgs are the public-key algorithms of the remote benchmarks.
var remoteBenchAlgs = []auth.Algorithm{auth.EdDSA, auth.ES256, auth.RS256}

// WithAlgorithm gives a JWK without "alg" one algorithm, which must fit its
// key type; a JWK that names one keeps it.
func TestRemoteKeySetWithAlgorithm(t *testing.T) {
	t.Parallel()
	rsKey, esKey := genKey(t, auth.RS256), genKey(t, auth.ES256)
	rs, es := jwkMap(t, rsKey), jwkMap(t, esKey)
	ps := edit(jwkMap(t, genKey(t, auth.PS256)), "kid", "named-ps256")
	doc, err := json.Marshal(map[string]any{"keys": []any{
		edit(rs, "alg", nil),
		edit(es, "alg", nil), // an EC key cannot be RS256: skipped
		ps,
	}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts []Option
		want map[string]auth.Algorithm
	}{
		{"without the option", nil, map[string]auth.Algorithm{"named-ps256": auth.PS256}},
		{"RS256", []Option{WithAlgorithm(auth.RS256)}, map[string]auth.Algorithm{rsKey.ID(): auth.RS256, "named-ps256": auth.PS256}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newJWKSServer(t, doc)
			r := newRemote(t, srv, newFakeClock(), tt.opts...)
			if err := r.Refresh(context.Background()); err != nil {
				t.Fatal(err)
			}
			got := map[string]auth.Algorithm{}
			for _, k := range r.Keys() {
				got[k.ID()] = k.Algorithm()
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("Keys() = %v; want %v", got, tt.want)
			}
		})
	}
}

// A token verified (and so remembered by the verifier) stops verifying on
// the very next request once a refresh of the JWK Set dropped its key.
func TestRemoteKeySetDroppedKeyRefusesCachedToken(t *testing.T) {
	t.Parallel()
	old, next := newIssuer(t, auth.ES256), newIssuer(t, auth.ES256)
	both, err := auth.NewKeySet(nil, append(old.keys.Keys(), next.keys.Keys()...)...)
	if err != nil {
		t.Fatal(err)
	}
	srv := newJWKSServer(t, setDoc(t, both))
	rs := newRemote(t, srv, newFakeClock())
	a := newVerifier(t, rs)
	if err := rs.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	tok, other := old.token(t), next.token(t)
	wantVerify(t, a, tok, nil)
	wantVerify(t, a, tok, nil)
	wantVerify(t, a, other, nil)
	srv.set(setDoc(t, next.keys), http.StatusOK, "")
	if err := rs.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantVerify(t, a, tok, auth.ErrTokenUnknownKey)
	wantVerify(t, a, other, nil)
}

// A well-formed empty JWK Set is the issuer revoking every key: it replaces
// the set in use, and every token is refused until keys are published
// again.
func TestRemoteKeySetHonoursEmptySet(t *testing.T) {
	t.Parallel()
	is := newIssuer(t, auth.ES256)
	srv := newJWKSServer(t, setDoc(t, is.keys))
	rs := newRemote(t, srv, newFakeClock(), WithCooldown(time.Nanosecond))
	a := newVerifier(t, rs)
	tok := is.token(t)
	if err := rs.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantVerify(t, a, tok, nil)
	srv.set([]byte(`{"keys":[]}`), http.StatusOK, "")
	if err := rs.Refresh(context.Background()); err != nil {
		t.Fatalf("Refresh(empty set) = %v; want nil", err)
	}
	if n := len(rs.Keys()); n != 0 {
		t.Errorf("Keys() after an empty set = %d keys; want 0", n)
	}
	wantVerify(t, a, tok, auth.ErrTokenUnknownKey)
	// A failure afterwards keeps the empty set, not the older one.
	srv.set(nil, http.StatusInternalServerError, "")
	if err := rs.Refresh(context.Background()); err == nil {
		t.Fatal("Refresh(500) = nil; want an error")
	}
	wantVerify(t, a, tok, auth.ErrTokenUnknownKey)
	srv.set(setDoc(t, is.keys), http.StatusOK, "")
	if err := rs.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantVerify(t, a, tok, nil)
}

// While fetches fail, the last good set serves up to the max staleness past
// its lifetime, then verification answers ErrUnavailable, until a fetch
// succeeds; Age tells how old the set is.
func TestRemoteKeySetMaxStale(t *testing.T) {
	t.Parallel()
	for _, started := range []bool{false, true} {
		t.Run(fmt.Sprintf("started=%v", started), func(t *testing.T) {
			t.Parallel()
			is := newIssuer(t, auth.ES256)
			srv := newJWKSServer(t, setDoc(t, is.keys))
			clock := newFakeClock()
			rs := newRemote(t, srv, clock, WithMaxStale(time.Hour), WithDefaultLifetime(10*time.Minute))
			if _, ok := rs.Age(); ok {
				t.Error("Age() before any fetch: ok; want false")
			}
			if started {
				installFakeTimer(rs)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				if err := rs.Start(ctx); err != nil {
					t.Fatal(err)
				}
			} else if err := rs.Refresh(context.Background()); err != nil {
				t.Fatal(err)
			}
			a := newVerifier(t, rs)
			tok := is.token(t)
			wantVerify(t, a, tok, nil)
			srv.set(nil, http.StatusInternalServerError, "")
			clock.Advance(10*time.Minute + time.Hour - time.Second) // lifetime + max staleness - 1s
			if age, ok := rs.Age(); !ok || age != 70*time.Minute-time.Second {
				t.Errorf("Age() = %v, %v; want 1h9m59s, true", age, ok)
			}
			wantVerify(t, a, tok, nil)
			clock.Advance(time.Second)
			wantVerify(t, a, tok, auth.ErrUnavailable)
			wantVerify(t, a, tok, auth.ErrUnavailable)
			srv.set(setDoc(t, is.keys), http.StatusOK, "")
			if err := rs.Refresh(context.Background()); err != nil {
				t.Fatal(err)
			}
			wantVerify(t, a, tok, nil)
			if age, ok := rs.Age(); !ok || age != 0 {
				t.Errorf("Age() after a fetch = %v, %v; want 0, true", age, ok)
			}
		})
	}
}
