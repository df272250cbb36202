package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jwtkit/auth"
)

// inspected is inspect's output after its first line.
type inspected struct {
	Header map[string]any `json:"header"`
	Claims map[string]any `json:"claims"`
}

// parseInspect checks that out starts with a line saying "unverified" and
// decodes the JSON that follows.
func parseInspect(t *testing.T, out string) inspected {
	t.Helper()
	first, rest, _ := strings.Cut(out, "\n")
	if !strings.Contains(first, "unverified") {
		t.Fatalf("first line %q does not say unverified", first)
	}
	var doc inspected
	dec := json.NewDecoder(strings.NewReader(rest))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("not the JSON of a header and claims (%v):\n%s", err, rest)
	}
	if dec.More() {
		t.Fatalf("more after the JSON:\n%s", rest)
	}
	return doc
}

func TestInspect(t *testing.T) {
	t.Parallel()
	key := parseKey(t, auth.ES256, keygen(t, auth.ES256))
	tok := signToken(t, key)
	tests := []struct {
		name  string
		args  []string
		stdin string
	}{
		{"argument", []string{tok}, ""},
		{"argument with white space", []string{" " + tok + "\n"}, ""},
		{"Authorization header value", []string{"Bearer " + tok}, ""},
		{"stdin by -", []string{"-"}, tok + "\n"},
		{"stdin by no argument", nil, tok},
		{"stdin with CRLF", nil, tok + "\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runCmd(t, tt.stdin, append([]string{"inspect"}, tt.args...)...)
			r.wantCode(t, exitOK)
			if r.stderr != "" {
				t.Errorf("stderr: %s", r.stderr)
			}
			doc := parseInspect(t, r.stdout)
			wantHeader := map[string]any{"alg": "ES256", "kid": key.ID(), "typ": "at+jwt"}
			for name, want := range wantHeader {
				if doc.Header[name] != want {
					t.Errorf("header %s = %v, want %v", name, doc.Header[name], want)
				}
			}
			wantClaims := map[string]any{"iss": testIss, "aud": testAud, "sub": "user-1", "tenant": "t1"}
			for name, want := range wantClaims {
				if doc.Claims[name] != want {
					t.Errorf("claim %s = %v, want %v", name, doc.Claims[name], want)
				}
			}
			for _, name := range []string{"exp", "iat", "jti"} {
				if _, ok := doc.Claims[name]; !ok {
					t.Errorf("no claim %s", name)
				}
			}
		})
	}
}

// TestInspectDoesNotVerify checks that inspect decodes tokens that verify
// would refuse, and still says they were not verified.
func TestInspectDoesNotVerify(t *testing.T) {
	t.Parallel()
	key := parseKey(t, auth.EdDSA, keygen(t, auth.EdDSA))
	expired := issue(t, newAuth(t, key, time.Now().Add(-24*time.Hour)))
	valid := signToken(t, key)
	h, p, _ := strings.Cut(valid, ".")
	p, _, _ = strings.Cut(p, ".")
	tests := []struct {
		name, token string
	}{
		{"expired", expired},
		{"bad signature", h + "." + p + ".AAAA"},
		{"unsigned", b64([]byte(`{"alg":"none"}`)) + "." + p + "."},
		{"any JSON claims", b64([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + b64([]byte(`{"sub":42,"admin":true}`)) + "." + b64([]byte("sig"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runCmd(t, "", "inspect", tt.token)
			r.wantCode(t, exitOK)
			parseInspect(t, r.stdout)
		})
	}
}

// TestInspectKeepsOrder checks that members keep their order and numbers
// their spelling.
func TestInspectKeepsOrder(t *testing.T) {
	t.Parallel()
	tok := b64([]byte(`{"typ":"at+jwt","alg":"EdDSA"}`)) + "." + b64([]byte(`{"sub":"u","exp":1.5e9,"aud":["a","b"]}`)) + "."
	r := runCmd(t, "", "inspect", tok)
	r.wantCode(t, exitOK)
	want := unverifiedLine + `
{
  "header": {
    "typ": "at+jwt",
    "alg": "EdDSA"
  },
  "claims": {
    "sub": "u",
    "exp": 1.5e9,
    "aud": [
      "a",
      "b"
    ]
  }
}
`
	if r.stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", r.stdout, want)
	}
}

func TestInspectMalformed(t *testing.T) {
	t.Parallel()
	header := b64([]byte(`{"alg":"EdDSA"}`))
	claims := b64([]byte(`{"sub":"u"}`))
	tests := []struct {
		name, token, want string
	}{
		{"empty", "", "empty"},
		{"white space", " \n", "empty"},
		{"one segment", "abc", "1 segments"},
		{"two segments", header + "." + claims, "2 segments"},
		{"four segments", header + "." + claims + ".a.b", "4 segments"},
		{"JWE", "a.b.c.d.e", "JWE"},
		{"empty header", "." + claims + ".", "empty header"},
		{"empty claims", header + "..", "empty claims"},
		{"header not base64url", "!!!." + claims + ".", "header is not base64url"},
		{"standard base64", b64([]byte(`{"alg":"EdDSA","x":"??"}`)) + "+/." + claims + ".", "header is not base64url"},
		{"padding", header + "=." + claims + ".", "header is not base64url"},
		{"newline inside", header[:4] + "\n" + header[4:] + "." + claims + ".", "header is not base64url"},
		{"header not JSON", b64([]byte("alg")) + "." + claims + ".", "header is not a JSON object"},
		{"header a JSON array", b64([]byte(`["alg"]`)) + "." + claims + ".", "header is not a JSON object"},
		{"header null", b64([]byte(`null`)) + "." + claims + ".", "header is not a JSON object"},
		{"header with trailing data", b64([]byte(`{"alg":"EdDSA"} {}`)) + "." + claims + ".", "header is not a JSON object"},
		{"claims not JSON", header + "." + b64([]byte("hello")) + ".", "claims is not a JSON object"},
		{"claims a string", header + "." + b64([]byte(`"sub"`)) + ".", "claims is not a JSON object"},
		{"claims not base64url", header + ".$$.", "claims is not base64url"},
		{"signature not base64url", header + "." + claims + ".a*b", "signature is not base64url"},
		{"signature of bad length", header + "." + claims + ".a", "signature is not base64url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, r := range []result{
				runCmd(t, "", "inspect", tt.token),
				runCmd(t, tt.token, "inspect"),
			} {
				r.wantCode(t, exitFail)
				if !strings.Contains(r.stderr, "jwtkit inspect: malformed token") || !strings.Contains(r.stderr, tt.want) {
					t.Errorf("stderr lacks %q: %s", tt.want, r.stderr)
				}
				if r.stdout != "" {
					t.Errorf("stdout: %s", r.stdout)
				}
			}
		})
	}
}

func TestInspectRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		args  []string
		stdin string
		code  int
		want  string
	}{
		{"two tokens", []string{"a.b.c", "d.e.f"}, "", exitUsage, "more than one token"},
		{"flag after the token", []string{"a.b.c", "-x"}, "", exitUsage, "more than one token"},
		{"huge stdin", nil, strings.Repeat("a", maxTokenSize+1), exitFail, "stdin exceeds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runCmd(t, tt.stdin, append([]string{"inspect"}, tt.args...)...)
			r.wantCode(t, tt.code)
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr lacks %q: %s", tt.want, r.stderr)
			}
		})
	}
}
