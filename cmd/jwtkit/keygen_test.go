package main

import (
	"bytes"
	"context"
	"crypto/rsa"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jwtkit/auth"
)

func TestKeygen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		alg  auth.Algorithm
		args []string
		bits int // RSA modulus size wanted, 0 for other keys
	}{
		{"EdDSA", auth.EdDSA, nil, 0},
		{"ES256", auth.ES256, nil, 0},
		{"RS256 default bits", auth.RS256, nil, defaultRSABits},
		{"RS256 2048", auth.RS256, []string{"-bits", "2048"}, 2048},
		{"RS256 4096", auth.RS256, []string{"-bits=4096"}, 4096},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := keygen(t, tt.alg, tt.args...)
			if !strings.HasPrefix(string(data), "-----BEGIN PRIVATE KEY-----\n") ||
				!strings.HasSuffix(string(data), "-----END PRIVATE KEY-----\n") {
				t.Fatalf("not one PKCS#8 PEM block:\n%s", data)
			}
			key := parseKey(t, tt.alg, data)
			if key.Algorithm() != tt.alg {
				t.Errorf("algorithm %s, want %s", key.Algorithm(), tt.alg)
			}
			if tt.bits != 0 {
				if got := key.Public().(*rsa.PublicKey).N.BitLen(); got != tt.bits {
					t.Errorf("RSA key of %d bits, want %d", got, tt.bits)
				}
			}
			// The key signs: a token it issues verifies.
			a := newAuth(t, key, time.Time{})
			tok := issue(t, a)
			c, err := a.Verify(context.Background(), tok)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if c.Subject != "user-1" {
				t.Errorf("sub %q", c.Subject)
			}
		})
	}
}

func TestKeygenKeysDiffer(t *testing.T) {
	t.Parallel()
	a, b := keygen(t, auth.EdDSA), keygen(t, auth.EdDSA)
	if bytes.Equal(a, b) {
		t.Fatal("two runs made the same key")
	}
}

func TestKeygenFile(t *testing.T) {
	t.Parallel()
	for _, alg := range keygenAlgs {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "key.pem")
			args := []string{"keygen", "-alg", string(alg), "-o", path}
			if alg == auth.RS256 {
				args = append(args, "-bits", "2048")
			}
			r := runCmd(t, "", args...)
			r.wantCode(t, exitOK)
			if r.stdout != "" || r.stderr != "" {
				t.Errorf("output with -o: stdout %q, stderr %q", r.stdout, r.stderr)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if perm := fi.Mode().Perm(); perm != 0o600 {
				t.Errorf("mode %v, want 0600", perm)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			parseKey(t, alg, data)

			// A second run refuses to overwrite the key.
			r = runCmd(t, "", "keygen", "-alg", string(alg), "-o", path)
			r.wantCode(t, exitFail)
			if !strings.Contains(r.stderr, "already exists") {
				t.Errorf("stderr: %s", r.stderr)
			}
			again, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, data) {
				t.Error("the existing key was changed")
			}
		})
	}
}

func TestKeygenFileRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// A symbolic link, even to a file that does not exist, is not followed.
	target := filepath.Join(dir, "target.pem")
	link := filepath.Join(dir, "link.pem")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, want string
	}{
		{"symlink", link, "already exists"},
		{"no such directory", filepath.Join(dir, "missing", "key.pem"), "no such file or directory"},
		{"a directory", dir, "already exists"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runCmd(t, "", "keygen", "-alg", "EdDSA", "-o", tt.path)
			r.wantCode(t, exitFail)
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr lacks %q: %s", tt.want, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout: %s", r.stdout)
			}
		})
	}
	if _, err := os.Lstat(target); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the link's target was created: %v", err)
	}
}

func TestKeygenUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"no alg", nil, "-alg is required"},
		{"unknown alg", []string{"-alg", "XX999"}, `unsupported -alg "XX999"`},
		{"HMAC", []string{"-alg", "HS256"}, `unsupported -alg "HS256"`},
		{"none", []string{"-alg", "none"}, `unsupported -alg "none"`},
		{"lower case", []string{"-alg", "es256"}, `unsupported -alg "es256"`},
		{"ES384", []string{"-alg", "ES384"}, `unsupported -alg "ES384"`},
		{"bits below the minimum", []string{"-alg", "RS256", "-bits", "2047"}, "-bits 2047"},
		{"bits 1024", []string{"-alg", "RS256", "-bits", "1024"}, "-bits 1024"},
		{"bits negative", []string{"-alg", "RS256", "-bits", "-1"}, "-bits -1"},
		{"bits above the maximum", []string{"-alg", "RS256", "-bits", "16385"}, "-bits 16385"},
		{"bits not a number", []string{"-alg", "RS256", "-bits", "many"}, "invalid value"},
		{"bits for EdDSA", []string{"-alg", "EdDSA", "-bits", "3072"}, "-bits applies to RS256 only"},
		{"bits for ES256", []string{"-alg", "ES256", "-bits", "2048"}, "-bits applies to RS256 only"},
		{"argument", []string{"-alg", "EdDSA", "key.pem"}, `unexpected argument "key.pem"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runCmd(t, "", append([]string{"keygen"}, tt.args...)...)
			r.wantCode(t, exitUsage)
			if !strings.Contains(r.stderr, tt.want) || !strings.Contains(r.stderr, "usage: jwtkit keygen") {
				t.Errorf("stderr lacks %q and the usage:\n%s", tt.want, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout: %s", r.stdout)
			}
		})
	}
}

// TestRSABitsMatchLibrary checks keygen's RSA bounds against the library's:
// auth takes a key of minRSABits and of maxRSABits, and refuses one bit
// less or more as weak.
func TestRSABitsMatchLibrary(t *testing.T) {
	t.Parallel()
	tests := []struct {
		bits int
		ok   bool
	}{
		{minRSABits - 1, false},
		{minRSABits, true},
		{defaultRSABits, true},
		{maxRSABits, true},
		{maxRSABits + 1, false},
	}
	for _, tt := range tests {
		// A public key is checked for its size and exponent only, so an
		// odd modulus of tt.bits bits will do: 2^(bits-1) + 1.
		n := new(big.Int).SetBit(big.NewInt(1), tt.bits-1, 1)
		_, err := auth.NewPublicKey(auth.RS256, &rsa.PublicKey{N: n, E: 65537})
		switch {
		case tt.ok && err != nil:
			t.Errorf("%d bits: the library refuses it: %v", tt.bits, err)
		case !tt.ok && !errors.Is(err, auth.ErrWeakKey):
			t.Errorf("%d bits: error %v, want auth.ErrWeakKey", tt.bits, err)
		}
	}
}
