package refserver

import (
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jwtkit/auth"
)

// Config is the server's configuration, read from the environment by
// [LoadConfig].
type Config struct {
	Addr          string        // ADDR
	Keys          *auth.KeySet  // AUTH_ALG with AUTH_SECRET or AUTH_PRIVATE_KEY_FILE
	Issuer        string        // AUTH_ISSUER
	Audience      string        // AUTH_AUDIENCE
	AccessTTL     time.Duration // AUTH_ACCESS_TTL
	RefreshTTL    time.Duration // AUTH_REFRESH_TTL
	ReuseGrace    time.Duration // AUTH_REUSE_GRACE
	LoginRate     auth.Rate     // AUTH_LOGIN_LIMIT
	CookieSecure  bool          // AUTH_COOKIE_SECURE
	AdminEmail    string        // ADMIN_EMAIL
	AdminPassword string        // ADMIN_PASSWORD
	BcryptCost    int           // AUTH_BCRYPT_COST
}

// LoadConfig reads the configuration from getenv. Every error is one line
// that names the variable at fault; nothing falls back silently.
func LoadConfig(getenv func(string) string, logger *slog.Logger) (*Config, error) {
	c := &Config{
		Addr:          EnvOr(getenv, "ADDR", "127.0.0.1:8080"),
		Issuer:        EnvOr(getenv, "AUTH_ISSUER", "auth-example"),
		Audience:      EnvOr(getenv, "AUTH_AUDIENCE", "auth-example-api"),
		AdminEmail:    getenv("ADMIN_EMAIL"),
		AdminPassword: getenv("ADMIN_PASSWORD"),
		BcryptCost:    12,
	}
	var err error
	if (c.AdminEmail == "") != (c.AdminPassword == "") {
		return nil, fmt.Errorf("ADMIN_EMAIL and ADMIN_PASSWORD: set both or neither")
	}
	if c.AccessTTL, err = envDuration(getenv, "AUTH_ACCESS_TTL", auth.DefaultAccessTTL, auth.MaxAccessTTL); err != nil {
		return nil, err
	}
	if c.RefreshTTL, err = envDuration(getenv, "AUTH_REFRESH_TTL", auth.DefaultRefreshTTL, auth.DefaultFamilyTTL); err != nil {
		return nil, err
	}
	if v := getenv("AUTH_REUSE_GRACE"); v != "" {
		if c.ReuseGrace, err = time.ParseDuration(v); err != nil || c.ReuseGrace < 0 || c.ReuseGrace > auth.MaxReuseGrace {
			return nil, fmt.Errorf("AUTH_REUSE_GRACE: %q is not a Go duration from 0 to %v", v, auth.MaxReuseGrace)
		}
	}
	if c.LoginRate, err = parseRate(EnvOr(getenv, "AUTH_LOGIN_LIMIT", "5/15m")); err != nil {
		return nil, fmt.Errorf("AUTH_LOGIN_LIMIT: %w", err)
	}
	switch v := EnvOr(getenv, "AUTH_COOKIE_SECURE", "true"); v {
	case "true", "1":
		c.CookieSecure = true
	case "false", "0":
		logger.Warn("AUTH_COOKIE_SECURE=false: the refresh cookie is sent over plain HTTP; use it only for development")
	default:
		return nil, fmt.Errorf("AUTH_COOKIE_SECURE: %q is not true or false", v)
	}
	if v := getenv("AUTH_BCRYPT_COST"); v != "" {
		if c.BcryptCost, err = strconv.Atoi(v); err != nil || c.BcryptCost < auth.MinBcryptCost || c.BcryptCost > 31 {
			return nil, fmt.Errorf("AUTH_BCRYPT_COST: %q is not a cost from %d to 31", v, auth.MinBcryptCost)
		}
	}
	alg, err := auth.ParseAlgorithm(EnvOr(getenv, "AUTH_ALG", "HS256"))
	if err != nil {
		return nil, fmt.Errorf("AUTH_ALG: %w (want HS256, RS256, ES256 or EdDSA)", err)
	}
	key, err := loadKey(getenv, alg, logger)
	if err != nil {
		return nil, err
	}
	if c.Keys, err = auth.NewKeySet(key); err != nil {
		return nil, err
	}
	return c, nil
}

func loadKey(getenv func(string) string, alg auth.Algorithm, logger *slog.Logger) (*auth.Key, error) {
	switch alg {
	case auth.HS256, auth.HS384, auth.HS512:
		if getenv("AUTH_PRIVATE_KEY_FILE") != "" {
			return nil, fmt.Errorf("AUTH_PRIVATE_KEY_FILE is set but AUTH_ALG=%s takes AUTH_SECRET", alg)
		}
		secret := getenv("AUTH_SECRET")
		if secret == "" {
			logger.Warn("AUTH_SECRET is not set: using a random secret; tokens will not survive a restart or verify on another instance")
			return auth.GenerateKey(rand.Reader, alg)
		}
		k, err := auth.NewHMACKey(alg, []byte(secret))
		if err != nil {
			return nil, fmt.Errorf("AUTH_SECRET: %w", err)
		}
		return k, nil
	default:
		if getenv("AUTH_SECRET") != "" {
			return nil, fmt.Errorf("AUTH_SECRET is set but AUTH_ALG=%s takes AUTH_PRIVATE_KEY_FILE", alg)
		}
		path := getenv("AUTH_PRIVATE_KEY_FILE")
		if path == "" {
			logger.Warn("AUTH_PRIVATE_KEY_FILE is not set: using a key generated for this run; tokens will not survive a restart", "alg", string(alg))
			return auth.GenerateKey(rand.Reader, alg)
		}
		pemBytes, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("AUTH_PRIVATE_KEY_FILE: %w", err)
		}
		k, err := auth.ParsePrivateKeyPEM(alg, pemBytes)
		if err != nil {
			return nil, fmt.Errorf("AUTH_PRIVATE_KEY_FILE: %w", err)
		}
		return k, nil
	}
}

// parseRate parses N/DURATION, such as 5/15m.
func parseRate(s string) (auth.Rate, error) {
	n, d, ok := strings.Cut(s, "/")
	limit, err := strconv.Atoi(n)
	if !ok || err != nil || limit < 1 {
		return auth.Rate{}, fmt.Errorf("%q is not N/DURATION with N at least 1", s)
	}
	window, err := time.ParseDuration(d)
	if err != nil || window <= 0 {
		return auth.Rate{}, fmt.Errorf("%q is not N/DURATION with a positive duration", s)
	}
	return auth.Rate{Limit: limit, Window: window}, nil
}

// EnvOr returns the variable name, or def when it is unset or empty.
func EnvOr(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}

// envDuration reads a positive duration of at most limit.
func envDuration(getenv func(string) string, name string, def, limit time.Duration) (time.Duration, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 || d > limit {
		return 0, fmt.Errorf("%s: %q is not a positive Go duration of at most %v", name, v, limit)
	}
	return d, nil
}
