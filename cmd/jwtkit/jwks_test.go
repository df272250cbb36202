package main

import (
	"context"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jwtkit/auth"
)

// privateMembers are the members of private and symmetric JWKs (RFC 7518
// section 6), which jwks must never print.
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// parseSet decodes a JWK Set document into its raw JWKs, checking that
// none has a private member.
func parseSet(t *testing.T, doc string) []json.RawMessage {
	t.Helper()
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal([]byte(doc), &set); err != nil || set.Keys == nil {
		t.Fatalf("not a JWK Set (%v):\n%s", err, doc)
	}
	for i, raw := range set.Keys {
		var members map[string]json.RawMessage
		if err := json.Unmarshal(raw, &members); err != nil {
			t.Fatalf("key %d: %v", i, err)
		}
		for _, m := range privateMembers {
			if _, ok := members[m]; ok {
				t.Errorf("key %d has the private member %q: %s", i, m, raw)
			}
		}
	}
	return set.Keys
}

// ecKey returns a new ECDSA key on curve.
func ecKey(t *testing.T, curve elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestJWKSInfersAlgorithm(t *testing.T) {
	t.Parallel()
	edPub, edPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p256, p384, p521 := ecKey(t, elliptic.P256()), ecKey(t, elliptic.P384()), ecKey(t, elliptic.P521())
	sec1, err := x509.MarshalECPrivateKey(p256)
	if err != nil {
		t.Fatal(err)
	}
	rsaPriv := rsaKey(t)
	tests := []struct {
		name string
		pem  []byte
		args []string // flags before the file
		alg  auth.Algorithm
	}{
		{"Ed25519 PKCS#8", pkcs8PEM(t, edPriv), nil, auth.EdDSA},
		{"Ed25519 SPKI", spkiPEM(t, edPub), nil, auth.EdDSA},
		{"keygen EdDSA", keygen(t, auth.EdDSA), nil, auth.EdDSA},
		{"keygen ES256", keygen(t, auth.ES256), nil, auth.ES256},
		{"keygen RS256", keygen(t, auth.RS256, "-bits", "2048"), nil, auth.RS256},
		{"P-256 SEC 1", pemOf("EC PRIVATE KEY", sec1), nil, auth.ES256},
		{"P-256 SPKI", spkiPEM(t, &p256.PublicKey), nil, auth.ES256},
		{"P-384 PKCS#8", pkcs8PEM(t, p384), nil, auth.ES384},
		{"P-384 SPKI", spkiPEM(t, &p384.PublicKey), nil, auth.ES384},
		{"P-521 PKCS#8", pkcs8PEM(t, p521), nil, auth.ES512},
		{"RSA PKCS#1", pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaPriv)), nil, auth.RS256},
		{"RSA PKCS#8", pkcs8PEM(t, rsaPriv), nil, auth.RS256},
		{"RSA PKCS#1 public", pemOf("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&rsaPriv.PublicKey)), nil, auth.RS256},
		{"RSA SPKI", spkiPEM(t, &rsaPriv.PublicKey), nil, auth.RS256},
		{"RSA as PS256", pkcs8PEM(t, rsaPriv), []string{"-alg", "PS256"}, auth.PS256},
		{"RSA as RS512", spkiPEM(t, &rsaPriv.PublicKey), []string{"-alg=RS512"}, auth.RS512},
		{"Ed25519 -alg EdDSA", pkcs8PEM(t, edPriv), []string{"-alg", "EdDSA"}, auth.EdDSA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := writeFile(t, t.TempDir(), "key.pem", tt.pem)
			r := runCmd(t, "", append(append([]string{"jwks"}, tt.args...), path)...)
			r.wantCode(t, exitOK)
			keys := parseSet(t, r.stdout)
			if len(keys) != 1 {
				t.Fatalf("%d keys, want 1", len(keys))
			}
			k, err := auth.ParseJWK(keys[0])
			if err != nil {
				t.Fatalf("ParseJWK: %v", err)
			}
			if k.Algorithm() != tt.alg {
				t.Errorf("alg %s, want %s", k.Algorithm(), tt.alg)
			}
			// The kid is the thumbprint, the library's default kid.
			lib := parseKey(t, tt.alg, tt.pem)
			if k.ID() != auth.Thumbprint(lib) || k.ID() != lib.ID() {
				t.Errorf("kid %q, want the thumbprint %q (library kid %q)", k.ID(), auth.Thumbprint(lib), lib.ID())
			}
			if k.ID() != auth.Thumbprint(k) {
				t.Errorf("kid %q is not the thumbprint of the printed key %q", k.ID(), auth.Thumbprint(k))
			}
		})
	}
}

// TestJWKSVerifiesLibraryTokens makes a key of each algorithm with keygen,
// prints their set with jwks, and checks that a token the library signs
// with each key verifies against the printed set, both through
// auth.ParseJWK and a KeySet and through jwtkit verify -jwks FILE.
func TestJWKSVerifiesLibraryTokens(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var files []string
	for _, alg := range keygenAlgs {
		path := filepath.Join(dir, string(alg)+".pem")
		args := []string{"keygen", "-alg", string(alg), "-o", path}
		if alg == auth.RS256 {
			args = append(args, "-bits", "2048")
		}
		runCmd(t, "", args...).wantCode(t, exitOK)
		files = append(files, path)
	}
	r := runCmd(t, "", append([]string{"jwks"}, files...)...)
	r.wantCode(t, exitOK)
	raws := parseSet(t, r.stdout)
	if len(raws) != len(files) {
		t.Fatalf("%d keys, want %d", len(raws), len(files))
	}
	var published []*auth.Key
	for i, raw := range raws {
		k, err := auth.ParseJWK(raw)
		if err != nil {
			t.Fatalf("key %d: %v", i, err)
		}
		published = append(published, k)
	}
	set, err := auth.NewKeySet(nil, published...)
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := auth.New(auth.WithKeys(set), auth.WithIssuer(testIss), auth.WithAudience(testAud))
	if err != nil {
		t.Fatal(err)
	}
	setFile := writeFile(t, dir, "jwks.json", []byte(r.stdout))
	for i, path := range files {
		alg := keygenAlgs[i]
		t.Run(string(alg), func(t *testing.T) {
			data := readFile(t, path)
			key := parseKey(t, alg, data)
			if published[i].ID() != auth.Thumbprint(key) || published[i].ID() != key.ID() {
				t.Errorf("kid %q, want %q", published[i].ID(), auth.Thumbprint(key))
			}
			tok := signToken(t, key)
			c, err := verifier.Verify(context.Background(), tok)
			if err != nil {
				t.Fatalf("Verify against the printed set: %v", err)
			}
			if c.Subject != "user-1" {
				t.Errorf("sub %q", c.Subject)
			}
			vr := runCmd(t, "", "verify", "-jwks", setFile, "-iss", testIss, "-aud", testAud, tok)
			vr.wantCode(t, exitOK)
		})
	}
}

func TestJWKSNeverPrintsPrivateMaterial(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rsaPriv := rsaKey(t)
	files := []string{
		writeFile(t, dir, "ed.pem", keygen(t, auth.EdDSA)),
		writeFile(t, dir, "ec.pem", keygen(t, auth.ES256)),
		writeFile(t, dir, "rsa.pem", pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaPriv))),
	}
	r := runCmd(t, "", append([]string{"jwks"}, files...)...)
	r.wantCode(t, exitOK)
	parseSet(t, r.stdout) // no private member
	for _, secret := range []string{b64(rsaPriv.D.Bytes()), b64(rsaPriv.Primes[0].Bytes()), b64(rsaPriv.Primes[1].Bytes())} {
		if strings.Contains(r.stdout, secret) {
			t.Error("the output holds a private RSA value")
		}
	}
	if strings.Contains(r.stdout, "PRIVATE") {
		t.Error("the output holds PEM")
	}
}

func TestJWKSRefuses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	edPEM := keygen(t, auth.EdDSA)
	edKey := parseKey(t, auth.EdDSA, edPEM)
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p224 := ecKey(t, elliptic.P224())
	p224DER, err := x509.MarshalECPrivateKey(p224)
	if err != nil {
		t.Fatal(err)
	}
	x25519, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	encrypted := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: []byte{1, 2, 3}})
	ed := writeFile(t, dir, "ed.pem", edPEM)
	edPub := writeFile(t, dir, "ed.pub.pem", spkiPEM(t, edKey.Public()))
	tests := []struct {
		name  string
		files []string
		alg   string
		want  string // in stderr
	}{
		{"missing file", []string{filepath.Join(dir, "missing.pem")}, "", "no such file"},
		{"not PEM", []string{writeFile(t, dir, "text.pem", []byte("hello"))}, "", "no PEM block"},
		{"empty", []string{writeFile(t, dir, "empty.pem", nil)}, "", "no PEM block"},
		{"certificate", []string{writeFile(t, dir, "cert.pem", pemOf("CERTIFICATE", []byte{1}))}, "", `unsupported PEM block "CERTIFICATE"`},
		{"bad DER", []string{writeFile(t, dir, "bad.pem", pemOf("PRIVATE KEY", []byte{1, 2}))}, "", "parse PRIVATE KEY"},
		{"encrypted", []string{writeFile(t, dir, "enc.pem", encrypted)}, "", "encrypted"},
		{"two keys in a file", []string{writeFile(t, dir, "two.pem", append(keygen(t, auth.EdDSA), edPEM...))}, "", "more than one key"},
		{"weak RSA", []string{writeFile(t, dir, "weak.pem", pkcs8PEM(t, weak))}, "", "1024 bits"},
		{"P-224", []string{writeFile(t, dir, "p224.pem", pemOf("EC PRIVATE KEY", p224DER))}, "", "unsupported curve P-224"},
		{"X25519", []string{writeFile(t, dir, "x25519.pem", pkcs8PEM(t, x25519))}, "", "unsupported key type"},
		{"the same file twice", []string{ed, ed}, "", "the same key as " + ed},
		{"a key and its public half", []string{ed, edPub}, "", "the same key as " + ed},
		{"alg of another key type", []string{ed}, "ES256", "ES256 needs an ECDSA key"},
		{"one bad file among good ones", []string{ed, filepath.Join(dir, "missing.pem")}, "", "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := []string{"jwks"}
			if tt.alg != "" {
				args = append(args, "-alg", tt.alg)
			}
			r := runCmd(t, "", append(args, tt.files...)...)
			r.wantCode(t, exitFail)
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr lacks %q: %s", tt.want, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout: %s", r.stdout)
			}
		})
	}
}

func TestJWKSUsage(t *testing.T) {
	t.Parallel()
	ed := writeFile(t, t.TempDir(), "ed.pem", keygen(t, auth.EdDSA))
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no file", nil, "no PEM file given"},
		{"only flags", []string{"-alg", "EdDSA"}, "no PEM file given"},
		{"HMAC alg", []string{"-alg", "HS256", ed}, `unsupported -alg "HS256"`},
		{"unknown alg", []string{"-alg", "XX", ed}, `unsupported -alg "XX"`},
		{"alg none", []string{"-alg", "none", ed}, `unsupported -alg "none"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runCmd(t, "", append([]string{"jwks"}, tt.args...)...)
			r.wantCode(t, exitUsage)
			if !strings.Contains(r.stderr, tt.want) || !strings.Contains(r.stderr, "usage: jwtkit jwks") {
				t.Errorf("stderr lacks %q and the usage: %s", tt.want, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout: %s", r.stdout)
			}
		})
	}
}
