package main

// The shared fixtures of the tests: running a command line, the issuer and
// audience of the test tokens, and helpers that make keys, PEM files and
// tokens with the library.

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/password"
)

// The issuer and audience of the test tokens.
const (
	testIss = "https://id.example.com"
	testAud = "api"
)

// result is what one run of a command line returned.
type result struct {
	code           int
	stdout, stderr string
}

// runCmd runs the command line args through run, with stdin, as main does.
func runCmd(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

// runFast runs the command line args like runCmd, but hash-password hashes
// at the lowest bcrypt cost, so that its tests run fast.
func runFast(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	e := &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut, hasher: fastHasher}
	code := e.run(args)
	return result{code, out.String(), errOut.String()}
}

// fastHasher is bcrypt at password.MinCost.
func fastHasher() (password.Hasher, error) {
	return password.NewBcrypt(password.WithCost(password.MinCost))
}

// wantCode fails the test when r.code is not want, showing the outputs.
func (r result) wantCode(t *testing.T, want int) {
	t.Helper()
	if r.code != want {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, want, r.stdout, r.stderr)
	}
}

// writeFile writes data to a new file name in dir and returns its path.
func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// readFile returns the contents of the file at path.
func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// b64 encodes b as base64url without padding.
func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// keygen runs jwtkit keygen for alg and returns the PEM it printed.
func keygen(t *testing.T, alg auth.Algorithm, args ...string) []byte {
	t.Helper()
	r := runCmd(t, "", append([]string{"keygen", "-alg", string(alg)}, args...)...)
	r.wantCode(t, exitOK)
	return []byte(r.stdout)
}

// parseKey parses PEM data with auth.ParseKeyPEM for alg.
func parseKey(t *testing.T, alg auth.Algorithm, data []byte) *auth.Key {
	t.Helper()
	k, err := auth.ParseKeyPEM(alg, data)
	if err != nil {
		t.Fatalf("ParseKeyPEM(%s): %v", alg, err)
	}
	return k
}

// newAuth returns an Auth for the test issuer and audience that signs with
// key, issuing at now when it is not zero.
func newAuth(t *testing.T, key *auth.Key, now time.Time) *auth.Auth {
	t.Helper()
	ks, err := auth.NewKeySet(key)
	if err != nil {
		t.Fatal(err)
	}
	opts := []auth.Option{auth.WithKeys(ks), auth.WithIssuer(testIss), auth.WithAudience(testAud)}
	if !now.IsZero() {
		opts = append(opts, auth.WithClock(func() time.Time { return now }))
	}
	a, err := auth.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// issue returns a token for subject "user-1" signed by a.
func issue(t *testing.T, a *auth.Auth) string {
	t.Helper()
	tok, err := a.Issue(context.Background(), auth.Claims{Subject: "user-1", Extra: map[string]string{"tenant": "t1"}})
	if err != nil {
		t.Fatal(err)
	}
	return tok.Token
}

// signToken returns a token for subject "user-1" signed by key now.
func signToken(t *testing.T, key *auth.Key) string {
	t.Helper()
	return issue(t, newAuth(t, key, time.Time{}))
}

// rsaTestKey returns one 2048-bit RSA key shared by the tests.
var rsaTestKey = sync.OnceValues(func() (*rsa.PrivateKey, error) {
	return rsa.GenerateKey(rand.Reader, 2048)
})

// rsaKey returns rsaTestKey.
func rsaKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsaTestKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// pemOf encodes der as a PEM block of type typ.
func pemOf(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// pkcs8PEM returns priv as a PKCS#8 PEM private key.
func pkcs8PEM(t *testing.T, priv crypto.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return pemOf("PRIVATE KEY", der)
}

// spkiPEM returns pub as an SPKI PEM public key.
func spkiPEM(t *testing.T, pub crypto.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pemOf("PUBLIC KEY", der)
}
