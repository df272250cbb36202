package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jwtkit/auth/password"
)

// verifier is the bcrypt verifier of the tests: password.NewBcrypt at the
// cost of fastHasher, shared so that its dummy hash (which every Verify
// waits for) is made once and cheaply, with room for two comparisons at
// once. Verify compares at the cost the hash names, whatever the
// verifier's, so it checks the default policy's cost-12 hashes too.
var verifier = sync.OnceValues(func() (*password.Bcrypt, error) {
	return password.NewBcrypt(password.WithCost(password.MinCost), password.WithConcurrency(2))
})

// verifyHash reports whether hash is a bcrypt hash of pw.
func verifyHash(t *testing.T, hash, pw string) bool {
	t.Helper()
	v, err := verifier()
	if err != nil {
		t.Fatal(err)
	}
	match, _, err := v.Verify(context.Background(), []byte(hash), pw)
	if err != nil {
		t.Fatal(err)
	}
	return match
}

// hashOf returns the one line of r's stdout, which must be a bcrypt hash
// at cost, and checks that neither output holds pw.
func hashOf(t *testing.T, r result, pw string, cost int) string {
	t.Helper()
	r.wantCode(t, exitOK)
	hash, ok := strings.CutSuffix(r.stdout, "\n")
	if prefix := fmt.Sprintf("$2a$%02d$", cost); !ok || len(hash) != 60 || !strings.HasPrefix(hash, prefix) {
		t.Fatalf("stdout is not one bcrypt hash at cost %d: %q", cost, r.stdout)
	}
	if r.stderr != "" {
		t.Errorf("stderr: %s", r.stderr)
	}
	if strings.Contains(r.stdout, pw) || strings.Contains(r.stderr, pw) {
		t.Error("the password was printed")
	}
	return hash
}

func TestHashPassword(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, stdin, password string
	}{
		{"line", "correct horse battery staple\n", "correct horse battery staple"},
		{"CRLF, UTF-8, spaces", " pässwörd ünïcode \r\nsecond line\n", " pässwörd ünïcode "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hash := hashOf(t, runFast(t, tt.stdin, "hash-password"), tt.password, password.MinCost)
			if !verifyHash(t, hash, tt.password) {
				t.Errorf("%q does not verify %q", hash, tt.password)
			}
		})
	}
}

func TestHashPasswordOtherPasswordFails(t *testing.T) {
	t.Parallel()
	hash := hashOf(t, runFast(t, "password one\n", "hash-password"), "password one", password.MinCost)
	if verifyHash(t, hash, "password two") {
		t.Errorf("%q verifies another password", hash)
	}
}

// TestHashPasswordDefaultPolicy runs the command as main does: the hash is
// bcrypt at the default cost, 12.
func TestHashPasswordDefaultPolicy(t *testing.T) {
	t.Parallel()
	const pw = "the default policy"
	hash := hashOf(t, runCmd(t, pw+"\n", "hash-password"), pw, password.DefaultCost)
	if !verifyHash(t, hash, pw) {
		t.Errorf("%q does not verify %q", hash, pw)
	}
}

func TestReadPassword(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, stdin, want string
	}{
		{"line", "correct horse\n", "correct horse"},
		{"no newline", "correct horse", "correct horse"},
		{"CRLF", "windows password\r\n", "windows password"},
		{"CR kept inside", "a\rb\n", "a\rb"},
		{"one CR stripped", "pw\r\r\n", "pw\r"},
		{"first line only", "first line\nsecond line\n", "first line"},
		{"spaces kept", "  spaced out  \n", "  spaced out  "},
		{"tabs kept", "\tpw\t\n", "\tpw\t"},
		{"empty line", "\n", ""},
		{"72 bytes", strings.Repeat("p", 72) + "\n", strings.Repeat("p", 72)},
		{"a long line is cut at the cap", strings.Repeat("p", maxPasswordLine+10), strings.Repeat("p", maxPasswordLine)},
		{"bytes kept", "pass\x00\xffword\n", "pass\x00\xffword"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := readPassword(strings.NewReader(tt.stdin))
			if err != nil || got != tt.want {
				t.Errorf("readPassword = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if _, err := readPassword(strings.NewReader("")); !errors.Is(err, errNoPassword) {
		t.Errorf("empty stdin: %v, want errNoPassword", err)
	}
}

func TestHashPasswordRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, stdin, want string
	}{
		{"empty stdin", "", "no password on stdin"},
		{"empty line", "\n", password.ErrInvalid.Error()},
		{"7 bytes", "1234567\n", password.ErrInvalid.Error()},
		{"73 bytes", strings.Repeat("p", 73) + "\n", password.ErrInvalid.Error()},
		{"a long line", strings.Repeat("p", maxPasswordLine+10), password.ErrInvalid.Error()},
		{"invalid UTF-8", "password\xff\xfe\n", password.ErrInvalid.Error()},
		{"NUL", "pass\x00word\n", password.ErrInvalid.Error()},
		{"short first line", "short\na much longer second line\n", password.ErrInvalid.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runFast(t, tt.stdin, "hash-password")
			r.wantCode(t, exitFail)
			if !strings.HasPrefix(r.stderr, "jwtkit hash-password: ") || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr lacks %q: %s", tt.want, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout: %q", r.stdout)
			}
			if line, _, _ := strings.Cut(tt.stdin, "\n"); len(line) > 1 && strings.Contains(r.stderr, line) {
				t.Error("the password was printed")
			}
		})
	}
}

func TestHashPasswordUsage(t *testing.T) {
	t.Parallel()
	const pw = "on the command line"
	r := runFast(t, "", "hash-password", pw)
	r.wantCode(t, exitUsage)
	if !strings.Contains(r.stderr, "never from the command line") {
		t.Errorf("stderr: %s", r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, pw) {
		t.Error("the password was printed")
	}
}
