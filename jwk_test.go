package auth_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jwtkit/auth"
)

// jwkMembers returns the public JWK of k as a map, to be edited with with.
func jwkMembers(t testing.TB, k *auth.Key) map[string]any {
	t.Helper()
	b, err := k.MarshalJSON()
	if err != nil {
		t.Fatalf("MarshalJSON(%s key) = %v", k.Algorithm(), err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("MarshalJSON(%s key) = %s: %v", k.Algorithm(), b, err)
	}
	return m
}

// TestParseJWKRoundTrip shows ParseJWK is the inverse of Key.MarshalJSON: the
// key it returns has the same kid, algorithm and public key, holds no
// private material, and verifies what the original signs.
func TestParseJWKRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		alg  auth.Algorithm
		raw  string
		opts []auth.KeyOption
	}{
		{auth.RS256, "rsa-a", nil},
		{auth.PS256, "rsa-a", nil},
		{auth.ES256, "p256-a", nil},
		{auth.ES384, "p384-a", nil},
		{auth.ES512, "p521-a", nil},
		{auth.EdDSA, "ed-a", nil},
		{auth.EdDSA, "ed-b", []auth.KeyOption{auth.WithKeyID("signing-key-2030-06")}},
	}
	for _, tt := range tests {
		t.Run(string(tt.alg)+"/"+tt.raw, func(t *testing.T) {
			t.Parallel()
			k := mustKey(t)(auth.NewPrivateKey(tt.alg, rawKey(t, tt.raw), tt.opts...))
			data, err := k.MarshalJSON()
			if err != nil {
				t.Fatalf("MarshalJSON() = %v", err)
			}
			got, err := auth.ParseJWK(data)
			if err != nil {
				t.Fatalf("ParseJWK(%s) = %v; want a key", data, err)
			}
			if got.ID() != k.ID() || got.Algorithm() != k.Algorithm() {
				t.Errorf("ParseJWK(%s) = kid %q alg %s; want kid %q alg %s", data, got.ID(), got.Algorithm(), k.ID(), k.Algorithm())
			}
			pub, ok := k.Public().(interface{ Equal(crypto.PublicKey) bool })
			if !ok || !pub.Equal(got.Public()) {
				t.Errorf("ParseJWK(%s).Public() = %v; want %v", data, got.Public(), k.Public())
			}
			if auth.CanSign(got) {
				t.Errorf("ParseJWK(%s) can sign; want a verify-only key", data)
			}
			if again, err := got.MarshalJSON(); err != nil || !bytes.Equal(again, data) {
				t.Errorf("ParseJWK(%s).MarshalJSON() = %s, %v; want the same JWK", data, again, err)
			}
			checkSignsFor(t, k, got)
		})
	}
}

// TestParseJWKAccepts shows the members ParseJWK allows besides those
// MarshalJSON writes.
func TestParseJWKAccepts(t *testing.T) {
	t.Parallel()
	ed := jwkMembers(t, mustKey(t)(auth.NewPrivateKey(auth.EdDSA, rawKey(t, "ed-a"))))
	es := jwkMembers(t, mustKey(t)(auth.NewPrivateKey(auth.ES256, rawKey(t, "p256-a"))))
	rsaJWK := jwkMembers(t, mustKey(t)(auth.NewPrivateKey(auth.RS256, rawKey(t, "rsa-a"))))
	tests := []struct {
		name string
		jwk  map[string]any
	}{
		{"no use", with(ed, "use", nil)},
		{"key_ops verify", with(es, "key_ops", []string{"verify"})},
		{"key_ops sign and verify", with(es, "key_ops", []string{"sign", "verify"})},
		{"unknown members", with(rsaJWK, "x5t", "ignored", "ext", true, "custom", map[string]any{"a": 1})},
		{"kid of 128 characters", with(ed, "kid", strings.Repeat("k", 128))},
		{"kid of printable punctuation", with(ed, "kid", "!~{}[]:,")},
		{"RSA e of 4 bytes", with(rsaJWK, "e", seg([]byte{1, 0, 0, 1}))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := mustJSON(t, tt.jwk)
			k, err := auth.ParseJWK(data)
			if err != nil {
				t.Fatalf("ParseJWK(%s) = %v; want a key", data, err)
			}
			if k.ID() != tt.jwk["kid"] || string(k.Algorithm()) != tt.jwk["alg"] {
				t.Errorf("ParseJWK(%s) = kid %q alg %s; want kid %q alg %s", data, k.ID(), k.Algorithm(), tt.jwk["kid"], tt.jwk["alg"])
			}
		})
	}
}

// TestParseJWKRefuses shows every JWK that ParseJWK refuses, each with an
// error matching ErrKeyMismatch, or ErrWeakKey for a key too small, that
// says more than the sentinel.
func TestParseJWKRefuses(t *testing.T) {
	t.Parallel()
	ed := jwkMembers(t, mustKey(t)(auth.NewPrivateKey(auth.EdDSA, rawKey(t, "ed-a"))))
	es := jwkMembers(t, mustKey(t)(auth.NewPrivateKey(auth.ES256, rawKey(t, "p256-a"))))
	es384 := jwkMembers(t, mustKey(t)(auth.NewPrivateKey(auth.ES384, rawKey(t, "p384-a"))))
	es512 := jwkMembers(t, mustKey(t)(auth.NewPrivateKey(auth.ES512, rawKey(t, "p521-a"))))
	rsaJWK := jwkMembers(t, mustKey(t)(auth.NewPrivateKey(auth.RS256, rawKey(t, "rsa-a"))))
	ecPriv := rawKey(t, "p256-a").(*ecdsa.PrivateKey)
	weak := rawKey(t, "rsa1024").(*rsa.PrivateKey)
	edX := ed["x"].(string)

	type refusal struct {
		name string
		data []byte
		want error
	}
	mismatch := func(name string, v any) refusal {
		if b, ok := v.([]byte); ok {
			return refusal{name, b, auth.ErrKeyMismatch}
		}
		return refusal{name, mustJSON(t, v), auth.ErrKeyMismatch}
	}
	tooWeak := func(name string, v any) refusal { return refusal{name, mustJSON(t, v), auth.ErrWeakKey} }

	tests := []refusal{
		// Not an object.
		mismatch("empty", []byte{}),
		mismatch("not JSON", []byte("{")),
		mismatch("null", []byte("null")),
		mismatch("array", []any{ed}),
		mismatch("string", "key"),
		mismatch("number", 1),
		mismatch("a member twice", []byte(`{"kty":"OKP","crv":"Ed25519","alg":"EdDSA","alg":"ES256","kid":"k","x":"`+edX+`"}`)),
		mismatch("kid twice", []byte(`{"kty":"OKP","crv":"Ed25519","alg":"EdDSA","kid":"a","kid":"b","x":"`+edX+`"}`)),
		// The kid.
		mismatch("no kid", with(ed, "kid", nil)),
		mismatch("empty kid", with(ed, "kid", "")),
		mismatch("kid too long", with(ed, "kid", strings.Repeat("k", 129))),
		mismatch("kid with a space", with(ed, "kid", "a kid")),
		mismatch("kid with a tab", with(ed, "kid", "a\tkid")),
		mismatch("kid with DEL", with(ed, "kid", "kid\x7f")),
		mismatch("kid not ASCII", with(ed, "kid", "clé")),
		// A symmetric key, or another use than verifying signatures.
		mismatch("kty oct", map[string]any{"kty": "oct", "kid": "oct", "alg": "HS256"}),
		mismatch("kty oct with an RSA alg", map[string]any{"kty": "oct", "kid": "oct", "alg": "RS256"}),
		mismatch("use enc", with(ed, "use", "enc")),
		mismatch("use empty", with(ed, "use", "")),
		mismatch("key_ops sign only", with(ed, "key_ops", []string{"sign"})),
		mismatch("key_ops encrypt", with(ed, "key_ops", []string{"encrypt", "wrapKey"})),
		mismatch("key_ops empty", with(ed, "key_ops", []string{})),
		mismatch("key_ops not an array", with(ed, "key_ops", "verify")),
		// The algorithm.
		mismatch("no alg", with(ed, "alg", nil)),
		mismatch("empty alg", with(ed, "alg", "")),
		mismatch("alg HS256", with(rsaJWK, "alg", "HS256")),
		mismatch("alg HS512 with kty oct", map[string]any{"kty": "oct", "kid": "oct", "alg": "HS512", "use": "sig"}),
		mismatch("alg none", with(ed, "alg", "none")),
		mismatch("alg unknown", with(ed, "alg", "Ed448")),
		mismatch("alg in lower case", with(es, "alg", "es256")),
		// kty that does not fit alg.
		mismatch("RSA key with ES256", with(rsaJWK, "alg", "ES256")),
		mismatch("RSA key with EdDSA", with(rsaJWK, "alg", "EdDSA")),
		mismatch("EC key with RS256", with(es, "alg", "RS256")),
		mismatch("EC key with EdDSA", with(es, "alg", "EdDSA")),
		mismatch("OKP key with ES256", with(ed, "alg", "ES256")),
		mismatch("OKP key with PS256", with(ed, "alg", "PS256")),
		mismatch("unknown kty", with(ed, "kty", "FOO")),
		mismatch("no kty", with(ed, "kty", nil)),
		// crv that does not fit alg.
		mismatch("P-256 with ES384", with(es, "alg", "ES384")),
		mismatch("P-384 with ES256", with(es384, "alg", "ES256")),
		mismatch("P-521 with ES384", with(es512, "alg", "ES384")),
		mismatch("P-256 point claiming P-384", with(es, "crv", "P-384")),
		mismatch("EC without crv", with(es, "crv", nil)),
		mismatch("OKP Ed448", with(ed, "crv", "Ed448")),
		mismatch("OKP X25519", with(ed, "crv", "X25519")),
		mismatch("OKP without crv", with(ed, "crv", nil)),
		// Members of the wrong JSON type.
		mismatch("kty a number", with(ed, "kty", 1)),
		mismatch("kid a number", with(ed, "kid", 7)),
		mismatch("alg a number", with(ed, "alg", 1)),
		mismatch("use an array", with(ed, "use", []string{"sig"})),
		mismatch("crv a number", with(es, "crv", 256)),
		mismatch("x an object", with(ed, "x", map[string]any{})),
		mismatch("y an array", with(es, "y", []string{es["y"].(string)})),
		mismatch("n a number", with(rsaJWK, "n", 12345)),
		mismatch("e a number", with(rsaJWK, "e", 65537)),
		mismatch("key_ops of numbers", with(ed, "key_ops", []int{1})),
		// base64url.
		mismatch("x with padding", with(ed, "x", edX+"=")),
		mismatch("x in standard base64", with(ed, "x", strings.NewReplacer("-", "+", "_", "/").Replace(edX)+"+")),
		mismatch("x with a slash", with(ed, "x", "/"+edX[1:])),
		mismatch("x with a space", with(ed, "x", edX[:10]+" "+edX[10:])),
		mismatch("x with a dot", with(ed, "x", edX[:10]+"."+edX[11:])),
		mismatch("x with non-zero trailing bits", with(ed, "x", withTrailingBits(t, edX))),
		mismatch("n with padding", with(rsaJWK, "n", rsaJWK["n"].(string)+"==")),
		mismatch("y with padding", with(es, "y", es["y"].(string)+"=")),
		mismatch("e with a plus", with(rsaJWK, "e", "AQA+")),
		// EC coordinates.
		mismatch("EC without x", with(es, "x", nil)),
		mismatch("EC without y", with(es, "y", nil)),
		mismatch("EC x of 31 bytes", with(es, "x", seg(make([]byte, 31)))),
		mismatch("EC y of 33 bytes", with(es, "y", seg(append([]byte{0}, ecPriv.Y.FillBytes(make([]byte, 32))...)))),
		mismatch("P-521 x of 65 bytes", with(es512, "x", seg(make([]byte, 65)))),
		mismatch("point not on the curve", with(es, "y", es["x"])),
		mismatch("point at zero", with(es, "x", seg(make([]byte, 32)), "y", seg(make([]byte, 32)))),
		// Ed25519.
		mismatch("Ed25519 without x", with(ed, "x", nil)),
		mismatch("Ed25519 x empty", with(ed, "x", "")),
		mismatch("Ed25519 x of 31 bytes", with(ed, "x", seg(make([]byte, 31)))),
		mismatch("Ed25519 x of 33 bytes", with(ed, "x", seg(make([]byte, 33)))),
		mismatch("Ed25519 x of 64 bytes", with(ed, "x", seg(make([]byte, 64)))),
		// RSA.
		mismatch("RSA without n", with(rsaJWK, "n", nil)),
		mismatch("RSA without e", with(rsaJWK, "e", nil)),
		mismatch("RSA e empty", with(rsaJWK, "e", "")),
		mismatch("RSA e of 5 bytes", with(rsaJWK, "e", seg([]byte{1, 0, 0, 0, 1}))),
		mismatch("RSA e of 9 bytes", with(rsaJWK, "e", seg(bytes.Repeat([]byte{1}, 9)))),
		tooWeak("RSA 1024-bit modulus", map[string]any{"kty": "RSA", "kid": "weak", "alg": "RS256", "use": "sig", "n": seg(weak.N.Bytes()), "e": "AQAB"}),
		tooWeak("RSA 1024-bit modulus for PS256", map[string]any{"kty": "RSA", "kid": "weak", "alg": "PS256", "n": seg(weak.N.Bytes()), "e": "AQAB"}),
		tooWeak("RSA even e", with(rsaJWK, "e", "AQAC")),
		tooWeak("RSA e of 1", with(rsaJWK, "e", "AQ")),
	}
	// Every private or secret member, on each key type, even empty or null.
	for _, member := range privateJWKMembers {
		tests = append(tests,
			mismatch("RSA with "+member, with(rsaJWK, member, "AQAB")),
			mismatch("EC with "+member, with(es, member, seg(ecPriv.D.FillBytes(make([]byte, 32))))),
			mismatch("OKP with "+member, with(ed, member, edX)),
			mismatch("RSA with "+member+" empty", with(rsaJWK, member, "")),
			mismatch("OKP with "+member+" null", []byte(strings.Replace(string(mustJSON(t, ed)), "{", `{"`+member+`":null,`, 1))),
		)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k, err := auth.ParseJWK(tt.data)
			if !errors.Is(err, tt.want) || k != nil {
				t.Fatalf("ParseJWK(%s) = %v, %v; want %v", tt.data, k, err, tt.want)
			}
			if err.Error() == tt.want.Error() {
				t.Errorf("ParseJWK(%s) = %v; want it to say why", tt.data, err)
			}
		})
	}
}

// ExampleParseJWK builds a verify-only key from one JWK of an issuer's JWK
// Set.
func ExampleParseJWK() {
	jwk := []byte(`{"kty":"OKP","crv":"Ed25519","kid":"2030-06","alg":"EdDSA","use":"sig",
		"x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`)
	key, err := auth.ParseJWK(jwk)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(key.ID(), key.Algorithm())

	// A JWK that does not name its algorithm is refused, never guessed at.
	_, err = auth.ParseJWK([]byte(`{"kty":"OKP","crv":"Ed25519","kid":"2030-06",
		"x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`))
	fmt.Println(errors.Is(err, auth.ErrKeyMismatch))
	// Output:
	// 2030-06 EdDSA
	// true
}
