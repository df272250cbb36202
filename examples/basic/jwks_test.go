package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"strings"
	"testing"
)

// jwks fetches the server's JWK Set.
func jwks(tb testing.TB, ts *testServer) []map[string]any {
	tb.Helper()
	r := ts.client(tb).get("/.well-known/jwks.json")
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if r.status != http.StatusOK || json.Unmarshal(r.body, &set) != nil || set.Keys == nil {
		tb.Fatalf("%v; want 200 {\"keys\": [...]}", r)
	}
	return set.Keys
}

// verifyWithJWK checks the signature of tok with the public key jwk, as a
// third-party verifier that only has the JWK Set would.
func verifyWithJWK(tb testing.TB, jwk map[string]any, tok string) bool {
	tb.Helper()
	b64 := func(name string) []byte {
		s, _ := jwk[name].(string)
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			tb.Fatalf("jwk %s: %v", name, err)
		}
		return b
	}
	i := strings.LastIndex(tok, ".")
	input, sig := tok[:i], tok[i+1:]
	sigBytes, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return false
	}
	digest := sha256.Sum256([]byte(input))
	switch jwk["kty"] {
	case "OKP":
		return ed25519.Verify(ed25519.PublicKey(b64("x")), []byte(input), sigBytes)
	case "EC":
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, b64("x")...), b64("y")...))
		if err != nil || len(sigBytes) != 64 {
			return false
		}
		r, s := new(big.Int).SetBytes(sigBytes[:32]), new(big.Int).SetBytes(sigBytes[32:])
		return ecdsa.Verify(pub, digest[:], r, s)
	case "RSA":
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(b64("n")), E: int(new(big.Int).SetBytes(b64("e")).Int64())}
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sigBytes) == nil
	}
	tb.Fatalf("jwk kty = %v; want OKP, EC or RSA", jwk["kty"])
	return false
}

func TestJWKS(t *testing.T) {
	t.Parallel()
	t.Run("HS256", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, nil)
		r := ts.client(t).get("/.well-known/jwks.json")
		var set map[string]any
		if r.status != http.StatusOK || json.Unmarshal(r.body, &set) != nil {
			t.Fatalf("%v; want 200 JSON", r)
		}
		if keys, ok := set["keys"].([]any); !ok || len(keys) != 0 || len(set) != 1 {
			t.Errorf("%v; want {\"keys\": []}", r)
		}
	})
	tests := []struct{ alg, kty string }{
		{"EdDSA", "OKP"},
		{"ES256", "EC"},
		{"RS256", "RSA"},
	}
	for _, tt := range tests {
		t.Run(tt.alg, func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t, map[string]string{"AUTH_ALG": tt.alg})
			keys := jwks(t, ts)
			if len(keys) != 1 {
				t.Fatalf("JWKS keys = %v; want one", keys)
			}
			k := keys[0]
			if k["alg"] != tt.alg || k["kty"] != tt.kty || k["kid"] == nil || k["kid"] == "" {
				t.Errorf("JWKS key = %v; want alg %s, kty %s and a kid", k, tt.alg, tt.kty)
			}
			for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"} {
				if _, ok := k[private]; ok {
					t.Errorf("JWKS key = %v; want no private member %q", k, private)
				}
			}
			tok := ts.client(t).register("ada@example.com").access
			header, _ := decodeJWT(t, tok)
			if header["kid"] != k["kid"] || header["alg"] != tt.alg {
				t.Errorf("token header = %v; want the kid and alg of the JWKS key %v", header, k)
			}
			if !verifyWithJWK(t, k, tok) {
				t.Errorf("the token's signature does not verify with the published key %v", k)
			}
		})
	}
}

// TestSameKeyAcrossInstances checks that instances given the same key sign
// with the same kid and accept each other's tokens.
func TestSameKeyAcrossInstances(t *testing.T) {
	t.Parallel()
	files := testKeyFiles(t)
	tests := []struct {
		name string
		env  map[string]string
	}{
		{"HS256", map[string]string{"AUTH_SECRET": "a secret of more than thirty-two bytes"}},
		{"ES256", map[string]string{"AUTH_ALG": "ES256", "AUTH_PRIVATE_KEY_FILE": files["p256"]}},
		{"EdDSA", map[string]string{"AUTH_ALG": "EdDSA", "AUTH_PRIVATE_KEY_FILE": files["ed25519"]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, b := newTestServer(t, tt.env), newTestServer(t, tt.env)
			if ka, kb := jwks(t, a), jwks(t, b); len(ka) != len(kb) || (len(ka) == 1 && ka[0]["kid"] != kb[0]["kid"]) {
				t.Errorf("JWKS of two instances = %v and %v; want the same key", ka, kb)
			}
			tok := a.client(t).register("ada@example.com").access
			// /api/posts needs only the token; /me would also look the user up.
			if r := b.client(t).get("/api/posts", bearer(tok)...); r.status != http.StatusOK {
				t.Errorf("%v on another instance; want 200", r)
			}
		})
	}
}
