package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"log/slog"
	"maps"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/authstore"
	"github.com/jwtkit/auth/examples/refserver"
	"github.com/jwtkit/auth/internal/testenv"
	"github.com/jwtkit/auth/password"
)

// keyDir holds the key files; TestMain removes it.
var keyDir string

// keyFiles are PEM private keys of every kind, written once per test run.
var keyFiles = sync.OnceValues(func() (map[string]string, error) {
	dir, err := os.MkdirTemp("", "basic-keys-")
	if err != nil {
		return nil, err
	}
	keyDir = dir
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		return nil, err
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	files := map[string]string{}
	for name, k := range map[string]crypto.Signer{"ed25519": edKey, "p256": p256, "p384": p384, "rsa": rsaKey} {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return nil, err
		}
		files[name] = filepath.Join(dir, name+".pem")
		if err := os.WriteFile(files[name], pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			return nil, err
		}
	}
	pubDER, err := x509.MarshalPKIXPublicKey(p256.Public())
	if err != nil {
		return nil, err
	}
	files["public"] = filepath.Join(dir, "public.pem")
	files["garbage"] = filepath.Join(dir, "garbage.pem")
	files["missing"] = filepath.Join(dir, "missing.pem")
	if err := os.WriteFile(files["public"], pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(files["garbage"], []byte("not a key\n"), 0o600); err != nil {
		return nil, err
	}
	return files, nil
})

func testKeyFiles(tb testing.TB) map[string]string {
	tb.Helper()
	files, err := keyFiles()
	if err != nil {
		tb.Fatal(err)
	}
	return files
}

// start runs what run does before it listens: it reads the configuration
// from env and builds the server on it.
func start(env map[string]string) error {
	cfg, err := loadConfig(envFrom(env), quiet)
	if err != nil {
		return err
	}
	_, err = newServer(cfg, quiet)
	return err
}

// TestConfigErrors checks that bad configuration, whether the program or
// the library finds it, stops the start with one line naming the variable.
func TestConfigErrors(t *testing.T) {
	t.Parallel()
	files := testKeyFiles(t)
	secret := strings.Repeat("s", 32)
	tests := []struct {
		name string
		env  map[string]string
		want string // the variable the one-line error names
	}{
		{"secret of 31 bytes", map[string]string{"AUTH_SECRET": strings.Repeat("s", 31)}, "AUTH_SECRET"},
		{"short secret", map[string]string{"AUTH_SECRET": "short"}, "AUTH_SECRET"},
		{"unknown alg", map[string]string{"AUTH_ALG": "HS999"}, "AUTH_ALG"},
		{"alg none", map[string]string{"AUTH_ALG": "none"}, "AUTH_ALG"},
		{"alg in lower case", map[string]string{"AUTH_ALG": "hs256"}, "AUTH_ALG"},
		{"EdDSA in lower case", map[string]string{"AUTH_ALG": "eddsa"}, "AUTH_ALG"},
		{"alg the library has but the server does not take", map[string]string{"AUTH_ALG": "HS384"}, "AUTH_ALG"},
		{"PS256", map[string]string{"AUTH_ALG": "PS256"}, "AUTH_ALG"},
		{"unparsable access ttl", map[string]string{"AUTH_ACCESS_TTL": "soon"}, "AUTH_ACCESS_TTL"},
		{"access ttl without unit", map[string]string{"AUTH_ACCESS_TTL": "900"}, "AUTH_ACCESS_TTL"},
		{"zero access ttl", map[string]string{"AUTH_ACCESS_TTL": "0s"}, "AUTH_ACCESS_TTL"},
		{"negative access ttl", map[string]string{"AUTH_ACCESS_TTL": "-1m"}, "AUTH_ACCESS_TTL"},
		{"access ttl over a day", map[string]string{"AUTH_ACCESS_TTL": "48h"}, "AUTH_ACCESS_TTL"},
		{"unparsable refresh ttl", map[string]string{"AUTH_REFRESH_TTL": "1 week"}, "AUTH_REFRESH_TTL"},
		{"zero refresh ttl", map[string]string{"AUTH_REFRESH_TTL": "0"}, "AUTH_REFRESH_TTL"},
		{"refresh ttl past the session lifetime", map[string]string{"AUTH_REFRESH_TTL": "1000h"}, "AUTH_REFRESH_TTL"},
		{"unparsable reuse grace", map[string]string{"AUTH_REUSE_GRACE": "a bit"}, "AUTH_REUSE_GRACE"},
		{"negative reuse grace", map[string]string{"AUTH_REUSE_GRACE": "-1s"}, "AUTH_REUSE_GRACE"},
		{"reuse grace over five minutes", map[string]string{"AUTH_REUSE_GRACE": "1h"}, "AUTH_REUSE_GRACE"},
		{"login limit without window", map[string]string{"AUTH_LOGIN_LIMIT": "5"}, "AUTH_LOGIN_LIMIT"},
		{"login limit of zero", map[string]string{"AUTH_LOGIN_LIMIT": "0/1m"}, "AUTH_LOGIN_LIMIT"},
		{"login limit not a number", map[string]string{"AUTH_LOGIN_LIMIT": "x/1m"}, "AUTH_LOGIN_LIMIT"},
		{"login window not a duration", map[string]string{"AUTH_LOGIN_LIMIT": "5/abc"}, "AUTH_LOGIN_LIMIT"},
		{"login window of zero", map[string]string{"AUTH_LOGIN_LIMIT": "5/0s"}, "AUTH_LOGIN_LIMIT"},
		{"cookie secure not a boolean", map[string]string{"AUTH_COOKIE_SECURE": "maybe"}, "AUTH_COOKIE_SECURE"},
		{"cookie secure yes", map[string]string{"AUTH_COOKIE_SECURE": "yes"}, "AUTH_COOKIE_SECURE"},
		{"bcrypt cost too low", map[string]string{"AUTH_BCRYPT_COST": "4"}, "AUTH_BCRYPT_COST"},
		{"bcrypt cost too high", map[string]string{"AUTH_BCRYPT_COST": "32"}, "AUTH_BCRYPT_COST"},
		{"bcrypt cost not a number", map[string]string{"AUTH_BCRYPT_COST": "high"}, "AUTH_BCRYPT_COST"},
		{"unknown password hash", map[string]string{"AUTH_PASSWORD_HASH": "scrypt"}, "AUTH_PASSWORD_HASH"},
		{"password hash in upper case", map[string]string{"AUTH_PASSWORD_HASH": "Argon2id"}, "AUTH_PASSWORD_HASH"},
		{"password hash argon2i", map[string]string{"AUTH_PASSWORD_HASH": "argon2i"}, "AUTH_PASSWORD_HASH"},
		{"bcrypt cost too low under argon2id", map[string]string{"AUTH_PASSWORD_HASH": "argon2id", "AUTH_BCRYPT_COST": "9"}, "AUTH_BCRYPT_COST"},
		{"P-256 key file for RS256", map[string]string{"AUTH_ALG": "RS256", "AUTH_PRIVATE_KEY_FILE": files["p256"]}, "AUTH_PRIVATE_KEY_FILE"},
		{"P-384 key file for ES256", map[string]string{"AUTH_ALG": "ES256", "AUTH_PRIVATE_KEY_FILE": files["p384"]}, "AUTH_PRIVATE_KEY_FILE"},
		{"RSA key file for ES256", map[string]string{"AUTH_ALG": "ES256", "AUTH_PRIVATE_KEY_FILE": files["rsa"]}, "AUTH_PRIVATE_KEY_FILE"},
		{"RSA key file for EdDSA", map[string]string{"AUTH_ALG": "EdDSA", "AUTH_PRIVATE_KEY_FILE": files["rsa"]}, "AUTH_PRIVATE_KEY_FILE"},
		{"Ed25519 key file for ES256", map[string]string{"AUTH_ALG": "ES256", "AUTH_PRIVATE_KEY_FILE": files["ed25519"]}, "AUTH_PRIVATE_KEY_FILE"},
		{"public key file", map[string]string{"AUTH_ALG": "ES256", "AUTH_PRIVATE_KEY_FILE": files["public"]}, "AUTH_PRIVATE_KEY_FILE"},
		{"garbage key file", map[string]string{"AUTH_ALG": "ES256", "AUTH_PRIVATE_KEY_FILE": files["garbage"]}, "AUTH_PRIVATE_KEY_FILE"},
		{"missing key file", map[string]string{"AUTH_ALG": "EdDSA", "AUTH_PRIVATE_KEY_FILE": files["missing"]}, "AUTH_PRIVATE_KEY_FILE"},
		{"key file with HS256", map[string]string{"AUTH_PRIVATE_KEY_FILE": files["p256"]}, "AUTH_PRIVATE_KEY_FILE"},
		{"secret with RS256", map[string]string{"AUTH_ALG": "RS256", "AUTH_SECRET": secret}, "AUTH_SECRET"},
		{"admin email without password", map[string]string{"ADMIN_EMAIL": "root@example.com"}, "ADMIN_PASSWORD"},
		{"admin password without email", map[string]string{"ADMIN_PASSWORD": testPassword}, "ADMIN_EMAIL"},
		{"unparsable reset ttl", map[string]string{"AUTH_RESET_TTL": "soon"}, "AUTH_RESET_TTL"},
		{"reset ttl without unit", map[string]string{"AUTH_RESET_TTL": "1800"}, "AUTH_RESET_TTL"},
		{"zero reset ttl", map[string]string{"AUTH_RESET_TTL": "0s"}, "AUTH_RESET_TTL"},
		{"negative reset ttl", map[string]string{"AUTH_RESET_TTL": "-30m"}, "AUTH_RESET_TTL"},
		{"reset ttl over a day", map[string]string{"AUTH_RESET_TTL": "25h"}, "AUTH_RESET_TTL"},
		{"require verified email not a boolean", map[string]string{"AUTH_REQUIRE_VERIFIED_EMAIL": "maybe"}, "AUTH_REQUIRE_VERIFIED_EMAIL"},
		{"require verified email yes", map[string]string{"AUTH_REQUIRE_VERIFIED_EMAIL": "yes"}, "AUTH_REQUIRE_VERIFIED_EMAIL"},
		{"require verified email in upper case", map[string]string{"AUTH_REQUIRE_VERIFIED_EMAIL": "TRUE"}, "AUTH_REQUIRE_VERIFIED_EMAIL"},
		{"dev mailbox not a boolean", map[string]string{"AUTH_DEV_MAILBOX": "on", "AUTH_COOKIE_SECURE": "false"}, "AUTH_DEV_MAILBOX"},
		{"dev mailbox with secure cookies", map[string]string{"AUTH_DEV_MAILBOX": "true", "AUTH_COOKIE_SECURE": "true"}, "AUTH_DEV_MAILBOX"},
		{"dev mailbox with secure cookies as 1", map[string]string{"AUTH_DEV_MAILBOX": "1", "AUTH_COOKIE_SECURE": "1"}, "AUTH_DEV_MAILBOX"},
		{"dev mailbox with the default cookies", map[string]string{"AUTH_DEV_MAILBOX": "true"}, "AUTH_DEV_MAILBOX"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := start(tt.env)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("start(%v) = %v; want one line naming %s", tt.env, err, tt.want)
			}
		})
	}
}

// TestAdminErrors covers the account the server creates at start: a bad one
// stops it with one line naming the variables.
func TestAdminErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
	}{
		{"short admin password", map[string]string{"ADMIN_EMAIL": "root@example.com", "ADMIN_PASSWORD": "short"}},
		{"long admin password", map[string]string{"ADMIN_EMAIL": "root@example.com", "ADMIN_PASSWORD": strings.Repeat("p", 73)}},
		{"bad admin email", map[string]string{"ADMIN_EMAIL": "root", "ADMIN_PASSWORD": testPassword}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := loadConfig(envFrom(tt.env), quiet)
			if err == nil {
				cfg.BcryptCost = password.MinCost
				_, err = newServer(cfg, quiet)
			}
			if err == nil || !strings.Contains(err.Error(), "ADMIN_") || strings.Contains(err.Error(), "\n") {
				t.Errorf("start with %v = %v; want one line naming ADMIN_EMAIL or ADMIN_PASSWORD", tt.env, err)
			}
		})
	}
}

// TestConfigAccepts checks values that the configuration reads as given
// and that the server starts with, up to the longest lifetimes the library
// allows.
func TestConfigAccepts(t *testing.T) {
	t.Parallel()
	files := testKeyFiles(t)
	tests := []struct {
		name  string
		env   map[string]string
		check func(*config) bool
	}{
		{"defaults", nil, func(c *config) bool {
			return c.Addr == "127.0.0.1:8080" && c.Issuer == "auth-example" && c.Audience == "auth-example-api" &&
				c.AccessTTL == 15*time.Minute && c.RefreshTTL == 168*time.Hour && c.ReuseGrace == 0 &&
				c.LoginRate == authstore.Rate{Limit: 5, Window: 15 * time.Minute} && c.CookieSecure &&
				c.Keys.SigningKey().Algorithm() == auth.HS256
		}},
		{"secret of 32 bytes", map[string]string{"AUTH_SECRET": strings.Repeat("s", 32)}, nil},
		{"ES256 key file", map[string]string{"AUTH_ALG": "ES256", "AUTH_PRIVATE_KEY_FILE": files["p256"]}, func(c *config) bool {
			return c.Keys.SigningKey().Algorithm() == auth.ES256
		}},
		{"EdDSA key file", map[string]string{"AUTH_ALG": "EdDSA", "AUTH_PRIVATE_KEY_FILE": files["ed25519"]}, nil},
		{"RS256 key file", map[string]string{"AUTH_ALG": "RS256", "AUTH_PRIVATE_KEY_FILE": files["rsa"]}, nil},
		{"short lifetimes", map[string]string{"AUTH_ACCESS_TTL": "1s", "AUTH_REFRESH_TTL": "2s", "AUTH_REUSE_GRACE": "500ms"}, func(c *config) bool {
			return c.AccessTTL == time.Second && c.RefreshTTL == 2*time.Second && c.ReuseGrace == 500*time.Millisecond
		}},
		{"sub-second access ttl", map[string]string{"AUTH_ACCESS_TTL": "500ms"}, func(c *config) bool {
			return c.AccessTTL == 500*time.Millisecond // the library rounds it up to 1s
		}},
		{"access ttl with a fraction of a second", map[string]string{"AUTH_ACCESS_TTL": "1500ms"}, func(c *config) bool {
			return c.AccessTTL == 1500*time.Millisecond
		}},
		{"longest lifetimes", map[string]string{"AUTH_ACCESS_TTL": "24h", "AUTH_REFRESH_TTL": "720h", "AUTH_REUSE_GRACE": "5m"}, func(c *config) bool {
			return c.AccessTTL == 24*time.Hour && c.RefreshTTL == 720*time.Hour && c.ReuseGrace == 5*time.Minute
		}},
		{"bcrypt cost", map[string]string{"AUTH_BCRYPT_COST": "10"}, func(c *config) bool { return c.BcryptCost == 10 }},
		{"default password hash", nil, func(c *config) bool { return c.PasswordHash == "bcrypt" }},
		{"bcrypt password hash", map[string]string{"AUTH_PASSWORD_HASH": "bcrypt"}, func(c *config) bool { return c.PasswordHash == "bcrypt" }},
		{"argon2id password hash", map[string]string{"AUTH_PASSWORD_HASH": "argon2id", "AUTH_BCRYPT_COST": "11"}, func(c *config) bool {
			return c.PasswordHash == "argon2id" && c.BcryptCost == 11
		}},
		{"HS256 spelled out", map[string]string{"AUTH_ALG": "HS256"}, nil},
		{"login limit", map[string]string{"AUTH_LOGIN_LIMIT": "3/1m"}, func(c *config) bool {
			return c.LoginRate == authstore.Rate{Limit: 3, Window: time.Minute}
		}},
		{"insecure cookie", map[string]string{"AUTH_COOKIE_SECURE": "false"}, func(c *config) bool { return !c.CookieSecure }},
		{"insecure cookie as 0", map[string]string{"AUTH_COOKIE_SECURE": "0"}, func(c *config) bool { return !c.CookieSecure }},
		{"admin", map[string]string{"ADMIN_EMAIL": "root@example.com", "ADMIN_PASSWORD": testPassword}, func(c *config) bool {
			return c.AdminEmail == "root@example.com" && c.AdminPassword == testPassword
		}},
		{"account defaults", nil, func(c *config) bool {
			return c.ResetTTL == 30*time.Minute && !c.RequireVerifiedEmail && !c.DevMailbox
		}},
		{"short reset ttl", map[string]string{"AUTH_RESET_TTL": "2s"}, func(c *config) bool { return c.ResetTTL == 2*time.Second }},
		{"longest reset ttl", map[string]string{"AUTH_RESET_TTL": "24h"}, func(c *config) bool { return c.ResetTTL == 24*time.Hour }},
		{"require verified email", map[string]string{"AUTH_REQUIRE_VERIFIED_EMAIL": "true"}, func(c *config) bool { return c.RequireVerifiedEmail }},
		{"require verified email as 1", map[string]string{"AUTH_REQUIRE_VERIFIED_EMAIL": "1"}, func(c *config) bool { return c.RequireVerifiedEmail }},
		{"verified email not required", map[string]string{"AUTH_REQUIRE_VERIFIED_EMAIL": "false"}, func(c *config) bool { return !c.RequireVerifiedEmail }},
		{"dev mailbox", map[string]string{"AUTH_DEV_MAILBOX": "true", "AUTH_COOKIE_SECURE": "false"}, func(c *config) bool {
			return c.DevMailbox && !c.CookieSecure
		}},
		{"dev mailbox off with secure cookies", map[string]string{"AUTH_DEV_MAILBOX": "false", "AUTH_COOKIE_SECURE": "true"}, func(c *config) bool {
			return !c.DevMailbox && c.CookieSecure
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := loadConfig(envFrom(tt.env), quiet)
			if err != nil {
				t.Fatalf("loadConfig(%v) = %v; want nil", tt.env, err)
			}
			if tt.check != nil && !tt.check(c) {
				t.Errorf("loadConfig(%v) = %+v; want the values set", tt.env, c)
			}
			c.BcryptCost = password.MinCost // the admin account hashes quickly
			if _, err := newServer(c, quiet); err != nil {
				t.Errorf("newServer(loadConfig(%v)) = %v; want nil", tt.env, err)
			}
		})
	}
}

// startOnUsers is newTestServer on the account store users, so that two
// servers of different configurations can share the accounts.
func startOnUsers(tb testing.TB, env map[string]string, users refserver.UserStore) *testServer {
	tb.Helper()
	full := map[string]string{"AUTH_COOKIE_SECURE": "false"}
	maps.Copy(full, env)
	cfg, err := loadConfig(envFrom(full), quiet)
	if err != nil {
		tb.Fatalf("loadConfig(%v) = %v; want nil", full, err)
	}
	cfg.BcryptCost = password.MinCost
	s, err := refserver.New(context.Background(), cfg, quiet, refserver.Backend{Users: users})
	if err != nil {
		tb.Fatalf("refserver.New(%v) = %v; want nil", full, err)
	}
	hs := httptest.NewServer(s)
	tb.Cleanup(hs.Close)
	return &testServer{Server: hs, cfg: cfg}
}

// storedHash returns the password hash users keeps for email.
func storedHash(tb testing.TB, users refserver.UserStore, email string) string {
	tb.Helper()
	creds, err := users.Credentials(context.Background(), email)
	if err != nil {
		tb.Fatalf("Credentials(%q) = %v; want nil", email, err)
	}
	return string(creds.Hash)
}

// TestPasswordHashArgon2id: a server started with AUTH_PASSWORD_HASH=argon2id
// registers and logs in with Argon2id hashes, and an account registered
// under bcrypt logs in all the same and has its hash replaced by an
// Argon2id one at that login.
func TestPasswordHashArgon2id(t *testing.T) {
	t.Parallel()
	users := refserver.NewMemoryUsers()
	argon := startOnUsers(t, map[string]string{"AUTH_PASSWORD_HASH": "argon2id"}, users)

	argon.client(t).register("new@example.com")
	if h := storedHash(t, users, "new@example.com"); !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash after register under argon2id = %q; want $argon2id$v=19$m=19456,t=2,p=1$...", h)
	}
	argon.client(t).login("new@example.com")

	// An account of the bcrypt days, registered by a server of that policy.
	startOnUsers(t, map[string]string{"AUTH_PASSWORD_HASH": "bcrypt"}, users).client(t).register("old@example.com")
	if h := storedHash(t, users, "old@example.com"); !strings.HasPrefix(h, "$2a$10$") {
		t.Fatalf("hash after register under bcrypt = %q; want $2a$10$...", h)
	}
	c := argon.client(t)
	if r := c.post("/api/auth/login", credentials("old@example.com", "wrong horse battery")); r.status != 401 {
		t.Errorf("login with a wrong password = %v; want 401", r)
	}
	if h := storedHash(t, users, "old@example.com"); !strings.HasPrefix(h, "$2a$10$") {
		t.Errorf("hash after a failed login = %q; want the bcrypt hash kept", h)
	}
	c.login("old@example.com")
	if h := storedHash(t, users, "old@example.com"); !strings.HasPrefix(h, "$argon2id$") {
		t.Errorf("hash after login under argon2id = %q; want it re-hashed to $argon2id$", h)
	}
	argon.client(t).login("old@example.com") // the new hash verifies
}

// TestDevMailboxWarning: AUTH_DEV_MAILBOX=true logs a warning that names
// the variable and the route; without it nothing mentions the mailbox.
func TestDevMailboxWarning(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		env  map[string]string
		warn bool
	}{
		{map[string]string{"AUTH_DEV_MAILBOX": "true", "AUTH_COOKIE_SECURE": "false"}, true},
		{map[string]string{"AUTH_DEV_MAILBOX": "1", "AUTH_COOKIE_SECURE": "false"}, true},
		{map[string]string{"AUTH_DEV_MAILBOX": "false", "AUTH_COOKIE_SECURE": "false"}, false},
		{map[string]string{"AUTH_COOKIE_SECURE": "false"}, false},
	} {
		logs := &testenv.SyncBuffer{}
		if _, err := loadConfig(envFrom(tt.env), slog.New(slog.NewTextHandler(logs, nil))); err != nil {
			t.Fatalf("loadConfig(%v) = %v; want nil", tt.env, err)
		}
		var warning string
		for _, line := range strings.Split(logs.String(), "\n") {
			if strings.Contains(line, "AUTH_DEV_MAILBOX") || strings.Contains(line, "/api/dev/mailbox") {
				warning = line
			}
		}
		switch {
		case tt.warn && (!strings.Contains(warning, "level=WARN") || !strings.Contains(warning, "AUTH_DEV_MAILBOX") || !strings.Contains(warning, "/api/dev/mailbox")):
			t.Errorf("loadConfig(%v) logged %q; want a warning naming AUTH_DEV_MAILBOX and /api/dev/mailbox", tt.env, logs)
		case !tt.warn && warning != "":
			t.Errorf("loadConfig(%v) logged %q; want no word of the mailbox", tt.env, warning)
		}
	}
}
