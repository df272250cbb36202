// Package interop checks github.com/jwtkit/auth against an independent
// implementation of JWS, JWK and JWT: the jose library for Node.js
// (directory jose, with its package-lock.json). jose verifies tokens the
// library issues, fetching the library's JWK Set; the library verifies
// tokens jose signs, fetching jose's JWK Set with jwks.RemoteKeySet.
//
// The tests need Node.js 20.19 or newer and npm; they run "npm ci" in jose
// when its node_modules is missing. Without Node.js or npm they skip, except
// under CI=true, where they fail.
package interop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/jwks"
)

const (
	issuer   = "https://id.example.test"
	audience = "interop-api"
	// jsDir holds the Node.js project.
	jsDir = "jose"
	// nodeLimit bounds each Node.js process.
	nodeLimit = 60 * time.Second
	// tokenType is the typ header of the library's access tokens (RFC 9068).
	tokenType = "at+jwt"
)

// algs are the algorithms checked both ways.
var algs = []auth.Algorithm{auth.EdDSA, auth.ES256, auth.RS256}

var (
	installOnce sync.Once
	installErr  error
)

// node returns the path of the node binary, once the jose package is
// installed. It skips the test when Node.js or npm is missing, or fails it
// under CI=true.
func node(t *testing.T) string {
	t.Helper()
	nodePath, nodeErr := exec.LookPath("node")
	_, npmErr := exec.LookPath("npm")
	if err := errors.Join(nodeErr, npmErr); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Node.js and npm are required under CI=true: %v", err)
		}
		t.Skipf("Node.js or npm not found (%v); the jose interoperability tests need them", err)
	}
	installOnce.Do(func() {
		if _, err := os.Stat(filepath.Join(jsDir, "node_modules", "jose", "package.json")); err == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = jsDir
		if out, err := cmd.CombinedOutput(); err != nil {
			installErr = errors.New("npm ci: " + err.Error() + "\n" + string(out))
		}
	})
	if installErr != nil {
		t.Fatal(installErr)
	}
	return nodePath
}

// runNode runs node with args in the jose directory and returns its exit
// code, standard output and standard error.
func runNode(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), nodeLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, node(t), args...)
	cmd.Dir = jsDir
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && ctx.Err() == nil:
		code = exit.ExitCode()
	default:
		t.Fatalf("node %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return code, out.String(), errOut.String()
}

// TestJoseVerifiesOurTokens issues a token with the library, serves the key
// set's JWK Set over HTTP, and has jose verify the token with
// createRemoteJWKSet and jwtVerify, checking iss, aud and typ at+jwt; then
// shows jose refuses the token for another audience, another algorithm, or
// with its signature altered.
func TestJoseVerifiesOurTokens(t *testing.T) {
	t.Parallel()
	node(t)
	for _, alg := range algs {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			key, err := auth.GenerateKey(nil, alg)
			if err != nil {
				t.Fatal(err)
			}
			keys, err := auth.NewKeySet(key)
			if err != nil {
				t.Fatal(err)
			}
			a, err := auth.New(auth.WithKeys(keys), auth.WithIssuer(issuer), auth.WithAudience(audience))
			if err != nil {
				t.Fatal(err)
			}
			mux := http.NewServeMux()
			mux.Handle("GET /.well-known/jwks.json", keys)
			srv := httptest.NewServer(mux)
			defer srv.Close()
			jwksURL := srv.URL + "/.well-known/jwks.json"
			at, err := a.Issue(context.Background(), auth.Claims{Subject: "ada", Role: "admin", Scope: "read write"})
			if err != nil {
				t.Fatal(err)
			}

			verify := func(token, aud, alg string) (int, string, string) {
				return runNode(t, "verify.mjs", "--jwks", jwksURL, "--token", token,
					"--issuer", issuer, "--audience", aud, "--alg", alg)
			}
			code, stdout, stderr := verify(at.Token, audience, string(alg))
			if code != 0 {
				t.Fatalf("jose jwtVerify(token of %s) exited %d: %s", alg, code, stderr)
			}
			var got struct {
				ProtectedHeader map[string]any
				Payload         map[string]any
			}
			if err := json.Unmarshal([]byte(stdout), &got); err != nil {
				t.Fatalf("verify.mjs printed %q: %v", stdout, err)
			}
			wantHeader := map[string]any{"alg": string(alg), "kid": key.ID(), "typ": tokenType}
			for k, v := range wantHeader {
				if got.ProtectedHeader[k] != v {
					t.Errorf("jose saw header %s = %v; want %v", k, got.ProtectedHeader[k], v)
				}
			}
			wantPayload := map[string]any{"iss": issuer, "aud": audience, "sub": "ada", "jti": at.Claims.ID, "role": "admin", "scope": "read write"}
			for k, v := range wantPayload {
				if got.Payload[k] != v {
					t.Errorf("jose saw claim %s = %v; want %v", k, got.Payload[k], v)
				}
			}

			other := map[auth.Algorithm]string{auth.EdDSA: "ES256", auth.ES256: "EdDSA", auth.RS256: "PS256"}[alg]
			sig := at.Token[strings.LastIndexByte(at.Token, '.')+1:]
			flipped := at.Token[:len(at.Token)-len(sig)] + flip(sig)
			refused := []struct {
				name, token, aud, alg, code string
			}{
				{"another audience", at.Token, "another-api", string(alg), "ERR_JWT_CLAIM_VALIDATION_FAILED"},
				{"another algorithm", at.Token, audience, other, "ERR_JOSE_ALG_NOT_ALLOWED"},
				{"altered signature", flipped, audience, string(alg), "ERR_JWS_SIGNATURE_VERIFICATION_FAILED"},
			}
			for _, r := range refused {
				code, _, stderr := verify(r.token, r.aud, r.alg)
				if code != 1 || !strings.Contains(stderr, r.code) {
					t.Errorf("jose jwtVerify(%s) exited %d: %s; want 1 with %s", r.name, code, stderr, r.code)
				}
			}
		})
	}
}

// flip changes the first character of a base64url segment.
func flip(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}

// joseIssuer is what sign.mjs prints.
type joseIssuer struct {
	JWKS    string            `json:"jwks"`
	Kid     string            `json:"kid"`
	Token   string            `json:"token"`
	Refused map[string]string `json:"refused"`
}

// TestWeVerifyJoseTokens has jose generate a key pair, publish it as a JWK
// Set over HTTP and sign tokens, and verifies them with a RemoteKeySet on
// that URL: the good token passes with its claims, each of the others is
// refused with its precise error, and the JWK Set is fetched once.
func TestWeVerifyJoseTokens(t *testing.T) {
	t.Parallel()
	nodePath := node(t)
	for _, alg := range algs {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), nodeLimit)
			defer cancel()
			cmd := exec.CommandContext(ctx, nodePath, "sign.mjs", "--alg", string(alg), "--issuer", issuer, "--audience", audience)
			cmd.Dir = jsDir
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
			line, err := bufio.NewReader(stdout).ReadBytes('\n')
			if err != nil {
				t.Fatalf("sign.mjs printed no line: %v\n%s", err, stderr.String())
			}
			go func() { _, _ = io.Copy(io.Discard, stdout) }()
			var js joseIssuer
			if err := json.Unmarshal(line, &js); err != nil {
				t.Fatalf("sign.mjs printed %q: %v", line, err)
			}

			keys, err := jwks.NewRemoteKeySet(js.JWKS)
			if err != nil {
				t.Fatal(err)
			}
			a, err := auth.New(auth.WithKeySource(keys), auth.WithIssuer(issuer), auth.WithAudience(audience))
			if err != nil {
				t.Fatal(err)
			}
			c, err := a.Verify(ctx, js.Token)
			if err != nil {
				t.Fatalf("Verify(jose %s token) = %v; want nil", alg, err)
			}
			if c.Subject != "jose-user" || !c.HasScope("read") || c.ID == "" || !slices.Contains(c.Audience, audience) {
				t.Errorf("Verify(jose %s token) claims = %+v; want sub jose-user, scope read, a jti, aud %s", alg, c, audience)
			}
			// RFC 7638 thumbprints agree: jose's kid is our thumbprint of
			// the key we parsed from its JWK.
			if ks := keys.Keys(); len(ks) != 1 || ks[0].ID() != js.Kid || auth.Thumbprint(ks[0]) != js.Kid || ks[0].Algorithm() != alg {
				t.Errorf("keys from jose's JWK Set = %v; want one %s key whose thumbprint is %s", ks, alg, js.Kid)
			}

			want := map[string]error{
				"typ JWT":         auth.ErrTokenHeader,
				"other audience":  auth.ErrTokenClaims,
				"expired":         auth.ErrTokenExpired,
				"unpublished key": auth.ErrTokenUnknownKey,
			}
			if len(js.Refused) != len(want) {
				t.Errorf("sign.mjs printed refused tokens %v; want %d", js.Refused, len(want))
			}
			for name, tok := range js.Refused {
				if _, err := a.Verify(ctx, tok); !errors.Is(err, want[name]) {
					t.Errorf("Verify(jose token with %s) = %v; want %v", name, err, want[name])
				}
			}

			if err := stdin.Close(); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("sign.mjs: %v\n%s", err, stderr.String())
			}
			// One fetch: the unknown kid came within the refetch cooldown.
			if got := strings.TrimSpace(stderr.String()); got != "sign.mjs: served the JWK Set 1 times" {
				t.Errorf("sign.mjs reported %q; want one JWK Set request", got)
			}
		})
	}
}
