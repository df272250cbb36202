package auth_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtkit/auth/internal/testclock"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/jwtkit/auth"
)

// The fixture: one issuer, one audience and one instant. Every verifier in
// these tests runs on fxClock, so no result depends on when the tests run.
const (
	fxIssuer   = "https://id.example.com"
	fxAudience = "https://api.example.com"
)

var fxNow = testclock.Instant

func fxClock() time.Time { return fxNow }

// fxSecret holds the HMAC secrets: HS256 uses the first 32 bytes, HS384 the
// first 48, HS512 all 64. fxOtherSecret is a second, unrelated one.
var (
	fxSecret      = []byte("fixture hmac secret, 64 bytes long, for HS256, HS384 and HS512!!")
	fxOtherSecret = []byte("another secret, also of sixty-four bytes, and not weak either!!!")
)

// fxRaw holds the private keys the tests sign with, generated once per test
// binary (RSA keys take a while) and shared by every test.
var fxRaw = map[string]func() (crypto.Signer, error){
	"rsa-a":   sync.OnceValues(func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, 2048) }),
	"rsa-b":   sync.OnceValues(func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, 2048) }),
	"p256-a":  sync.OnceValues(func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }),
	"p256-b":  sync.OnceValues(func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }),
	"p384-a":  sync.OnceValues(func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P384(), rand.Reader) }),
	"p384-b":  sync.OnceValues(func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P384(), rand.Reader) }),
	"p521-a":  sync.OnceValues(func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P521(), rand.Reader) }),
	"p521-b":  sync.OnceValues(func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P521(), rand.Reader) }),
	"ed-a":    sync.OnceValues(func() (crypto.Signer, error) { _, k, err := ed25519.GenerateKey(rand.Reader); return k, err }),
	"ed-b":    sync.OnceValues(func() (crypto.Signer, error) { _, k, err := ed25519.GenerateKey(rand.Reader); return k, err }),
	"rsa1024": sync.OnceValues(func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, 1024) }),
}

// rawKey returns the shared private key named name.
func rawKey(t testing.TB, name string) crypto.Signer {
	t.Helper()
	gen, ok := fxRaw[name]
	if !ok {
		t.Fatalf("no fixture key %q", name)
	}
	k, err := gen()
	if err != nil {
		t.Fatalf("generate fixture key %q: %v", name, err)
	}
	return k
}

// signer is a key as the verifier holds it, and what golang-jwt needs to
// sign with that key: the way to forge any token the key would accept.
type signer struct {
	key    *auth.Key         // nil for an attacker's key the verifier never saw
	method jwt.SigningMethod // the key's algorithm
	secret any               // []byte for HMAC, a crypto.Signer otherwise
}

func jwtMethod(t testing.TB, alg auth.Algorithm) jwt.SigningMethod {
	t.Helper()
	m := jwt.GetSigningMethod(string(alg))
	if m == nil {
		t.Fatalf("golang-jwt has no method %s", alg)
	}
	return m
}

// newSigner builds the auth.Key for alg from the fixture key named name
// ("hmac" and "hmac-other" are the two secrets).
func newSigner(t testing.TB, alg auth.Algorithm, name string, opts ...auth.KeyOption) signer {
	t.Helper()
	var (
		key    *auth.Key
		secret any
		err    error
	)
	switch name {
	case "hmac", "hmac-other":
		src := fxSecret
		if name == "hmac-other" {
			src = fxOtherSecret
		}
		n := map[auth.Algorithm]int{auth.HS256: 32, auth.HS384: 48, auth.HS512: 64}[alg]
		secret = src[:n]
		key, err = auth.NewHMACKey(alg, src[:n], opts...)
	default:
		priv := rawKey(t, name)
		secret = priv
		key, err = auth.NewPrivateKey(alg, priv, opts...)
	}
	if err != nil {
		t.Fatalf("new %s key from %q: %v", alg, name, err)
	}
	return signer{key: key, method: jwtMethod(t, alg), secret: secret}
}

// newAuth returns a verifier (and issuer) whose key set holds only k, on
// the fixture's clock, issuer and audience.
func newAuth(t testing.TB, k *auth.Key, opts ...auth.Option) *auth.Auth {
	t.Helper()
	ks, err := auth.NewKeySet(k)
	if err != nil {
		t.Fatalf("NewKeySet: %v", err)
	}
	base := []auth.Option{auth.WithKeys(ks), auth.WithIssuer(fxIssuer), auth.WithAudience(fxAudience), auth.WithClock(fxClock)}
	a, err := auth.New(append(base, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return a
}

// seg base64url-encodes b without padding, as a compact JWS segment.
func seg(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json.Marshal(%v): %v", v, err)
	}
	return b
}

// signInput returns the base64url signature of a JWS signing input.
func signInput(t testing.TB, input string, s signer) string {
	t.Helper()
	sig, err := s.method.Sign(input, s.secret)
	if err != nil {
		t.Fatalf("%s.Sign: %v", s.method.Alg(), err)
	}
	return seg(sig)
}

// forgeRaw returns the compact JWS of exactly these header and payload
// bytes, signed by s.
func forgeRaw(t testing.TB, header, payload []byte, s signer) string {
	t.Helper()
	input := seg(header) + "." + seg(payload)
	return input + "." + signInput(t, input, s)
}

// forge returns the compact JWS of header and claims (any JSON values),
// signed by s.
func forge(t testing.TB, header, claims any, s signer) string {
	t.Helper()
	return forgeRaw(t, mustJSON(t, header), mustJSON(t, claims), s)
}

// headerFor returns the header the library itself writes for s's key.
func headerFor(s signer) map[string]any {
	return map[string]any{"alg": string(s.key.Algorithm()), "kid": s.key.ID(), "typ": "at+jwt"}
}

// validClaims returns claims that every fixture verifier accepts.
func validClaims() map[string]any {
	return map[string]any{
		"iss": fxIssuer,
		"aud": fxAudience,
		"sub": "user-1",
		"jti": "7d2ad8c4-7f0e-4f43-9f3c-1f0f6f0e2b11",
		"iat": fxNow.Unix() - 60,
		"exp": fxNow.Unix() + 600,
	}
}

// with returns a copy of m with the members of kv (name, value pairs) set;
// a nil value removes the member.
func with(m map[string]any, kv ...any) map[string]any {
	out := maps.Clone(m)
	for i := 0; i+1 < len(kv); i += 2 {
		name := kv[i].(string)
		if kv[i+1] == nil {
			delete(out, name)
			continue
		}
		out[name] = kv[i+1]
	}
	return out
}

// num is a JSON number written exactly as given.
func num(s string) json.Number { return json.Number(s) }

// segments splits a compact JWS into its three segments.
func segments(t testing.TB, tok string) (h, p, s string) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q has %d segments", abbrev(tok), len(parts))
	}
	return parts[0], parts[1], parts[2]
}

// abbrev shortens long tokens in failure messages.
func abbrev(tok string) string {
	if len(tok) <= 120 {
		return tok
	}
	return fmt.Sprintf("%s...(%d bytes)", tok[:100], len(tok))
}

// errorClasses returns the failure classes err matches; every error of the
// library matches exactly one.
func errorClasses(err error) []error {
	var out []error
	for _, class := range []error{auth.ErrNoToken, auth.ErrInvalidToken, auth.ErrUnavailable, auth.ErrForbidden, auth.ErrConfig} {
		if errors.Is(err, class) {
			out = append(out, class)
		}
	}
	return out
}

// classOf returns the class of one of the library's sentinels.
func classOf(sentinel error) error {
	if c := errorClasses(sentinel); len(c) == 1 {
		return c[0]
	}
	return nil
}

// checkVerify verifies tok with a and checks that the result is want (nil
// for success): the precise sentinel, exactly its class, and claims exactly
// when there is no error.
func checkVerify(t *testing.T, a *auth.Auth, tok string, want error) *auth.Claims {
	t.Helper()
	c, err := a.Verify(context.Background(), tok)
	return checkResult(t, tok, c, err, want)
}

// checkResult checks the result c, err of verifying tok as checkVerify does.
func checkResult(t *testing.T, tok string, c *auth.Claims, err, want error) *auth.Claims {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("Verify(%q) = %v; want nil", abbrev(tok), err)
		}
		if c == nil || c.Subject == "" {
			t.Fatalf("Verify(%q) = %+v, nil; want claims with a subject", abbrev(tok), c)
		}
		return c
	}
	if !errors.Is(err, want) {
		t.Errorf("Verify(%q) = %v; want %v", abbrev(tok), err, want)
	}
	if got, class := errorClasses(err), classOf(want); len(got) != 1 || got[0] != class {
		t.Errorf("Verify(%q) = %v, of classes %v; want exactly %v", abbrev(tok), err, got, class)
	}
	if c != nil {
		t.Errorf("Verify(%q) = %+v, %v; want nil claims with the error", abbrev(tok), c, err)
	}
	return nil
}

// withTrailingBits re-encodes a segment whose last character carries unused
// bits so that those bits are not zero: the same bytes to a lenient decoder,
// not a strict base64url encoding.
func withTrailingBits(t testing.TB, s string) string {
	t.Helper()
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	if len(s)%4 == 0 {
		t.Fatalf("segment %q has no unused bits", s)
	}
	i := strings.IndexByte(alphabet, s[len(s)-1])
	out := s[:len(s)-1] + string(alphabet[i|1])
	if dec, err := base64.RawURLEncoding.DecodeString(out); err != nil || seg(dec) != s {
		t.Fatalf("withTrailingBits(%q) = %q, which a lenient decoder does not read as the same bytes", s, out)
	}
	return out
}

// padded returns a JSON object that encodes to a segment whose length is not
// a multiple of 4, so that it has unused trailing bits.
func padded(t testing.TB, m map[string]any) []byte {
	t.Helper()
	for i := range 3 {
		b := mustJSON(t, with(m, "pad", strings.Repeat("x", i)))
		if len(seg(b))%4 != 0 {
			return b
		}
	}
	t.Fatal("no padding gives unused bits")
	return nil
}

// rejectFixture is what every rejection test starts from: keys of each
// key type, an Auth per key, and a valid token whose one change each case
// makes. Every rejection changes one thing in a token that is accepted as
// it stands.
type rejectFixture struct {
	hs, hsOther, rs, rsOther, es, esOther, ed, edOther signer
	hsAuth, rsAuth, esAuth, edAuth, bigAuth            *auth.Auth
	good                                               map[string]any
	hsHeader                                           map[string]any
	valid, vh, vp, vs                                  string

	tests []rejectCase
}

// rejectCase is one token that Verify must refuse with want.
type rejectCase struct {
	name string
	a    *auth.Auth // nil: hsAuth
	tok  string
	want error
}

func newRejectFixture(t *testing.T) *rejectFixture {
	t.Helper()
	hs := newSigner(t, auth.HS256, "hmac")
	hsOther := newSigner(t, auth.HS256, "hmac-other", auth.WithKeyID(hs.key.ID()))
	rs := newSigner(t, auth.RS256, "rsa-a")
	rsOther := newSigner(t, auth.RS256, "rsa-b", auth.WithKeyID(rs.key.ID()))
	es := newSigner(t, auth.ES256, "p256-a")
	esOther := newSigner(t, auth.ES256, "p256-b", auth.WithKeyID(es.key.ID()))
	ed := newSigner(t, auth.EdDSA, "ed-a")
	edOther := newSigner(t, auth.EdDSA, "ed-b", auth.WithKeyID(ed.key.ID()))

	hsAuth := newAuth(t, hs.key)
	rsAuth := newAuth(t, rs.key)
	esAuth := newAuth(t, es.key)
	edAuth := newAuth(t, ed.key)
	bigAuth := newAuth(t, hs.key, auth.WithMaxTokenSize(64<<10))

	good := validClaims()
	hsHeader := headerFor(hs)
	valid := forge(t, hsHeader, good, hs)

	// Every rejection below changes one thing in a token that is accepted as
	// it stands: make sure it is.
	for _, v := range []struct {
		a   *auth.Auth
		tok string
	}{
		{hsAuth, valid},
		{rsAuth, forge(t, headerFor(rs), good, rs)},
		{esAuth, forge(t, headerFor(es), good, es)},
		{edAuth, forge(t, headerFor(ed), good, ed)},
		{bigAuth, valid},
		{newAuth(t, hs.key, auth.WithMaxTokenSize(len(valid))), valid},
	} {
		checkVerify(t, v.a, v.tok, nil)
	}
	vh, vp, vs := segments(t, valid)

	f := &rejectFixture{hs: hs, hsOther: hsOther, rs: rs, rsOther: rsOther, es: es, esOther: esOther, ed: ed, edOther: edOther,
		hsAuth: hsAuth, rsAuth: rsAuth, esAuth: esAuth, edAuth: edAuth, bigAuth: bigAuth,
		good: good, hsHeader: hsHeader, valid: valid, vh: vh, vp: vp, vs: vs}
	return f
}

func (f *rejectFixture) add(want error, name string, a *auth.Auth, tok string) {
	f.tests = append(f.tests, rejectCase{name: name, a: a, tok: tok, want: want})
}

// run verifies every case added, each in its own subtest. Each verifier
// has just verified a valid token (so its verified-token cache holds one),
// and each case is verified twice: a refusal is never remembered.
func (f *rejectFixture) run(t *testing.T) {
	t.Helper()
	for _, v := range []struct {
		a   *auth.Auth
		tok string
	}{
		{f.hsAuth, f.valid},
		{f.rsAuth, forge(t, headerFor(f.rs), f.good, f.rs)},
		{f.esAuth, forge(t, headerFor(f.es), f.good, f.es)},
		{f.edAuth, forge(t, headerFor(f.ed), f.good, f.ed)},
		{f.bigAuth, f.valid},
	} {
		checkVerify(t, v.a, v.tok, nil)
	}
	for _, tt := range f.tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := tt.a
			if a == nil {
				a = f.hsAuth
			}
			checkVerify(t, a, tt.tok, tt.want)
			checkVerify(t, a, tt.tok, tt.want)
		})
	}
}

// TestVerifyRejectsAlgNone: alg "none" in any spelling, signed or not, with or without a kid.
func TestVerifyRejectsAlgNone(t *testing.T) {
	t.Parallel()
	f := newRejectFixture(t)
	// alg none, in any spelling, with or without a signature. Even a
	// signature made with the real secret does not make "none" acceptable.
	for _, none := range []string{"none", "None", "NONE", "nOnE"} {
		h := with(f.hsHeader, "alg", none)
		input := seg(mustJSON(t, h)) + "." + seg(mustJSON(t, f.good))
		f.add(auth.ErrTokenHeader, "alg "+none+" empty signature", nil, input+".")
		f.add(auth.ErrTokenHeader, "alg "+none+" signed with the real secret", nil, input+"."+signInput(t, input, f.hs))
		f.add(auth.ErrTokenHeader, "alg "+none+" with junk signature", f.rsAuth, seg(mustJSON(t, with(headerFor(f.rs), "alg", none)))+"."+seg(mustJSON(t, f.good))+".c2lnbmF0dXJl")
		f.add(auth.ErrTokenHeader, "alg "+none+" without kid", nil, seg(mustJSON(t, with(h, "kid", nil)))+"."+seg(mustJSON(t, f.good))+".")
	}
	f.run(t)
}

// TestVerifyRejectsAlgorithmConfusion: an algorithm other than the one of the key that kid names: RS256 to HS256 confusion with the public key as the secret, and siblings of the key's own type.
func TestVerifyRejectsAlgorithmConfusion(t *testing.T) {
	t.Parallel()
	f := newRejectFixture(t)
	// RS256 to HS256 confusion: the attacker knows the public key and uses
	// it, in every encoding a naive verifier might hand to HMAC, as the
	// secret. The kid names an RS256 key, so HS256 is refused outright.
	rsaPub := f.rs.key.Public().(*rsa.PublicKey)
	pkix, err := x509.MarshalPKIXPublicKey(rsaPub)
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := x509.MarshalPKCS1PublicKey(rsaPub)
	pemPKIX := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix})
	pemPKCS1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: pkcs1})
	jwkJSON, err := f.rs.key.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	jwksJSON, err := auth.NewKeySet(nil, f.rs.key)
	if err != nil {
		t.Fatal(err)
	}
	confusion := map[string][]byte{
		"PEM PKIX":                pemPKIX,
		"PEM PKIX no newline":     bytes.TrimRight(pemPKIX, "\n"),
		"PEM PKCS1":               pemPKCS1,
		"PEM PKCS1 no newline":    bytes.TrimRight(pemPKCS1, "\n"),
		"DER PKIX":                pkix,
		"DER PKCS1":               pkcs1,
		"JWK JSON":                jwkJSON,
		"JWK Set JSON":            auth.KeySetJWKS(jwksJSON),
		"modulus bytes":           rsaPub.N.Bytes(),
		"kid as secret":           []byte(f.rs.key.ID()),
		"PEM PKIX CRLF line ends": bytes.ReplaceAll(pemPKIX, []byte("\n"), []byte("\r\n")),
	}
	for name, secret := range confusion {
		for _, alg := range []auth.Algorithm{auth.HS256, auth.HS512} {
			attacker := signer{method: jwtMethod(t, alg), secret: secret}
			f.add(auth.ErrTokenHeader, fmt.Sprintf("RS256 key, %s signed with %s", alg, name), f.rsAuth,
				forge(t, with(headerFor(f.rs), "alg", string(alg)), f.good, attacker))
		}
	}
	// The key fixes the algorithm: a token the right key really signed, but
	// with another algorithm of its type, is refused too.
	for _, c := range []struct {
		alg auth.Algorithm
		key string
		a   *auth.Auth
		kid string
	}{
		{auth.PS256, "rsa-a", f.rsAuth, f.rs.key.ID()},
		{auth.RS512, "rsa-a", f.rsAuth, f.rs.key.ID()},
		{auth.HS384, "hmac", f.hsAuth, f.hs.key.ID()},
		{auth.HS512, "hmac", f.hsAuth, f.hs.key.ID()},
	} {
		s := newSigner(t, c.alg, c.key)
		f.add(auth.ErrTokenHeader, fmt.Sprintf("%s token for the same key's kid", c.alg), c.a,
			forge(t, map[string]any{"alg": string(c.alg), "kid": c.kid, "typ": "at+jwt"}, f.good, s))
	}
	f.add(auth.ErrTokenHeader, "alg lower case", nil, forge(t, with(f.hsHeader, "alg", "hs256"), f.good, f.hs))
	f.add(auth.ErrTokenHeader, "alg missing", nil, forge(t, with(f.hsHeader, "alg", nil), f.good, f.hs))
	f.add(auth.ErrTokenHeader, "alg empty", nil, forge(t, with(f.hsHeader, "alg", ""), f.good, f.hs))
	f.add(auth.ErrTokenHeader, "alg Ed25519 for EdDSA", f.edAuth, forge(t, with(headerFor(f.ed), "alg", "Ed25519"), f.good, f.ed))
	f.add(auth.ErrTokenHeader, "alg ES384 for an ES256 key", f.esAuth, forge(t, with(headerFor(f.es), "alg", "ES384"), f.good, f.es))
	f.add(auth.ErrTokenHeader, "alg HS256 for an ES256 key", f.esAuth, forge(t, with(headerFor(f.es), "alg", "HS256"), f.good, signer{method: jwt.SigningMethodHS256, secret: []byte("x")}))
	f.run(t)
}

// TestVerifyRejectsSignature: signatures that do not verify, HMAC under a wrong or empty secret included.
func TestVerifyRejectsSignature(t *testing.T) {
	t.Parallel()
	f := newRejectFixture(t)
	// HMAC with an empty secret (or any secret but the real one).
	f.add(auth.ErrTokenSignature, "HS256 signed with an empty secret", nil, forge(t, f.hsHeader, f.good, signer{method: jwt.SigningMethodHS256, secret: []byte{}}))
	f.add(auth.ErrTokenSignature, "HS256 signed with the kid as secret", nil, forge(t, f.hsHeader, f.good, signer{method: jwt.SigningMethodHS256, secret: []byte(f.hs.key.ID())}))

	// Signatures that do not verify.
	f.add(auth.ErrTokenSignature, "payload tampered, original signature", nil,
		f.vh+"."+seg(mustJSON(t, with(f.good, "sub", "admin")))+"."+f.vs)
	f.add(auth.ErrTokenSignature, "header tampered, original signature", nil,
		seg(mustJSON(t, with(f.hsHeader, "typ", "AT+JWT")))+"."+f.vp+"."+f.vs)
	rsValid := forge(t, headerFor(f.rs), f.good, f.rs)
	rh, _, rsig := segments(t, rsValid)
	f.add(auth.ErrTokenSignature, "RS256 payload tampered, original signature", f.rsAuth,
		rh+"."+seg(mustJSON(t, with(f.good, "role", "admin")))+"."+rsig)
	f.add(auth.ErrTokenSignature, "signature of another token", nil,
		f.vh+"."+f.vp+"."+func() string { _, _, s := segments(t, forge(t, f.hsHeader, with(f.good, "sub", "x"), f.hs)); return s }())
	f.add(auth.ErrTokenSignature, "empty signature", nil, f.vh+"."+f.vp+".")
	f.add(auth.ErrTokenSignature, "HS256 other secret, same kid", nil, forge(t, f.hsHeader, f.good, f.hsOther))
	f.add(auth.ErrTokenSignature, "RS256 other key, same kid", f.rsAuth, forge(t, headerFor(f.rsOther), f.good, f.rsOther))
	f.add(auth.ErrTokenSignature, "ES256 other key, same kid", f.esAuth, forge(t, headerFor(f.esOther), f.good, f.esOther))
	f.add(auth.ErrTokenSignature, "EdDSA other key, same kid", f.edAuth, forge(t, headerFor(f.edOther), f.good, f.edOther))
	f.add(auth.ErrTokenSignature, "ES256 signature too short", f.esAuth, func() string {
		h, p, s := segments(t, forge(t, headerFor(f.es), f.good, f.es))
		raw, _ := base64.RawURLEncoding.DecodeString(s)
		return h + "." + p + "." + seg(raw[:len(raw)-1])
	}())
	f.run(t)
}

// TestVerifyRejectsKeyID: unknown, missing and hostile kids.
func TestVerifyRejectsKeyID(t *testing.T) {
	t.Parallel()
	f := newRejectFixture(t)
	// Unknown, missing and hostile kids: a kid is only ever a map key.
	for name, kid := range map[string]string{
		"unknown":         "some-other-key",
		"empty":           "",
		"path traversal":  "../../etc/passwd",
		"SQL":             "' OR 1=1 --",
		"NUL":             "\u0000",
		"kid plus NUL":    f.hs.key.ID() + "\u0000",
		"URL":             "http://evil/key",
		"upper-cased kid": strings.ToUpper(f.hs.key.ID()),
		"trailing space":  f.hs.key.ID() + " ",
	} {
		f.add(auth.ErrTokenUnknownKey, "kid "+name, nil, forge(t, with(f.hsHeader, "kid", kid), f.good, f.hs))
	}
	f.add(auth.ErrTokenUnknownKey, "kid missing", nil, forge(t, with(f.hsHeader, "kid", nil), f.good, f.hs))
	f.add(auth.ErrTokenUnknownKey, "kid null", nil, forge(t, with(f.hsHeader, "kid", json.RawMessage("null")), f.good, f.hs))
	longKid := forge(t, with(f.hsHeader, "kid", strings.Repeat("k", 10<<10)), f.good, f.hs)
	if len(longKid) > 64<<10 {
		t.Fatalf("10 KB kid token has %d bytes, over the cap", len(longKid))
	}
	f.add(auth.ErrTokenUnknownKey, "kid of 10 KB within the size cap", f.bigAuth, longKid)
	f.add(auth.ErrTokenMalformed, "kid a number", nil, forge(t, with(f.hsHeader, "kid", 7), f.good, f.hs))
	f.run(t)
}

// TestVerifyRejectsHeader: header members that would make a verifier trust the token's own choice of key or name extensions, and a typ other than at+jwt.
func TestVerifyRejectsHeader(t *testing.T) {
	t.Parallel()
	f := newRejectFixture(t)
	pkix, err := x509.MarshalPKIXPublicKey(f.rs.key.Public())
	if err != nil {
		t.Fatal(err)
	}
	// Header members that would make a verifier trust the token's own
	// choice of key, or that name extensions, are refused even when the
	// rest is f.valid.
	attackerJWK, err := newSigner(t, auth.RS256, "rsa-b").key.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	attacker := newSigner(t, auth.RS256, "rsa-b")
	f.add(auth.ErrTokenHeader, "embedded jwk, verifier's kid", f.rsAuth,
		forge(t, with(headerFor(f.rs), "jwk", json.RawMessage(attackerJWK)), f.good, attacker))
	f.add(auth.ErrTokenHeader, "embedded jwk, attacker's kid", f.rsAuth,
		forge(t, with(headerFor(attacker), "jwk", json.RawMessage(attackerJWK)), f.good, attacker))
	for name, v := range map[string]any{
		"jku":      "https://evil.example/jwks.json",
		"x5u":      "https://evil.example/cert.pem",
		"x5c":      []string{base64.StdEncoding.EncodeToString(pkix)},
		"crit":     []string{"exp"},
		"crit []":  []string{},
		"jku null": json.RawMessage("null"),
		"jwk {}":   map[string]any{},
	} {
		member, _, _ := strings.Cut(name, " ")
		f.add(auth.ErrTokenHeader, "header "+name, nil, forge(t, with(f.hsHeader, member, v), f.good, f.hs))
	}

	// typ must say access token.
	for name, typ := range map[string]any{
		"missing":         nil,
		"JWT":             "JWT",
		"jwt":             "jwt",
		"empty":           "",
		"application/jwt": "application/jwt",
		"trailing space":  "at+jwt ",
		"parameters":      "at+jwt; charset=utf-8",
		"jwt+at":          "jwt+at",
	} {
		f.add(auth.ErrTokenHeader, "typ "+name, nil, forge(t, with(f.hsHeader, "typ", typ), f.good, f.hs))
	}
	f.add(auth.ErrTokenMalformed, "typ a number", nil, forge(t, with(f.hsHeader, "typ", 1), f.good, f.hs))
	f.run(t)
}

// TestVerifyRejectsClaims: the validity window, required and checked claims, and absurd dates.
func TestVerifyRejectsClaims(t *testing.T) {
	t.Parallel()
	f := newRejectFixture(t)
	// Validity window, without leeway.
	now := fxNow.Unix()
	f.add(auth.ErrTokenExpired, "expired", nil, forge(t, f.hsHeader, with(f.good, "exp", now-1), f.hs))
	f.add(auth.ErrTokenExpired, "exp equal to now", nil, forge(t, f.hsHeader, with(f.good, "exp", now), f.hs))
	f.add(auth.ErrTokenExpired, "exp half a second ago", nil, forge(t, f.hsHeader, with(f.good, "exp", num(fmt.Sprintf("%d.5", now-1))), f.hs))
	f.add(auth.ErrTokenExpired, "exp 1970", nil, forge(t, f.hsHeader, with(f.good, "exp", 0, "iat", 0), f.hs))
	f.add(auth.ErrTokenClaims, "nbf in the future", nil, forge(t, f.hsHeader, with(f.good, "nbf", now+1), f.hs))
	f.add(auth.ErrTokenClaims, "iat in the future", nil, forge(t, f.hsHeader, with(f.good, "iat", now+1), f.hs))
	f.add(auth.ErrTokenClaims, "iat far in the future", nil, forge(t, f.hsHeader, with(f.good, "iat", now+3600, "exp", now+7200), f.hs))
	leeway := newAuth(t, f.hs.key, auth.WithLeeway(time.Minute))
	f.add(auth.ErrTokenExpired, "expired beyond the leeway", leeway, forge(t, f.hsHeader, with(f.good, "exp", now-60), f.hs))
	f.add(auth.ErrTokenClaims, "nbf beyond the leeway", leeway, forge(t, f.hsHeader, with(f.good, "nbf", now+61), f.hs))
	f.add(auth.ErrTokenClaims, "iat beyond the leeway", leeway, forge(t, f.hsHeader, with(f.good, "iat", now+61), f.hs))

	// Required and checked claims.
	for _, name := range []string{"exp", "iat", "iss", "aud", "sub", "jti"} {
		f.add(auth.ErrTokenClaims, "missing "+name, nil, forge(t, f.hsHeader, with(f.good, name, nil), f.hs))
	}
	for name, kv := range map[string][]any{
		"sub empty":              {"sub", ""},
		"sub null":               {"sub", json.RawMessage("null")},
		"jti empty":              {"jti", ""},
		"wrong iss":              {"iss", "https://evil.example.com"},
		"iss with trailing /":    {"iss", fxIssuer + "/"},
		"iss upper case":         {"iss", strings.ToUpper(fxIssuer)},
		"iss empty":              {"iss", ""},
		"wrong aud":              {"aud", "https://other.example.com"},
		"aud upper case":         {"aud", strings.ToUpper(fxAudience)},
		"aud empty":              {"aud", ""},
		"aud array without ours": {"aud", []string{"a", "b"}},
		"aud empty array":        {"aud", []string{}},
		"aud array of prefix":    {"aud", []string{fxAudience[:len(fxAudience)-1]}},
	} {
		f.add(auth.ErrTokenClaims, name, nil, forge(t, f.hsHeader, with(f.good, kv...), f.hs))
	}

	// Absurd dates.
	for name, kv := range map[string][]any{
		"exp 1e300":                 {"exp", num("1e300")},
		"exp 2^63":                  {"exp", num("9223372036854775808")},
		"exp -1":                    {"exp", -1},
		"exp 1e19":                  {"exp", num("1e19")},
		"exp year 10000":            {"exp", int64(253402300800)},
		"exp 12 digits":             {"exp", int64(999999999999)},
		"exp 400 digits":            {"exp", num("1" + strings.Repeat("0", 400))},
		"exp -1e300":                {"exp", num("-1e300")},
		"iat -1":                    {"iat", -1},
		"iat -0.5":                  {"iat", num("-0.5")},
		"iat 1e300":                 {"iat", num("1e300")},
		"nbf 1e300":                 {"nbf", num("1e300")},
		"nbf -1":                    {"nbf", -1},
		"iat_us disagrees with iat": {"iat_us", (now - 120) * 1e6},
		"iat_us one second off":     {"iat_us", (now-60)*1e6 + 1e6},
		"iat_us negative":           {"iat_us", -1},
		"iat_us without iat":        {"iat", nil, "iat_us", (now - 60) * 1e6},
	} {
		f.add(auth.ErrTokenClaims, name, nil, forge(t, f.hsHeader, with(f.good, kv...), f.hs))
	}
	f.run(t)
}

// TestVerifyRejectsJSON: claims of the wrong JSON type, payloads or headers that are not JSON objects, and member names that are not exact.
func TestVerifyRejectsJSON(t *testing.T) {
	t.Parallel()
	f := newRejectFixture(t)
	now := fxNow.Unix()
	// Claims of the wrong JSON type, and payloads or headers that are not
	// JSON objects, are malformed.
	for name, kv := range map[string][]any{
		"sub a number":          {"sub", 42},
		"sub an object":         {"sub", map[string]any{"id": "user-1"}},
		"exp a string":          {"exp", fmt.Sprint(now + 600)},
		"exp null":              {"exp", json.RawMessage("null")},
		"exp a bool":            {"exp", true},
		"iat an array":          {"iat", []int64{now}},
		"aud a number":          {"aud", 1},
		"aud an object":         {"aud", map[string]any{"aud": fxAudience}},
		"aud array with number": {"aud", []any{fxAudience, 1}},
		"role an array":         {"role", []string{"admin"}},
		"email a number":        {"email", 1},
		"scope an array":        {"scope", []string{"read"}},
		"jti a number":          {"jti", 1},
		"iss an array":          {"iss", []string{fxIssuer}},
		"iat_us a string":       {"iat_us", "1"},
		"iat_us fractional":     {"iat_us", 1.5},
		"iat_us exponent":       {"iat_us", num("1e6")},
		"iat_us over int64":     {"iat_us", num("9223372036854775808")},
	} {
		f.add(auth.ErrTokenMalformed, name, nil, forge(t, f.hsHeader, with(f.good, kv...), f.hs))
	}
	hsJSON := mustJSON(t, f.hsHeader)
	goodJSON := mustJSON(t, f.good)
	for name, payload := range map[string]string{
		"payload an array":           `[` + string(goodJSON) + `]`,
		"payload a string":           `"` + fxIssuer + `"`,
		"payload null":               `null`,
		"payload a number":           `1`,
		"payload not JSON":           `{"sub":`,
		"payload trailing data":      string(goodJSON) + `x`,
		"payload two objects":        string(goodJSON) + string(goodJSON),
		"payload leading whitespace": ` ` + string(goodJSON),
	} {
		f.add(auth.ErrTokenMalformed, name, nil, forgeRaw(t, hsJSON, []byte(payload), f.hs))
	}
	for name, header := range map[string]string{
		"header not JSON":    `{"alg":"HS256",`,
		"header an array":    `["HS256"]`,
		"header a string":    `"HS256"`,
		"header alg number":  `{"alg":256,"kid":"` + f.hs.key.ID() + `","typ":"at+jwt"}`,
		"header binary":      "\x00\x01\x02",
		"header two objects": string(hsJSON) + string(hsJSON),
	} {
		f.add(auth.ErrTokenMalformed, name, nil, forgeRaw(t, []byte(header), goodJSON, f.hs))
	}
	f.add(auth.ErrTokenMalformed, "header null", nil, forgeRaw(t, []byte("null"), goodJSON, f.hs))
	f.add(auth.ErrTokenHeader, "header {}", nil, forgeRaw(t, []byte("{}"), goodJSON, f.hs))
	// Member names are exact: another letter case, which some decoders
	// honour and others ignore, and duplicates are refused.
	kidJSON := `"kid":"` + f.hs.key.ID() + `"`
	for name, header := range map[string]string{
		"header TYP beside typ": `{"alg":"HS256",` + kidJSON + `,"typ":"JWT","TYP":"at+jwt"}`,
		"header Typ alone":      `{"alg":"HS256",` + kidJSON + `,"Typ":"at+jwt"}`,
		"header ALG":            `{"ALG":"HS256",` + kidJSON + `,"typ":"at+jwt"}`,
		"header Kid":            `{"alg":"HS256","Kid":"` + f.hs.key.ID() + `","typ":"at+jwt"}`,
		"header JKU":            `{"alg":"HS256",` + kidJSON + `,"typ":"at+jwt","JKU":"https://evil"}`,
		"header duplicate typ":  `{"alg":"HS256",` + kidJSON + `,"typ":"JWT","typ":"at+jwt"}`,
		"header duplicate alg":  `{"alg":"none","alg":"HS256",` + kidJSON + `,"typ":"at+jwt"}`,
		"header duplicate kid":  `{"alg":"HS256",` + kidJSON + `,` + kidJSON + `,"typ":"at+jwt"}`,
	} {
		f.add(auth.ErrTokenHeader, name, nil, forgeRaw(t, []byte(header), goodJSON, f.hs))
	}
	f.add(auth.ErrTokenMalformed, "header trailing garbage", nil, forgeRaw(t, []byte(`{"alg":"HS256",`+kidJSON+`,"typ":"at+jwt"} x`), goodJSON, f.hs))
	// The payload too: claim names are exact, and a name given twice, or
	// in two spellings that a case-insensitive decoder takes for one, is
	// refused, so that no two parsers read different claims.
	body := strings.TrimSuffix(string(goodJSON), "}")
	var many strings.Builder
	for i := range 30 {
		fmt.Fprintf(&many, `,"x%d":%d`, i, i)
	}
	for name, payload := range map[string]string{
		"role and ROLE":              body + `,"role":"user","ROLE":"admin"}`,
		"ROLE alone":                 body + `,"ROLE":"admin"}`,
		"Sub beside sub":             body + `,"Sub":"root"}`,
		"SUB beside sub":             body + `,"SUB":"root"}`,
		"long s beside sub":          body + `,"\u017fub":"root"}`,
		"long s raw beside sub":      body + `,"ſub":"root"}`,
		"exp twice":                  body + `,"exp":` + fmt.Sprint(now+86400) + `}`,
		"sub escaped, twice":         body + `,"\u0073ub":"root"}`,
		"iss twice":                  body + `,"iss":"https://evil.example"}`,
		"Kelvin sign in a name":      body + `,"tenant":"a","\u212aey":"x","key":"y"}`,
		"application claim twice":    body + `,"tenant":"a","tenant":"b"}`,
		"application claim in cases": body + `,"tenant":"a","Tenant":"b"}`,
		"duplicate past 24 members":  body + many.String() + `,"x3":"again"}`,
		"unterminated name":          body + `,"a}`,
		"control character in name":  body + ",\"a\x01\":1}",
	} {
		f.add(auth.ErrTokenMalformed, name, nil, forgeRaw(t, hsJSON, []byte(payload), f.hs))
	}
	f.run(t)
	// Members the rules leave alone.
	for name, payload := range map[string]string{
		"many distinct members":    body + many.String() + `}`,
		"nested objects and names": body + `,"ctx":{"sub":"x","Sub":"y","a":[{"}":"]"}]},"tags":["{","\""]}`,
		"escaped unrelated name":   body + `,"t\u00e9nant":"a"}`,
		"whitespace around":        "{ " + strings.TrimPrefix(body, "{") + ` , "x" : 1 }`,
	} {
		if _, err := f.hsAuth.Verify(context.Background(), forgeRaw(t, hsJSON, []byte(payload), f.hs)); err != nil {
			t.Errorf("Verify(%s) = %v; want nil", name, err)
		}
	}
}

// TestVerifyRejectsEncoding: anything but three strict base64url segments, and tokens over the size cap, checked before anything else.
func TestVerifyRejectsEncoding(t *testing.T) {
	t.Parallel()
	f := newRejectFixture(t)
	// Strict base64url only: no padding, no standard alphabet, no
	// whitespace, no stray trailing bits.
	f.add(auth.ErrTokenMalformed, "padding on the signature", nil, f.valid+"=")
	f.add(auth.ErrTokenMalformed, "padding on the header, signed", nil, func() string {
		h := base64.URLEncoding.EncodeToString(padded(t, f.hsHeader))
		if !strings.HasSuffix(h, "=") {
			t.Fatalf("header %q has no padding", h)
		}
		input := h + "." + f.vp
		return input + "." + signInput(t, input, f.hs)
	}())
	f.add(auth.ErrTokenMalformed, "padded signature", nil, func() string {
		raw, _ := base64.RawURLEncoding.DecodeString(f.vs)
		return f.vh + "." + f.vp + "." + base64.URLEncoding.EncodeToString(raw)
	}())
	f.add(auth.ErrTokenMalformed, "standard alphabet signature", nil, func() string {
		// Find a token whose signature has a character that differs between
		// the two alphabets.
		for i := range 100 {
			tok := forge(t, f.hsHeader, with(f.good, "jti", fmt.Sprint(i)), f.hs)
			h, p, s := segments(t, tok)
			raw, _ := base64.RawURLEncoding.DecodeString(s)
			if std := base64.RawStdEncoding.EncodeToString(raw); std != s {
				return h + "." + p + "." + std
			}
		}
		t.Fatal("no signature with - or _")
		return ""
	}())
	f.add(auth.ErrTokenMalformed, "standard alphabet payload, signed", nil, func() string {
		for i := range 100 {
			b := mustJSON(t, with(f.good, "scope", strings.Repeat("?", i)))
			if std := base64.RawStdEncoding.EncodeToString(b); std != seg(b) {
				input := f.vh + "." + std
				return input + "." + signInput(t, input, f.hs)
			}
		}
		t.Fatal("no payload with + or /")
		return ""
	}())
	f.add(auth.ErrTokenMalformed, "plus in the header", nil, f.vh[:5]+"+"+f.vh[6:]+"."+f.vp+"."+f.vs)
	f.add(auth.ErrTokenMalformed, "slash in the payload", nil, f.vh+"."+f.vp[:7]+"/"+f.vp[8:]+"."+f.vs)
	f.add(auth.ErrTokenMalformed, "newline inside the payload", nil, f.vh+"."+f.vp[:10]+"\n"+f.vp[10:]+"."+f.vs)
	f.add(auth.ErrTokenMalformed, "CRLF inside the header", nil, f.vh[:10]+"\r\n"+f.vh[10:]+"."+f.vp+"."+f.vs)
	f.add(auth.ErrTokenMalformed, "trailing newline", nil, f.valid+"\n")
	f.add(auth.ErrTokenMalformed, "leading space", nil, " "+f.valid)
	f.add(auth.ErrTokenMalformed, "Bearer prefix", nil, "Bearer "+f.valid)
	f.add(auth.ErrTokenMalformed, "tab inside the signature", nil, f.vh+"."+f.vp+"."+f.vs[:5]+"\t"+f.vs[5:])
	f.add(auth.ErrTokenMalformed, "NUL byte", nil, f.valid[:20]+"\x00"+f.valid[20:])
	f.add(auth.ErrTokenMalformed, "non-ASCII", nil, f.vh+"."+f.vp+"é."+f.vs)
	f.add(auth.ErrTokenMalformed, "trailing bits in the header", nil, func() string {
		h := withTrailingBits(t, seg(padded(t, f.hsHeader)))
		input := h + "." + f.vp
		return input + "." + signInput(t, input, f.hs)
	}())
	f.add(auth.ErrTokenMalformed, "trailing bits in the payload, signed", nil, func() string {
		p := withTrailingBits(t, seg(padded(t, f.good)))
		input := f.vh + "." + p
		return input + "." + signInput(t, input, f.hs)
	}())
	f.add(auth.ErrTokenMalformed, "trailing bits in the signature", nil, f.vh+"."+f.vp+"."+withTrailingBits(t, f.vs))
	f.add(auth.ErrTokenMalformed, "header of impossible length", nil, "eyJhb."+f.vp+"."+f.vs)
	f.add(auth.ErrTokenMalformed, "two segments", nil, f.vh+"."+f.vp)
	f.add(auth.ErrTokenMalformed, "one segment", nil, f.vh)
	f.add(auth.ErrTokenMalformed, "four segments", nil, f.valid+"."+f.vs)
	f.add(auth.ErrTokenMalformed, "four segments, empty last", nil, f.valid+".")
	f.add(auth.ErrTokenMalformed, "JWE-like five segments", nil, f.vh+".."+f.vp+"."+f.vs+"."+f.vs)
	f.add(auth.ErrTokenMalformed, "empty header", nil, "."+f.vp+"."+f.vs)
	f.add(auth.ErrTokenMalformed, "empty payload", nil, f.vh+".."+f.vs)
	f.add(auth.ErrTokenMalformed, "only dots", nil, "..")
	f.add(auth.ErrTokenMalformed, "three dots", nil, "...")
	f.add(auth.ErrTokenMalformed, "one dot", nil, ".")
	f.add(auth.ErrTokenMalformed, "garbage", nil, "not-a-token")

	// Size cap, checked before anything else.
	f.add(auth.ErrTokenMalformed, "8 KiB + 1", nil, strings.Repeat("a", 8<<10+1))
	f.add(auth.ErrTokenMalformed, "valid signature, 8 KiB + 1", nil, func() string {
		// The smallest scope that takes the token over the cap; the
		// encoding grows by one or two bytes a step, so the token has
		// 8 KiB + 1 or + 2 bytes.
		for n := 5000; n < 7000; n++ {
			tok := forge(t, f.hsHeader, with(f.good, "scope", strings.Repeat("s", n)), f.hs)
			if len(tok) > 8<<10 {
				checkVerify(t, f.bigAuth, tok, nil) // f.valid but for its size
				if n > 5000 {
					checkVerify(t, f.hsAuth, forge(t, f.hsHeader, with(f.good, "scope", strings.Repeat("s", n-1)), f.hs), nil)
				}
				return tok
			}
		}
		t.Fatal("no scope length reaches the cap")
		return ""
	}())
	f.add(auth.ErrTokenMalformed, "a megabyte of dots", nil, strings.Repeat(".", 1<<20))
	f.add(auth.ErrTokenMalformed, "over a custom cap", newAuth(t, f.hs.key, auth.WithMaxTokenSize(len(f.valid)-1)), f.valid)

	f.add(auth.ErrNoToken, "empty string", nil, "")
	f.run(t)
}

func TestVerifyAccepts(t *testing.T) {
	t.Parallel()
	hs := newSigner(t, auth.HS256, "hmac")
	hsAuth := newAuth(t, hs.key)
	leeway := newAuth(t, hs.key, auth.WithLeeway(time.Minute))
	good := validClaims()
	h := headerFor(hs)
	now := fxNow.Unix()

	tests := []struct {
		name   string
		a      *auth.Auth
		header map[string]any
		claims map[string]any
	}{
		{"typ at+jwt", hsAuth, h, good},
		{"unknown header members skipped", hsAuth, with(h, "cty", "json", "x-extra", map[string]any{"a": []int{1}}), good},
		{"typ AT+JWT", hsAuth, with(h, "typ", "AT+JWT"), good},
		{"typ application/at+jwt", hsAuth, with(h, "typ", "application/at+jwt"), good},
		{"typ Application/AT+JWT", hsAuth, with(h, "typ", "Application/AT+JWT"), good},
		{"aud array holding ours", hsAuth, h, with(good, "aud", []string{"other", fxAudience})},
		{"aud array of one", hsAuth, h, with(good, "aud", []string{fxAudience})},
		{"exp one second from now", hsAuth, h, with(good, "exp", now+1)},
		{"exp fractional, just ahead", hsAuth, h, with(good, "exp", num(fmt.Sprintf("%d.5", now)))},
		{"nbf now", hsAuth, h, with(good, "nbf", now)},
		{"iat now", hsAuth, h, with(good, "iat", now)},
		{"iat with matching iat_us", hsAuth, h, with(good, "iat_us", (now-60)*1e6+999999)},
		{"leeway: expired 59s ago", leeway, h, with(good, "exp", now-59)},
		{"leeway: exp equal to now", leeway, h, with(good, "exp", now)},
		{"leeway: nbf 60s ahead", leeway, h, with(good, "nbf", now+60)},
		{"leeway: iat 60s ahead", leeway, h, with(good, "iat", now+60)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkVerify(t, tt.a, forge(t, tt.header, tt.claims, hs), nil)
		})
	}
}

// TestVerifyOversizedIsCheap shows the size cap comes before any work: a
// megabyte of dots is refused without allocating. It is not parallel, since
// AllocsPerRun counts every allocation of the process.
func TestVerifyOversizedIsCheap(t *testing.T) {
	a := newAuth(t, newSigner(t, auth.HS256, "hmac").key)
	ctx := context.Background()
	dots := strings.Repeat(".", 1<<20)
	var err error
	allocs := testing.AllocsPerRun(100, func() { _, err = a.Verify(ctx, dots) })
	if !errors.Is(err, auth.ErrTokenMalformed) {
		t.Fatalf("Verify(1 MiB of dots) = %v; want %v", err, auth.ErrTokenMalformed)
	}
	if allocs > 1 {
		t.Errorf("Verify(1 MiB of dots) allocates %v times per call; want at most 1", allocs)
	}
}

// BenchmarkVerifyHugeToken measures the refusal of a megabyte of dots:
// the size cap answers before any byte is read, so it costs as little as a
// length comparison.
func BenchmarkVerifyHugeToken(b *testing.B) {
	a := newAuth(b, newSigner(b, auth.HS256, "hmac").key)
	ctx := context.Background()
	dots := strings.Repeat(".", 1<<20)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Verify(ctx, dots); !errors.Is(err, auth.ErrTokenMalformed) {
			b.Fatal(err)
		}
	}
}

// staticSource is a KeySource that always answers the same.
type staticSource struct {
	key *auth.Key
	err error
}

func (s staticSource) VerificationKey(context.Context, string) (*auth.Key, error) {
	return s.key, s.err
}

func TestVerifyKeySourceFailure(t *testing.T) {
	t.Parallel()
	hs := newSigner(t, auth.HS256, "hmac")
	tok := forge(t, headerFor(hs), validClaims(), hs)
	errFetch := errors.New("jwks fetch failed")

	tests := []struct {
		name      string
		src       staticSource
		want      error
		wantCause error // also reachable with errors.Is, when set
	}{
		{"fetch error", staticSource{err: errFetch}, auth.ErrUnavailable, errFetch},
		{"deadline", staticSource{err: context.DeadlineExceeded}, auth.ErrUnavailable, context.DeadlineExceeded},
		{"no key, no error", staticSource{}, auth.ErrUnavailable, nil},
		{"zero key", staticSource{key: &auth.Key{}}, auth.ErrUnavailable, nil},
		{"error matching another class", staticSource{err: fmt.Errorf("upstream said: %w", auth.ErrTokenSignature)}, auth.ErrUnavailable, nil},
		{"unknown key", staticSource{err: fmt.Errorf("jwks: %w", auth.ErrTokenUnknownKey)}, auth.ErrTokenUnknownKey, nil},
		{"the key", staticSource{key: hs.key}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, err := auth.New(auth.WithKeySource(tt.src), auth.WithIssuer(fxIssuer), auth.WithAudience(fxAudience), auth.WithClock(fxClock))
			if err != nil {
				t.Fatal(err)
			}
			c, err := a.Verify(context.Background(), tok)
			checkResult(t, tok, c, err, tt.want)
			if tt.wantCause != nil && !errors.Is(err, tt.wantCause) {
				t.Errorf("Verify(%q) = %v; want it to wrap %v", tok, err, tt.wantCause)
			}
		})
	}
}

// countingSource is a KeySource that records the kids it is asked for.
type countingSource struct {
	auth.KeySource
	mu   sync.Mutex
	kids []string
}

func (s *countingSource) VerificationKey(ctx context.Context, kid string) (*auth.Key, error) {
	s.mu.Lock()
	s.kids = append(s.kids, kid)
	s.mu.Unlock()
	return s.KeySource.VerificationKey(ctx, kid)
}

// TestVerifyKidReachesSource shows which kids a key source is handed: only
// ones a key could have (1 to 128 printable ASCII characters), since a
// source may use the kid in a query or a URL.
func TestVerifyKidReachesSource(t *testing.T) {
	t.Parallel()
	hs := newSigner(t, auth.HS256, "hmac")
	tests := []struct {
		kid     string
		reaches bool
	}{
		{hs.key.ID(), true},
		{"../../etc/passwd", true},
		{"http://evil/key", true},
		{strings.Repeat("k", 128), true},
		{strings.Repeat("k", 129), false},
		{strings.Repeat("k", 10<<10), false},
		{"' OR 1=1 --", false},
		{`\u0000`, true}, // six printable characters, not a NUL
		{"\x00", false},
		{"kid\x00", false},
		{"k\u00e9y", false},
		{"tab\tkid", false},
		{"line\nkid", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%.20q", tt.kid), func(t *testing.T) {
			t.Parallel()
			ks, err := auth.NewKeySet(nil, hs.key)
			if err != nil {
				t.Fatal(err)
			}
			src := &countingSource{KeySource: ks}
			a, err := auth.New(auth.WithKeySource(src), auth.WithIssuer(fxIssuer), auth.WithAudience(fxAudience),
				auth.WithClock(fxClock), auth.WithMaxTokenSize(64<<10))
			if err != nil {
				t.Fatal(err)
			}
			want := auth.ErrTokenUnknownKey
			if tt.kid == hs.key.ID() {
				want = nil
			}
			checkVerify(t, a, forge(t, with(headerFor(hs), "kid", tt.kid), validClaims(), hs), want)
			if got := len(src.kids) == 1 && src.kids[0] == tt.kid; got != tt.reaches || len(src.kids) > 1 {
				t.Errorf("key source asked for %q; want it asked for %q: %v", src.kids, tt.kid, tt.reaches)
			}
		})
	}
}

func TestVerifyRevocation(t *testing.T) {
	t.Parallel()
	hs := newSigner(t, auth.HS256, "hmac")
	good := validClaims()
	tok := forge(t, headerFor(hs), good, hs)
	expired := forge(t, headerFor(hs), with(good, "exp", fxNow.Unix()-1), hs)
	h, _, sig := segments(t, tok)
	tampered := h + "." + seg(mustJSON(t, with(good, "sub", "admin"))) + "." + sig
	errStore := errors.New("denylist unreachable")

	tests := []struct {
		name    string
		revoked bool
		err     error
		tok     string
		want    error
		calls   int // calls expected to the checker
	}{
		{"not revoked", false, nil, tok, nil, 1},
		{"revoked", true, nil, tok, auth.ErrTokenRevoked, 1},
		{"store error", false, errStore, tok, auth.ErrUnavailable, 1},
		{"store error wins over revoked", true, errStore, tok, auth.ErrUnavailable, 1},
		{"checker returns a token error", false, auth.ErrTokenRevoked, tok, auth.ErrUnavailable, 1},
		{"invalid token never reaches the checker", true, nil, expired, auth.ErrTokenExpired, 0},
		{"bad signature never reaches the checker", true, nil, tampered, auth.ErrTokenSignature, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			calls := 0
			rc := revokedFunc(func(_ context.Context, userID, _, tokenID string, _ time.Time) (bool, error) {
				mu.Lock()
				calls++
				mu.Unlock()
				if userID != "user-1" || tokenID != good["jti"] {
					t.Errorf("Revoked(%q, %q); want the token's subject and jti", userID, tokenID)
				}
				return tt.revoked, tt.err
			})
			a := newAuth(t, hs.key, auth.WithRevocation(rc))
			c, err := a.Verify(context.Background(), tt.tok)
			// checkResult also makes sure an ErrUnavailable is not an
			// ErrInvalidToken.
			checkResult(t, tt.tok, c, err, tt.want)
			if tt.err != nil && !errors.Is(tt.err, auth.ErrInvalidToken) && !errors.Is(err, tt.err) {
				t.Errorf("Verify(%q) = %v; want it to wrap %v", tt.tok, err, tt.err)
			}
			if calls != tt.calls {
				t.Errorf("revocation checker called %d times; want %d", calls, tt.calls)
			}
		})
	}
}

// everyAlgorithm lists each algorithm with the fixture key it signs with.
var everyAlgorithm = []struct {
	alg auth.Algorithm
	key string
}{
	{auth.HS256, "hmac"}, {auth.HS384, "hmac"}, {auth.HS512, "hmac"},
	{auth.RS256, "rsa-a"}, {auth.RS384, "rsa-a"}, {auth.RS512, "rsa-a"},
	{auth.PS256, "rsa-a"}, {auth.PS384, "rsa-a"}, {auth.PS512, "rsa-a"},
	{auth.ES256, "p256-a"}, {auth.ES384, "p384-a"}, {auth.ES512, "p521-a"},
	{auth.EdDSA, "ed-a"},
}

// decodeHeader returns the JOSE header of tok.
func decodeHeader(t testing.TB, tok string) map[string]any {
	t.Helper()
	h, _, _ := segments(t, tok)
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		t.Fatalf("header of %q: %v", tok, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("header of %q: %v", tok, err)
	}
	return m
}

func TestIssueVerifyEveryAlgorithm(t *testing.T) {
	t.Parallel()
	for _, tt := range everyAlgorithm {
		t.Run(string(tt.alg), func(t *testing.T) {
			t.Parallel()
			s := newSigner(t, tt.alg, tt.key)
			a := newAuth(t, s.key)
			in := auth.Claims{Subject: "user-1", Role: "admin", Email: "a@example.com", Scope: "read write", NotBefore: fxNow.Add(-time.Minute)}
			at, err := a.Issue(context.Background(), in)
			if err != nil {
				t.Fatalf("Issue(%+v) = %v", in, err)
			}
			h := decodeHeader(t, at.Token)
			want := map[string]any{"alg": string(tt.alg), "kid": s.key.ID(), "typ": "at+jwt"}
			if !maps.Equal(h, want) {
				t.Errorf("header = %v; want %v", h, want)
			}
			c := checkVerify(t, a, at.Token, nil)
			if c.Subject != in.Subject || c.Role != in.Role || c.Email != in.Email || c.Scope != in.Scope ||
				!c.NotBefore.Equal(in.NotBefore) || c.ID != at.Claims.ID || !c.IssuedAt.Equal(at.Claims.IssuedAt) ||
				!c.ExpiresAt.Equal(at.Claims.ExpiresAt) || c.Issuer != fxIssuer || !auth.HasAudience(c, fxAudience) {
				t.Errorf("Verify(Issue(%+v)) = %+v; want the issued claims %+v", in, c, at.Claims)
			}
			// The token is bound to the key and algorithm: a verifier with
			// any other key of the same algorithm refuses it.
			other := newAuth(t, newSigner(t, tt.alg, otherKey[tt.key], auth.WithKeyID(s.key.ID())).key)
			checkVerify(t, other, at.Token, auth.ErrTokenSignature)
		})
	}
}

// otherKey names, for each fixture key, another of the same kind.
var otherKey = map[string]string{
	"hmac": "hmac-other", "rsa-a": "rsa-b", "p256-a": "p256-b",
	"p384-a": "p384-b", "p521-a": "p521-b", "ed-a": "ed-b",
}

func TestIssueSetsClaims(t *testing.T) {
	t.Parallel()
	s := newSigner(t, auth.ES256, "p256-a")
	a := newAuth(t, s.key)
	// The caller's values for the claims Issue owns are overwritten.
	in := auth.Claims{
		Subject: "user-1", Issuer: "https://evil.example.com", Audience: []string{"evil"},
		IssuedAt: fxNow.Add(-time.Hour), ExpiresAt: fxNow.Add(24 * time.Hour), ID: "chosen",
	}
	at, err := a.Issue(context.Background(), in)
	if err != nil {
		t.Fatalf("Issue = %v", err)
	}
	c := checkVerify(t, a, at.Token, nil)
	for _, got := range []*auth.Claims{at.Claims, c} {
		if got.Issuer != fxIssuer {
			t.Errorf("Issuer = %q; want %q", got.Issuer, fxIssuer)
		}
		if len(got.Audience) != 1 || got.Audience[0] != fxAudience {
			t.Errorf("Audience = %q; want [%q]", got.Audience, fxAudience)
		}
		if !got.IssuedAt.Equal(fxNow) {
			t.Errorf("IssuedAt = %v; want %v", got.IssuedAt, fxNow)
		}
		if want := fxNow.Add(15 * time.Minute); !got.ExpiresAt.Equal(want) {
			t.Errorf("ExpiresAt = %v; want %v (the default lifetime)", got.ExpiresAt, want)
		}
		if id, err := uuid.Parse(got.ID); err != nil || id.Version() != 4 || got.ID != id.String() {
			t.Errorf("ID = %q; want a canonical random UUID", got.ID)
		}
	}
	if at.ExpiresIn != 15*time.Minute {
		t.Errorf("ExpiresIn() = %v; want 15m", at.ExpiresIn)
	}
	var payload map[string]any
	if err := at.Claims.Decode(&payload); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"iss", "aud", "sub", "iat", "exp", "jti"} {
		if _, ok := payload[name]; !ok {
			t.Errorf("payload %v lacks %q", payload, name)
		}
	}

	a30 := newAuth(t, s.key, auth.WithAccessTTL(30*time.Second))
	at, err = a30.Issue(context.Background(), auth.Claims{Subject: "u"})
	if err != nil {
		t.Fatal(err)
	}
	if at.ExpiresIn != 30*time.Second || !at.Claims.ExpiresAt.Equal(fxNow.Add(30*time.Second)) {
		t.Errorf("with WithAccessTTL(30s): ExpiresIn() = %v, ExpiresAt = %v; want 30s, %v", at.ExpiresIn, at.Claims.ExpiresAt, fxNow.Add(30*time.Second))
	}
}

func TestIssueUniqueIDs(t *testing.T) {
	t.Parallel()
	a := newAuth(t, newSigner(t, auth.HS256, "hmac").key)
	seen := make(map[string]bool, 1000)
	for range 1000 {
		at, err := a.Issue(context.Background(), auth.Claims{Subject: "u"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := uuid.Parse(at.Claims.ID); err != nil {
			t.Fatalf("ID %q is not a UUID: %v", at.Claims.ID, err)
		}
		if seen[at.Claims.ID] {
			t.Fatalf("ID %q issued twice", at.Claims.ID)
		}
		seen[at.Claims.ID] = true
	}
}

func TestIssueRequiresSubject(t *testing.T) {
	t.Parallel()
	a := newAuth(t, newSigner(t, auth.HS256, "hmac").key)
	at, err := a.Issue(context.Background(), auth.Claims{Role: "admin"})
	if !errors.Is(err, auth.ErrInvalidInput) || errors.Is(err, auth.ErrInvalidToken) || at != nil {
		t.Errorf("Issue(no subject) = %v, %v; want nil, %v", at, err, auth.ErrInvalidInput)
	}
}

// appClaims are an application's own claims, carried with Extra.
type appClaims struct {
	Tenant string   `json:"tenant"`
	Flags  []string `json:"flags"`
	Level  int      `json:"level"`
}

func TestIssueExtraRoundTrip(t *testing.T) {
	t.Parallel()
	a := newAuth(t, newSigner(t, auth.EdDSA, "ed-a").key)
	in := appClaims{Tenant: "acme", Flags: []string{"beta", "x"}, Level: 3}
	at, err := a.Issue(context.Background(), auth.Claims{Subject: "user-1", Role: "user", Extra: in})
	if err != nil {
		t.Fatalf("Issue(Extra: %+v) = %v", in, err)
	}
	c := checkVerify(t, a, at.Token, nil)
	if c.Extra != nil {
		t.Errorf("verified Extra = %v; want nil", c.Extra)
	}
	for name, claims := range map[string]*auth.Claims{"verified": c, "issued": at.Claims} {
		var got appClaims
		if err := claims.Decode(&got); err != nil {
			t.Fatalf("%s Decode = %v", name, err)
		}
		if got.Tenant != in.Tenant || got.Level != in.Level || strings.Join(got.Flags, ",") != strings.Join(in.Flags, ",") {
			t.Errorf("%s Decode = %+v; want %+v", name, got, in)
		}
		// Library claims are decoded too, from the same payload.
		var std struct {
			Sub  string `json:"sub"`
			Role string `json:"role"`
		}
		if err := claims.Decode(&std); err != nil || std.Sub != "user-1" || std.Role != "user" {
			t.Errorf("%s Decode(sub, role) = %+v, %v; want user-1, user", name, std, err)
		}
	}
	if c.Role != "user" || c.Subject != "user-1" {
		t.Errorf("claims = %+v; Extra must not disturb the library's claims", c)
	}

	// Map and empty extras.
	for _, extra := range []any{map[string]any{"tenant": "acme"}, map[string]any{}, struct{}{}, json.RawMessage(`{"tenant":"acme"}`)} {
		at, err := a.Issue(context.Background(), auth.Claims{Subject: "user-1", Extra: extra})
		if err != nil {
			t.Errorf("Issue(Extra: %#v) = %v; want nil", extra, err)
			continue
		}
		checkVerify(t, a, at.Token, nil)
	}

	var unsigned auth.Claims
	if err := unsigned.Decode(&appClaims{}); err == nil {
		t.Errorf("Decode of claims that were never signed = nil; want an error")
	}
}

func TestIssueExtraRefused(t *testing.T) {
	t.Parallel()
	a := newAuth(t, newSigner(t, auth.HS256, "hmac").key)
	tests := map[string]any{
		"sub":           map[string]any{"sub": "admin"},
		"Sub":           map[string]any{"Sub": "admin"},
		"SUB":           map[string]any{"SUB": "admin"},
		"long s in sub": map[string]any{"\u017fub": "admin"}, // folds to "sub" like encoding/json does
		"iss":           map[string]any{"iss": "x"},
		"aud":           map[string]any{"aud": "x"},
		"exp":           map[string]any{"exp": 1},
		"EXP":           map[string]any{"EXP": 1},
		"nbf":           map[string]any{"nbf": 1},
		"iat":           map[string]any{"iat": 1},
		"iat_us":        map[string]any{"iat_us": 1},
		"Iat_Us":        map[string]any{"Iat_Us": 1},
		"jti":           map[string]any{"jti": "x"},
		"role":          map[string]any{"role": "admin"},
		"Role":          map[string]any{"Role": "admin"},
		"email":         map[string]any{"email": "x"},
		"scope":         map[string]any{"scope": "admin"},
		"struct tag":    struct{ Role string }{"admin"},
		"string":        "admin",
		"number":        42,
		"array":         []string{"sub"},
		"null":          json.RawMessage("null"),
		"bool":          true,
		"unencodable":   map[string]any{"c": make(chan int)},
	}
	for name, extra := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			at, err := a.Issue(context.Background(), auth.Claims{Subject: "user-1", Extra: extra})
			if !errors.Is(err, auth.ErrInvalidInput) || errors.Is(err, auth.ErrInvalidToken) || at != nil {
				t.Errorf("Issue(Extra: %#v) = %v, %v; want nil, %v", extra, at, err, auth.ErrInvalidInput)
			}
		})
	}
}

func TestIssuedAtMicroseconds(t *testing.T) {
	t.Parallel()
	s := newSigner(t, auth.HS256, "hmac")
	now := fxNow.Add(123456789 * time.Nanosecond)
	a := newAuth(t, s.key, auth.WithClock(func() time.Time { return now }))
	at, err := a.Issue(context.Background(), auth.Claims{Subject: "u"})
	if err != nil {
		t.Fatal(err)
	}
	c := checkVerify(t, a, at.Token, nil)
	want := fxNow.Add(123456 * time.Microsecond)
	if !c.IssuedAt.Equal(want) || !at.Claims.IssuedAt.Equal(want) {
		t.Errorf("IssuedAt = %v (issued %v); want %v", c.IssuedAt, at.Claims.IssuedAt, want)
	}
	// A token issued a microsecond later is distinguishable, within the
	// same second.
	later := now.Add(time.Microsecond)
	b := newAuth(t, s.key, auth.WithClock(func() time.Time { return later }))
	at2, err := b.Issue(context.Background(), auth.Claims{Subject: "u"})
	if err != nil {
		t.Fatal(err)
	}
	c2 := checkVerify(t, b, at2.Token, nil)
	if !c2.IssuedAt.After(c.IssuedAt) || c2.IssuedAt.Unix() != c.IssuedAt.Unix() {
		t.Errorf("IssuedAt %v then %v; want the second a microsecond later, same second", c.IssuedAt, c2.IssuedAt)
	}
	// ExpiresIn counts whole seconds of the token.
	if at.ExpiresIn != 15*time.Minute {
		t.Errorf("ExpiresIn() = %v; want %v", at.ExpiresIn, 15*time.Minute)
	}
}

// TestVerifySignatureCheckedFirst shows the payload of a token that is not
// signed by the key is never parsed: a payload that is not even base64url
// JSON gets a signature error, not a parse error.
func TestVerifySignatureCheckedFirst(t *testing.T) {
	t.Parallel()
	hs := newSigner(t, auth.HS256, "hmac")
	a := newAuth(t, hs.key)
	h := seg(mustJSON(t, headerFor(hs)))
	for _, payload := range []string{"AAAA", seg([]byte(`[1,2,3]`)), seg([]byte(`{"exp":1e300}`))} {
		tok := h + "." + payload + "." + seg(make([]byte, 32))
		checkVerify(t, a, tok, auth.ErrTokenSignature)
	}
}

// revokedFunc adapts a function to authstore.RevocationChecker.
type revokedFunc func(ctx context.Context, userID, sessionID, tokenID string, issuedAt time.Time) (bool, error)

func (f revokedFunc) Revoked(ctx context.Context, userID, sessionID, tokenID string, issuedAt time.Time) (bool, error) {
	return f(ctx, userID, sessionID, tokenID, issuedAt)
}
