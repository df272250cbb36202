package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jwtkit/auth"
)

// jwkSet is a decoded JWK Set document.
type jwkSet struct {
	Keys []map[string]any `json:"keys"`
}

// keyFromJWK rebuilds a verify-only key from a published JWK, the way a
// remote verifier would, so the test can check the JWK describes the key.
func keyFromJWK(t *testing.T, j map[string]any) *auth.Key {
	t.Helper()
	b64 := func(name string) []byte {
		s, _ := j[name].(string)
		b, err := base64.RawURLEncoding.Strict().DecodeString(s)
		if err != nil || len(b) == 0 {
			t.Fatalf("JWK member %q = %q: not base64url", name, s)
		}
		return b
	}
	str := func(name string) string {
		s, ok := j[name].(string)
		if !ok || s == "" {
			t.Fatalf("JWK %v: member %q missing or not a string", j, name)
		}
		return s
	}
	alg := auth.Algorithm(str("alg"))
	var pub any
	switch j["kty"] {
	case "RSA":
		pub = &rsa.PublicKey{N: new(big.Int).SetBytes(b64("n")), E: int(new(big.Int).SetBytes(b64("e")).Int64())}
	case "EC":
		curves := map[string]elliptic.Curve{"P-256": elliptic.P256(), "P-384": elliptic.P384(), "P-521": elliptic.P521()}
		c, ok := curves[str("crv")]
		if !ok {
			t.Fatalf("JWK %v: unknown crv", j)
		}
		x, y := b64("x"), b64("y")
		if size := (c.Params().BitSize + 7) / 8; len(x) != size || len(y) != size {
			t.Errorf("JWK %v: x and y must have %d bytes each", j, size)
		}
		pub = &ecdsa.PublicKey{Curve: c, X: new(big.Int).SetBytes(x), Y: new(big.Int).SetBytes(y)}
	case "OKP":
		if j["crv"] != "Ed25519" {
			t.Fatalf("JWK %v: crv must be Ed25519", j)
		}
		pub = ed25519.PublicKey(b64("x"))
	default:
		t.Fatalf("JWK %v: unexpected kty", j)
	}
	k, err := auth.NewPublicKey(alg, pub, auth.WithKeyID(str("kid")))
	if err != nil {
		t.Fatalf("JWK %v does not describe a valid %s key: %v", j, alg, err)
	}
	return k
}

func mustKeySet(t testing.TB) func(*auth.KeySet, error) *auth.KeySet {
	return func(ks *auth.KeySet, err error) *auth.KeySet {
		t.Helper()
		if err != nil {
			t.Fatalf("building a key set: %v", err)
		}
		return ks
	}
}

func TestJWKS(t *testing.T) {
	t.Parallel()
	rs := newSigner(t, auth.RS256, "rsa-a")
	ps := newSigner(t, auth.PS384, "rsa-b")
	es := newSigner(t, auth.ES256, "p256-a")
	es384 := newSigner(t, auth.ES384, "p384-a")
	es512 := newSigner(t, auth.ES512, "p521-a")
	ed := newSigner(t, auth.EdDSA, "ed-a")
	hs := newSigner(t, auth.HS256, "hmac")
	signers := []signer{rs, ps, es, es384, es512, ed}

	// The signing key and the verify-only ones are published alike (the
	// private halves given here are stripped); the HMAC key never is.
	ks := mustKeySet(t)(auth.NewKeySet(rs.key, ps.key, es.key, es384.key, es512.key, ed.key, hs.key))
	raw := auth.KeySetJWKS(ks)
	var set jwkSet
	if err := json.Unmarshal(raw, &set); err != nil {
		t.Fatalf("JWKS() = %s: %v", raw, err)
	}
	if len(set.Keys) != len(signers) {
		t.Fatalf("JWKS() has %d keys; want %d (every asymmetric key, no HMAC key)", len(set.Keys), len(signers))
	}
	for i, s := range signers {
		j := set.Keys[i]
		checkPublicJWK(t, mustJSON(t, j))
		if j["kid"] != s.key.ID() || j["alg"] != string(s.key.Algorithm()) || j["use"] != "sig" {
			t.Errorf("JWK %d = %v; want kid %q, alg %s, use sig", i, j, s.key.ID(), s.key.Algorithm())
		}
		wantKty := map[auth.Algorithm]string{auth.RS256: "RSA", auth.PS384: "RSA", auth.ES256: "EC", auth.ES384: "EC", auth.ES512: "EC", auth.EdDSA: "OKP"}[s.key.Algorithm()]
		if j["kty"] != wantKty {
			t.Errorf("JWK %d kty = %v; want %s", i, j["kty"], wantKty)
		}
		// The published key is the key: its thumbprint is the kid, and a
		// verifier built from it accepts the signer's tokens.
		k := keyFromJWK(t, j)
		if auth.Thumbprint(k) != s.key.ID() {
			t.Errorf("JWK %d thumbprint %q; want the kid %q", i, auth.Thumbprint(k), s.key.ID())
		}
		checkSignsFor(t, s.key, k)
	}
	if strings.Contains(string(raw), `"k"`) || strings.Contains(string(raw), seg(fxSecret[:32])) {
		t.Errorf("JWKS() = %s; must not hold the HMAC secret", raw)
	}

	// Only an HMAC key: an empty set, exactly.
	for _, set := range []*auth.KeySet{
		mustKeySet(t)(auth.NewKeySet(hs.key)),
		mustKeySet(t)(auth.NewKeySet(nil, hs.key)),
		mustKeySet(t)(auth.NewKeySet(hs.key, newSigner(t, auth.HS512, "hmac-other").key)),
	} {
		if got := string(auth.KeySetJWKS(set)); got != `{"keys":[]}` {
			t.Errorf("JWKS() of an HMAC-only set = %s; want {\"keys\":[]}", got)
		}
	}
}

func TestJWKSServeHTTP(t *testing.T) {
	t.Parallel()
	ks := mustKeySet(t)(auth.NewKeySet(newSigner(t, auth.EdDSA, "ed-a").key, auth.VerifyOnly(newSigner(t, auth.ES256, "p256-a").key)))
	tests := []struct {
		method string
		status int
		body   bool
	}{
		{http.MethodGet, http.StatusOK, true},
		{http.MethodHead, http.StatusOK, false},
		{http.MethodPost, http.StatusMethodNotAllowed, false},
		{http.MethodPut, http.StatusMethodNotAllowed, false},
		{http.MethodDelete, http.StatusMethodNotAllowed, false},
		{http.MethodOptions, http.StatusMethodNotAllowed, false},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			t.Parallel()
			w := httptest.NewRecorder()
			ks.ServeHTTP(w, httptest.NewRequest(tt.method, "/.well-known/jwks.json", strings.NewReader("{}")))
			res := w.Result()
			if res.StatusCode != tt.status {
				t.Fatalf("%s JWKS status = %d; want %d", tt.method, res.StatusCode, tt.status)
			}
			h := res.Header
			if tt.status != http.StatusOK {
				if h.Get("Allow") != "GET, HEAD" {
					t.Errorf("%s JWKS Allow = %q; want %q", tt.method, h.Get("Allow"), "GET, HEAD")
				}
				if strings.Contains(w.Body.String(), `"kty"`) {
					t.Errorf("%s JWKS body = %s; want no keys", tt.method, w.Body)
				}
				return
			}
			if ct := h.Get("Content-Type"); ct != "application/jwk-set+json" {
				t.Errorf("Content-Type = %q; want application/jwk-set+json", ct)
			}
			if cc := h.Get("Cache-Control"); cc != "public, max-age=300" {
				t.Errorf("Cache-Control = %q; want public, max-age=300", cc)
			}
			if cl := h.Get("Content-Length"); cl != strconv.Itoa(len(auth.KeySetJWKS(ks))) {
				t.Errorf("Content-Length = %q; want %d", cl, len(auth.KeySetJWKS(ks)))
			}
			want := ""
			if tt.body {
				want = string(auth.KeySetJWKS(ks))
			}
			if got := w.Body.String(); got != want {
				t.Errorf("%s JWKS body = %q; want %q", tt.method, got, want)
			}
		})
	}

	// Served through a mux, as an application mounts it.
	mux := http.NewServeMux()
	mux.Handle("GET /.well-known/jwks.json", ks)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var set jwkSet
	if err := json.NewDecoder(res.Body).Decode(&set); err != nil || len(set.Keys) != 2 {
		t.Errorf("GET jwks.json = %+v, %v; want two keys", set, err)
	}
}

func TestNewKeySetRefuses(t *testing.T) {
	t.Parallel()
	ed := newSigner(t, auth.EdDSA, "ed-a").key
	es := newSigner(t, auth.ES256, "p256-a").key
	tests := []struct {
		name  string
		build func() (*auth.KeySet, error)
		want  error
	}{
		{"verify-only signing key", func() (*auth.KeySet, error) { return auth.NewKeySet(auth.VerifyOnly(ed)) }, auth.ErrNoSigningKey},
		{"verify-only signing key", func() (*auth.KeySet, error) { return auth.NewKeySet(auth.VerifyOnly(ed)) }, auth.ErrNoSigningKey},
		{"nil verify key", func() (*auth.KeySet, error) { return auth.NewKeySet(ed, nil) }, auth.ErrConfig},
		{"duplicate kid", func() (*auth.KeySet, error) { return auth.NewKeySet(ed, auth.VerifyOnly(ed)) }, auth.ErrConfig},
		{"duplicate chosen kid", func() (*auth.KeySet, error) {
			return auth.NewKeySet(ed, mustKey(t)(auth.NewPrivateKey(auth.ES256, rawKey(t, "p256-a"), auth.WithKeyID(ed.ID()))))
		}, auth.ErrConfig},
		{"no verify keys", func() (*auth.KeySet, error) { return auth.NewKeySet(nil) }, auth.ErrConfig},
		{"nil in verify set", func() (*auth.KeySet, error) { return auth.NewKeySet(nil, es, nil) }, auth.ErrConfig},
		{"duplicate in verify set", func() (*auth.KeySet, error) { return auth.NewKeySet(nil, es, es) }, auth.ErrConfig},
	}
	for _, tt := range tests {
		ks, err := tt.build()
		if !errors.Is(err, tt.want) || ks != nil {
			t.Errorf("%s: = %v, %v; want nil, %v", tt.name, ks, err, tt.want)
		}
	}

	// Keys given as verify-only lose their private half; a verify-only set
	// has no signing key and its Auth cannot issue.
	ks := mustKeySet(t)(auth.NewKeySet(ed, es))
	if keys := ks.Keys(); len(keys) != 2 || keys[0] != ed || auth.CanSign(keys[1]) || keys[1].ID() != es.ID() {
		t.Errorf("Keys() = %v; want the signing key, then %s without its private half", keys, es.ID())
	}
	vs := mustKeySet(t)(auth.NewKeySet(nil, ed, es))
	if vs.SigningKey() != nil {
		t.Errorf("NewVerifyKeySet: SigningKey() = %v; want nil", vs.SigningKey())
	}
	for _, k := range vs.Keys() {
		if auth.CanSign(k) {
			t.Errorf("NewVerifyKeySet kept the private half of %s", k.ID())
		}
	}
	// Keys returns a copy.
	keys := ks.Keys()
	keys[0] = nil
	if ks.Keys()[0] != ed {
		t.Errorf("changing the slice Keys() returned changed the set")
	}
}

func TestKeyRotation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	oldKey := newSigner(t, auth.EdDSA, "ed-a").key
	newKey := newSigner(t, auth.ES256, "p256-a").key
	ks := mustKeySet(t)(auth.NewKeySet(oldKey))
	a, err := auth.New(auth.WithKeys(ks), auth.WithIssuer(fxIssuer), auth.WithAudience(fxAudience), auth.WithClock(fxClock))
	if err != nil {
		t.Fatal(err)
	}
	issue := func() string {
		t.Helper()
		at, err := a.Issue(ctx, auth.Claims{Subject: "u"})
		if err != nil {
			t.Fatalf("Issue = %v", err)
		}
		return at.Token
	}
	jwksKids := func() []string {
		var set jwkSet
		if err := json.Unmarshal(auth.KeySetJWKS(ks), &set); err != nil {
			t.Fatal(err)
		}
		var kids []string
		for _, j := range set.Keys {
			kids = append(kids, j["kid"].(string))
		}
		return kids
	}
	oldTok := issue()
	if kid := decodeHeader(t, oldTok)["kid"]; kid != oldKey.ID() {
		t.Fatalf("token kid = %v; want %s", kid, oldKey.ID())
	}

	// Tokens of a key not yet in the set are refused.
	pending := newAuth(t, newKey)
	newTokByOther, err := pending.Issue(ctx, auth.Claims{Subject: "u"})
	if err != nil {
		t.Fatal(err)
	}
	checkVerify(t, a, newTokByOther.Token, auth.ErrTokenUnknownKey)

	// 1. Add: published and accepted, but not signing yet.
	if err := ks.Add(newKey); err != nil {
		t.Fatalf("Add = %v", err)
	}
	if got := strings.Join(jwksKids(), ","); got != oldKey.ID()+","+newKey.ID() {
		t.Errorf("JWKS kids after Add = %s; want old, new", got)
	}
	checkVerify(t, a, newTokByOther.Token, nil)
	if kid := decodeHeader(t, issue())["kid"]; kid != oldKey.ID() {
		t.Errorf("after Add, new tokens carry kid %v; want the old key %s", kid, oldKey.ID())
	}
	if k := ks.Keys()[1]; auth.CanSign(k) {
		t.Errorf("Add kept the private half of %s", k.ID())
	}
	if err := ks.Add(newKey); !errors.Is(err, auth.ErrConfig) {
		t.Errorf("Add(the same key again) = %v; want %v", err, auth.ErrConfig)
	}
	if err := ks.Add(auth.VerifyOnly(oldKey)); !errors.Is(err, auth.ErrConfig) {
		t.Errorf("Add(signing key's kid) = %v; want %v", err, auth.ErrConfig)
	}
	if err := ks.Add(nil); !errors.Is(err, auth.ErrConfig) {
		t.Errorf("Add(nil) = %v; want %v", err, auth.ErrConfig)
	}

	// 2. Promote: new tokens use the new key; the old ones still verify.
	if err := ks.Promote(auth.VerifyOnly(newKey)); !errors.Is(err, auth.ErrNoSigningKey) {
		t.Errorf("Promote(verify-only) = %v; want %v", err, auth.ErrNoSigningKey)
	}
	if err := ks.Promote(nil); !errors.Is(err, auth.ErrNoSigningKey) {
		t.Errorf("Promote(nil) = %v; want %v", err, auth.ErrNoSigningKey)
	}
	if err := ks.Promote(newKey); err != nil {
		t.Fatalf("Promote = %v", err)
	}
	if ks.SigningKey() != newKey {
		t.Errorf("SigningKey() = %v; want the promoted key", ks.SigningKey().ID())
	}
	newTok := issue()
	if kid := decodeHeader(t, newTok)["kid"]; kid != newKey.ID() {
		t.Errorf("after Promote, kid = %v; want %s", kid, newKey.ID())
	}
	checkVerify(t, a, oldTok, nil)
	checkVerify(t, a, newTok, nil)
	if keys := ks.Keys(); len(keys) != 2 || keys[0] != newKey || keys[1].ID() != oldKey.ID() || auth.CanSign(keys[1]) {
		t.Errorf("Keys() after Promote = %v; want the new key, then the old one verify-only", keys)
	}

	// 3. Retire: the old key's tokens stop verifying, and it leaves the JWKS.
	if err := ks.Retire(newKey.ID()); !errors.Is(err, auth.ErrConfig) {
		t.Errorf("Retire(the signing key) = %v; want %v", err, auth.ErrConfig)
	}
	if err := ks.Retire("no-such-key"); !errors.Is(err, auth.ErrConfig) {
		t.Errorf("Retire(unknown) = %v; want %v", err, auth.ErrConfig)
	}
	if err := ks.Retire(oldKey.ID()); err != nil {
		t.Fatalf("Retire = %v", err)
	}
	checkVerify(t, a, oldTok, auth.ErrTokenUnknownKey)
	checkVerify(t, a, newTok, nil)
	if got := strings.Join(jwksKids(), ","); got != newKey.ID() {
		t.Errorf("JWKS kids after Retire = %s; want only %s", got, newKey.ID())
	}
	if err := ks.Retire(oldKey.ID()); !errors.Is(err, auth.ErrConfig) {
		t.Errorf("Retire(already retired) = %v; want %v", err, auth.ErrConfig)
	}

	// A verify-only set keeps at least one key.
	vs := mustKeySet(t)(auth.NewKeySet(nil, oldKey, newKey))
	if err := vs.Retire(oldKey.ID()); err != nil {
		t.Errorf("Retire(one of two) = %v; want nil", err)
	}
	if err := vs.Retire(newKey.ID()); !errors.Is(err, auth.ErrConfig) {
		t.Errorf("Retire(the last key) = %v; want %v", err, auth.ErrConfig)
	}
}

// TestKeyRotationConcurrent verifies and issues tokens while keys are added,
// promoted and retired. Run it with -race.
func TestKeyRotationConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	stable := newSigner(t, auth.EdDSA, "ed-a").key
	ks := mustKeySet(t)(auth.NewKeySet(stable))
	a, err := auth.New(auth.WithKeys(ks), auth.WithIssuer(fxIssuer), auth.WithAudience(fxAudience), auth.WithClock(fxClock))
	if err != nil {
		t.Fatal(err)
	}
	at, err := a.Issue(ctx, auth.Claims{Subject: "u"})
	if err != nil {
		t.Fatal(err)
	}
	stableTok := at.Token // its key is never retired

	const rounds = 50
	keys := make([]*auth.Key, rounds)
	for i := range keys {
		if keys[i], err = auth.GenerateKey(nil, auth.EdDSA); err != nil {
			t.Fatal(err)
		}
	}

	var done atomic.Bool
	var wg sync.WaitGroup
	// The writer: add, promote, retire the previous rotating key.
	wg.Go(func() {
		defer done.Store(true)
		for i, k := range keys {
			if err := ks.Add(k); err != nil {
				t.Errorf("Add(round %d) = %v", i, err)
				return
			}
			if err := ks.Promote(k); err != nil {
				t.Errorf("Promote(round %d) = %v", i, err)
				return
			}
			if i > 0 {
				if err := ks.Retire(keys[i-1].ID()); err != nil {
					t.Errorf("Retire(round %d) = %v", i, err)
					return
				}
			}
		}
	})
	for range 4 {
		wg.Go(func() {
			for n := 0; !done.Load() || n < 20; n++ {
				if _, err := a.Verify(ctx, stableTok); err != nil {
					t.Errorf("Verify(stable token) during rotation = %v; want nil", err)
					return
				}
				at, err := a.Issue(ctx, auth.Claims{Subject: "u"})
				if err != nil {
					t.Errorf("Issue during rotation = %v", err)
					return
				}
				// Signed by whichever key was promoted; that key may have
				// been retired since, and nothing else may happen.
				if _, err := a.Verify(ctx, at.Token); err != nil && !errors.Is(err, auth.ErrTokenUnknownKey) {
					t.Errorf("Verify(fresh token) during rotation = %v; want nil or %v", err, auth.ErrTokenUnknownKey)
					return
				}
				var set jwkSet
				if err := json.Unmarshal(auth.KeySetJWKS(ks), &set); err != nil || len(set.Keys) == 0 {
					t.Errorf("JWKS() during rotation = %s, %v", auth.KeySetJWKS(ks), err)
					return
				}
				if ks.SigningKey() == nil || !auth.CanSign(ks.SigningKey()) {
					t.Errorf("SigningKey() during rotation = %v", ks.SigningKey())
					return
				}
			}
		})
	}
	wg.Wait()

	last := keys[rounds-1]
	if ks.SigningKey() != last {
		t.Errorf("SigningKey() = %s; want the last promoted key %s", ks.SigningKey().ID(), last.ID())
	}
	if got := len(ks.Keys()); got != 2 {
		t.Errorf("len(Keys()) = %d; want 2 (the stable key and the last one)", got)
	}
	checkVerify(t, a, stableTok, nil)
}

func TestPromoteRefusesAnotherKeyWithTheSameKid(t *testing.T) {
	t.Parallel()
	old, err := auth.GenerateKey(nil, auth.EdDSA, auth.WithKeyID("k1"))
	if err != nil {
		t.Fatal(err)
	}
	ks, err := auth.NewKeySet(old)
	if err != nil {
		t.Fatal(err)
	}
	impostor, _ := auth.GenerateKey(nil, auth.EdDSA, auth.WithKeyID("k1"))
	if err := ks.Promote(impostor); !errors.Is(err, auth.ErrConfig) {
		t.Errorf("Promote(another key with kid k1) = %v; want ErrConfig", err)
	}
	if err := ks.Promote(old); err != nil {
		t.Errorf("Promote(the same key again) = %v; want nil", err)
	}
}
