package main

import (
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/jwtkit/auth"
)

// config is the server's configuration, read from the environment.
type config struct {
	addr          string
	keys          *auth.KeySet
	issuer        string
	audience      string
	accessTTL     time.Duration
	adminEmail    string
	adminPassword string
	bcryptCost    int
}

// loadConfig reads the environment. Every error is one line that names the
// variable at fault; nothing falls back silently.
func loadConfig(getenv func(string) string, logger *slog.Logger) (*config, error) {
	c := &config{
		addr:          envOr(getenv, "ADDR", "127.0.0.1:8080"),
		issuer:        envOr(getenv, "AUTH_ISSUER", "auth-example"),
		audience:      envOr(getenv, "AUTH_AUDIENCE", "auth-example-api"),
		adminEmail:    getenv("ADMIN_EMAIL"),
		adminPassword: getenv("ADMIN_PASSWORD"),
		bcryptCost:    12,
	}
	var err error
	if c.accessTTL, err = envDuration(getenv, "AUTH_ACCESS_TTL", 15*time.Minute); err != nil {
		return nil, err
	}
	alg, err := auth.ParseAlgorithm(envOr(getenv, "AUTH_ALG", "HS256"))
	if err != nil {
		return nil, fmt.Errorf("AUTH_ALG: %w (want HS256, RS256, ES256 or EdDSA)", err)
	}
	key, err := loadKey(getenv, alg, logger)
	if err != nil {
		return nil, err
	}
	if c.keys, err = auth.NewKeySet(key); err != nil {
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

func envOr(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}

func envDuration(getenv func(string) string, name string, def time.Duration) (time.Duration, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s: %q is not a positive Go duration", name, v)
	}
	return d, nil
}
