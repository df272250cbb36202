package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jwtkit/auth"
)

// verifyFixture is an issuer's key, its JWK Set served over HTTP and
// written to a file, and tokens of every kind.
type verifyFixture struct {
	key      *auth.Key
	url      string // the JWK Set served by the key's KeySet
	file     string // the same document in a file
	valid    string
	expired  string
	wrongAud string
	wrongIss string
	otherKey string // signed by a key the set does not have
	forged   string // signed by another key under the set's kid
	unsigned string // alg none
}

func newVerifyFixture(t *testing.T) *verifyFixture {
	t.Helper()
	key := parseKey(t, auth.EdDSA, keygen(t, auth.EdDSA))
	ks, err := auth.NewKeySet(key)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ks)
	t.Cleanup(srv.Close)
	doc := fetch(t, srv.URL)
	f := &verifyFixture{
		key:   key,
		url:   srv.URL + "/.well-known/jwks.json",
		file:  writeFile(t, t.TempDir(), "jwks.json", doc),
		valid: signToken(t, key),
		// Issued an hour ago, with the default lifetime of 15 minutes.
		expired: issue(t, newAuth(t, key, time.Now().Add(-time.Hour))),
	}
	f.wrongAud = issueFor(t, key, testIss, "another-api")
	f.wrongIss = issueFor(t, key, "https://evil.example.com", testAud)
	other, err := auth.GenerateKey(nil, auth.EdDSA)
	if err != nil {
		t.Fatal(err)
	}
	f.otherKey = signToken(t, other)
	impostor, err := auth.GenerateKey(nil, auth.EdDSA, auth.WithKeyID(key.ID()))
	if err != nil {
		t.Fatal(err)
	}
	f.forged = signToken(t, impostor)
	_, payload, _ := strings.Cut(f.valid, ".")
	payload, _, _ = strings.Cut(payload, ".")
	f.unsigned = b64([]byte(`{"alg":"none","kid":"`+key.ID()+`","typ":"at+jwt"}`)) + "." + payload + "."
	return f
}

// fetch returns the body of a GET of url.
func fetch(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := readLimited(resp.Body, 1<<20, "body")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// issueFor returns a token signed by key for issuer iss and audience aud.
func issueFor(t *testing.T, key *auth.Key, iss, aud string) string {
	t.Helper()
	ks, err := auth.NewKeySet(key)
	if err != nil {
		t.Fatal(err)
	}
	a, err := auth.New(auth.WithKeys(ks), auth.WithIssuer(iss), auth.WithAudience(aud))
	if err != nil {
		t.Fatal(err)
	}
	return issue(t, a)
}

func TestVerify(t *testing.T) {
	t.Parallel()
	f := newVerifyFixture(t)
	tests := []struct {
		name  string
		token string
		code  int
		want  string // the error code that starts stderr's message; "" when valid
	}{
		{"valid", f.valid, exitOK, ""},
		{"expired", f.expired, exitFail, "TOKEN_EXPIRED"},
		{"wrong audience", f.wrongAud, exitFail, "INVALID_TOKEN: auth: invalid claims: wrong aud"},
		{"wrong issuer", f.wrongIss, exitFail, "INVALID_TOKEN: auth: invalid claims: wrong iss"},
		{"token of another key", f.otherKey, exitFail, "INVALID_TOKEN: auth: unknown key id"},
		{"another key under the set's kid", f.forged, exitFail, "INVALID_TOKEN: auth: signature invalid"},
		{"alg none", f.unsigned, exitFail, "INVALID_TOKEN: auth: header not allowed"},
		{"garbage", "not-a-token", exitFail, "INVALID_TOKEN: auth: malformed token"},
		{"empty", "", exitFail, "NO_TOKEN"},
	}
	for _, src := range []struct{ name, jwks string }{{"URL", f.url}, {"FILE", f.file}} {
		for _, tt := range tests {
			t.Run(src.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				r := runCmd(t, "", "verify", "-jwks", src.jwks, "-iss", testIss, "-aud", testAud, tt.token)
				r.wantCode(t, tt.code)
				if tt.code == exitOK {
					checkClaims(t, r.stdout)
					if r.stderr != "" {
						t.Errorf("stderr: %s", r.stderr)
					}
					return
				}
				if !strings.HasPrefix(r.stderr, "jwtkit verify: "+tt.want) {
					t.Errorf("stderr does not start with %q: %s", "jwtkit verify: "+tt.want, r.stderr)
				}
				if r.stdout != "" {
					t.Errorf("stdout: %s", r.stdout)
				}
			})
		}
	}
}

// checkClaims checks that out is the indented JSON of the claims of a valid
// fixture token, application claims included.
func checkClaims(t *testing.T, out string) {
	t.Helper()
	var claims map[string]any
	if err := json.Unmarshal([]byte(out), &claims); err != nil {
		t.Fatalf("stdout is not JSON claims (%v):\n%s", err, out)
	}
	for name, want := range map[string]any{"iss": testIss, "aud": testAud, "sub": "user-1", "tenant": "t1"} {
		if claims[name] != want {
			t.Errorf("claim %s = %v, want %v", name, claims[name], want)
		}
	}
	if !strings.HasPrefix(out, "{\n  \"") || !strings.HasSuffix(out, "}\n") {
		t.Errorf("claims not indented:\n%s", out)
	}
}

func TestVerifyTokenFromStdin(t *testing.T) {
	t.Parallel()
	f := newVerifyFixture(t)
	for _, args := range [][]string{{"-"}, nil} {
		r := runCmd(t, f.valid+"\n", append([]string{"verify", "-jwks", f.file, "-iss", testIss, "-aud", testAud}, args...)...)
		r.wantCode(t, exitOK)
		checkClaims(t, r.stdout)
	}
	r := runCmd(t, f.expired, "verify", "-jwks", f.url, "-iss", testIss, "-aud", testAud, "-")
	r.wantCode(t, exitFail)
	if !strings.HasPrefix(r.stderr, "jwtkit verify: TOKEN_EXPIRED") {
		t.Errorf("stderr: %s", r.stderr)
	}
}

func TestVerifyUsage(t *testing.T) {
	t.Parallel()
	f := newVerifyFixture(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no flags", []string{f.valid}, "missing -jwks, -iss, -aud"},
		{"no -jwks", []string{"-iss", testIss, "-aud", testAud, f.valid}, "missing -jwks "},
		{"no -iss", []string{"-jwks", f.file, "-aud", testAud, f.valid}, "missing -iss "},
		{"no -aud", []string{"-jwks", f.file, "-iss", testIss, f.valid}, "missing -aud "},
		{"empty -aud", []string{"-jwks", f.file, "-iss", testIss, "-aud", "", f.valid}, "missing -aud "},
		{"two tokens", []string{"-jwks", f.file, "-iss", testIss, "-aud", testAud, f.valid, f.valid}, "more than one token"},
		{"URL without host", []string{"-jwks", "https://", "-iss", testIss, "-aud", testAud, f.valid}, "-jwks: "},
		{"URL with fragment", []string{"-jwks", f.url + "#keys", "-iss", testIss, "-aud", testAud, f.valid}, "-jwks: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runCmd(t, "", append([]string{"verify"}, tt.args...)...)
			r.wantCode(t, exitUsage)
			if !strings.Contains(r.stderr, tt.want) || !strings.Contains(r.stderr, "usage: jwtkit verify") {
				t.Errorf("stderr lacks %q and the usage: %s", tt.want, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout: %s", r.stdout)
			}
		})
	}
}

func TestVerifyKeySourceFailures(t *testing.T) {
	t.Parallel()
	f := newVerifyFixture(t)
	dir := t.TempDir()
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	notFound := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(notFound.Close)
	jwk, err := json.Marshal(f.key)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, jwks, want string
	}{
		{"server gone", gone.URL, "UNAVAILABLE"},
		{"status 404", notFound.URL, "UNAVAILABLE"},
		{"missing file", filepath.Join(dir, "missing.json"), "no such file"},
		{"not JSON", writeFile(t, dir, "text.json", []byte("hello")), "not a JWK Set"},
		{"no keys member", writeFile(t, dir, "nokeys.json", []byte(`{"key":[]}`)), "not a JWK Set"},
		{"a single JWK", writeFile(t, dir, "jwk.json", jwk), "not a JWK Set"},
		{"no keys", writeFile(t, dir, "empty.json", []byte(`{"keys":[]}`)), "no usable key among 0"},
		{"only unusable keys", writeFile(t, dir, "oct.json", []byte(`{"keys":[{"kty":"oct","kid":"s","alg":"HS256","k":"c2VjcmV0"}]}`)), "no usable key among 1"},
		{"two keys with one kid", writeFile(t, dir, "dup.json", []byte(`{"keys":[`+string(jwk)+`,`+string(jwk)+`]}`)), "no usable key among 2"},
		{"too large", writeFile(t, dir, "huge.json", []byte(strings.Repeat(" ", 1<<20+1))), "exceeds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runCmd(t, "", "verify", "-jwks", tt.jwks, "-iss", testIss, "-aud", testAud, f.valid)
			r.wantCode(t, exitFail)
			if !strings.HasPrefix(r.stderr, "jwtkit verify: ") || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr lacks %q: %s", tt.want, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout: %s", r.stdout)
			}
		})
	}
}

// TestVerifySkipsUnusableKeys checks that a JWK Set file is read as package
// jwks reads a fetched one: unusable keys are skipped with a warning, and
// the others verify.
func TestVerifySkipsUnusableKeys(t *testing.T) {
	t.Parallel()
	f := newVerifyFixture(t)
	jwk, err := json.Marshal(f.key)
	if err != nil {
		t.Fatal(err)
	}
	other, err := auth.GenerateKey(nil, auth.ES256, auth.WithKeyID("shared"))
	if err != nil {
		t.Fatal(err)
	}
	shared, err := json.Marshal(other)
	if err != nil {
		t.Fatal(err)
	}
	doc := `{"keys":[
		{"kty":"oct","kid":"s","alg":"HS256","k":"c2VjcmV0"},
		{"kty":"OKP","crv":"Ed25519","kid":"noalg","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
		` + string(shared) + `,` + string(jwk) + `,` + string(shared) + `
	]}`
	path := writeFile(t, t.TempDir(), "jwks.json", []byte(doc))
	r := runCmd(t, "", "verify", "-jwks", path, "-iss", testIss, "-aud", testAud, f.valid)
	r.wantCode(t, exitOK)
	checkClaims(t, r.stdout)
	for _, want := range []string{
		"key 0 skipped: auth: key does not fit algorithm: JWK: private or secret member",
		"key 1 skipped: auth: key does not fit algorithm: JWK: no alg",
		`key 2 skipped: another key has the same kid "shared"`,
		`key 4 skipped: another key has the same kid "shared"`,
	} {
		if !strings.Contains(r.stderr, "jwtkit verify: warning: "+path+": "+want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "key 3") {
		t.Errorf("the usable key was skipped:\n%s", r.stderr)
	}
}
