package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/jwtkit/auth"
)

// preciseTokenErrors are the sentinels of ErrInvalidToken; every refused
// token matches one of them.
var preciseTokenErrors = []error{
	auth.ErrTokenExpired, auth.ErrTokenRevoked, auth.ErrTokenMalformed, auth.ErrTokenMalformed,
	auth.ErrTokenUnknownKey, auth.ErrTokenHeader, auth.ErrTokenHeader, auth.ErrTokenSignature,
	auth.ErrTokenClaims, auth.ErrTokenClaims,
}

// fuzzSeeds returns the seed tokens of FuzzVerify: one valid token for the
// fuzz verifier, and malformed neighbours of it. The files under
// testdata/fuzz/FuzzVerify hold the same tokens.
func fuzzSeeds(tb testing.TB, s signer) map[string]string {
	tb.Helper()
	good := validClaims()
	h := headerFor(s)
	valid := forge(tb, h, good, s)
	vh, vp, vs := segments(tb, valid)
	noneInput := seg(mustJSON(tb, with(h, "alg", "none"))) + "." + vp
	return map[string]string{
		"valid":            valid,
		"alg-none":         noneInput + ".",
		"alg-none-signed":  noneInput + "." + signInput(tb, noneInput, s),
		"padded":           valid + "=",
		"four-segments":    valid + "." + vs,
		"two-segments":     vh + "." + vp,
		"empty-signature":  vh + "." + vp + ".",
		"tampered-payload": vh + "." + seg(mustJSON(tb, with(good, "sub", "admin"))) + "." + vs,
		"jku-header":       forge(tb, with(h, "jku", "https://evil.example/jwks.json"), good, s),
		"typ-jwt":          forge(tb, with(h, "typ", "JWT"), good, s),
		"unknown-kid":      forge(tb, with(h, "kid", "../../etc/passwd"), good, s),
		"exp-1e300":        forge(tb, h, with(good, "exp", num("1e300")), s),
		"exp-string":       forge(tb, h, with(good, "exp", "1"), s),
		"iat-us-mismatch":  forge(tb, h, with(good, "iat_us", 1), s),
		"aud-array":        forge(tb, h, with(good, "aud", []any{"x", fxAudience}), s),
		"payload-array":    forgeRaw(tb, mustJSON(tb, h), []byte(`[{"sub":"x"}]`), s),
		"header-not-json":  forgeRaw(tb, []byte(`{"alg":`), mustJSON(tb, good), s),
		"newline":          vh + "." + vp[:4] + "\n" + vp[4:] + "." + vs,
		"dots":             strings.Repeat(".", 300),
		"empty":            "",
	}
}

// fuzzSigner is the key of FuzzVerify's verifier. It is fixed (a fixed
// secret, hence a fixed kid) so that the committed seed files stay valid.
func fuzzSigner(tb testing.TB) signer { return newSigner(tb, auth.HS256, "hmac") }

func FuzzVerify(f *testing.F) {
	s := fuzzSigner(f)
	a := newAuth(f, s.key)
	for _, tok := range fuzzSeeds(f, s) {
		f.Add(tok)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		checkFuzzVerify(t, a, tok)
		// Signing the fuzzed header and payload with the real key takes
		// the input past the signature check, into header and claims
		// validation, which forged signatures never reach.
		if i := strings.IndexByte(tok, '.'); i >= 0 {
			if j := strings.IndexByte(tok[i+1:], '.'); j >= 0 {
				input := tok[:i+1+j]
				checkFuzzVerify(t, a, input+"."+signInput(t, input, s))
			}
		}
	})
}

// checkFuzzVerify checks what must hold for any input: no panic, an error
// of exactly one class (and, for a refused token, a precise sentinel), and
// claims that passed every check when there is no error.
func checkFuzzVerify(t *testing.T, a *auth.Auth, tok string) {
	t.Helper()
	c, err := a.Verify(context.Background(), tok)
	if err != nil {
		if c != nil {
			t.Fatalf("Verify(%q) = %+v, %v; want nil claims with an error", tok, c, err)
		}
		classes := errorClasses(err)
		if len(classes) != 1 || (classes[0] != auth.ErrInvalidToken && classes[0] != auth.ErrNoToken && classes[0] != auth.ErrUnavailable) {
			t.Fatalf("Verify(%q) = %v, of classes %v; want exactly one of ErrInvalidToken, ErrNoToken, ErrUnavailable", tok, err, classes)
		}
		if classes[0] == auth.ErrInvalidToken && !matchesAny(err, preciseTokenErrors) {
			t.Fatalf("Verify(%q) = %v; want a precise sentinel", tok, err)
		}
		if _, err2 := a.Verify(context.Background(), tok); err2 == nil || err2.Error() != err.Error() {
			t.Fatalf("Verify(%q) = %v, then %v; want the same answer twice", tok, err, err2)
		}
		return
	}
	if c == nil || c.Subject == "" {
		t.Fatalf("Verify(%q) = %+v, nil; want claims with a subject", tok, c)
	}
	switch {
	case c.ID == "", c.Issuer != fxIssuer, !auth.HasAudience(c, fxAudience),
		!fxNow.Before(c.ExpiresAt), c.IssuedAt.IsZero(), c.IssuedAt.Unix() > fxNow.Unix(),
		c.NotBefore.After(fxNow), c.Extra != nil:
		t.Fatalf("Verify(%q) accepted claims %+v that fail validation", tok, c)
	}
	var payload map[string]json.RawMessage
	if err := c.Decode(&payload); err != nil {
		t.Fatalf("Verify(%q): Decode of accepted claims = %v", tok, err)
	}
}

func matchesAny(err error, targets []error) bool {
	for _, target := range targets {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the seed files of testdata/fuzz/FuzzVerify from fuzzSeeds")

// corpusFiles are the seeds committed under testdata/fuzz/FuzzVerify, and
// what verifying each must return.
var corpusFiles = map[string]error{
	"valid": nil, "alg-none": auth.ErrTokenHeader, "padded": auth.ErrTokenMalformed,
	"four-segments": auth.ErrTokenMalformed, "tampered-payload": auth.ErrTokenSignature,
	"jku-header": auth.ErrTokenHeader, "exp-1e300": auth.ErrTokenClaims, "empty": auth.ErrNoToken,
	"iat-us-mismatch": auth.ErrTokenClaims, "typ-jwt": auth.ErrTokenHeader,
}

// readCorpusFile returns the string of a one-string seed file in the
// "go test fuzz v1" format.
func readCorpusFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 || lines[0] != "go test fuzz v1" || !strings.HasPrefix(lines[1], "string(") || !strings.HasSuffix(lines[1], ")") {
		t.Fatalf("%s is not a one-string go test fuzz v1 file", path)
	}
	s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "string("), ")"))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return s
}

// TestFuzzCorpus keeps the committed seed files useful: each still holds
// the token fuzzSeeds builds, so the valid seed still verifies and the
// others still fail for the reason their name gives. After a change to the
// fixture, rewrite them with
//
//	go test -run '^TestFuzzCorpus$' -update-corpus .
func TestFuzzCorpus(t *testing.T) {
	t.Parallel()
	s := fuzzSigner(t)
	a := newAuth(t, s.key)
	seeds := fuzzSeeds(t, s)
	dir := filepath.Join("testdata", "fuzz", "FuzzVerify")
	if *updateCorpus {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name := range corpusFiles {
			content := fmt.Sprintf("go test fuzz v1\nstring(%q)\n", seeds[name])
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, want := range corpusFiles {
		tok := readCorpusFile(t, filepath.Join(dir, name))
		if tok != seeds[name] {
			t.Errorf("seed file %s = %q; want %q (rewrite with -update-corpus)", name, abbrev(tok), abbrev(seeds[name]))
		}
		checkVerify(t, a, tok, want)
		checkFuzzVerify(t, a, tok)
	}
}
