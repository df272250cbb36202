package refserver

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/account"
	"github.com/jwtkit/auth/authstore"
	"github.com/jwtkit/auth/password"
)

// The defaults of the contract for the lifetimes, which are also the
// library's own.
const (
	defaultAccessTTL  = 15 * time.Minute
	defaultRefreshTTL = 168 * time.Hour
)

// Config is the server's configuration, read from the environment by
// [LoadConfig]. LoadConfig checks the form of each value; [New] checks the
// ranges, which the library's constructors enforce (an access token lives
// at most a day, a refresh token at most the 30 days of its session, the
// reuse grace is at most 5 minutes, the bcrypt cost is 10 to 31, the
// password hash bcrypt or argon2id).
type Config struct {
	Addr     string       // ADDR
	Keys     *auth.KeySet // AUTH_ALG with AUTH_SECRET or AUTH_PRIVATE_KEY_FILE
	Issuer   string       // AUTH_ISSUER
	Audience string       // AUTH_AUDIENCE
	// AccessTTL is AUTH_ACCESS_TTL; tokens carry whole seconds, so the
	// library rounds it up to one (a shorter positive value lives 1s).
	AccessTTL     time.Duration
	RefreshTTL    time.Duration  // AUTH_REFRESH_TTL
	ReuseGrace    time.Duration  // AUTH_REUSE_GRACE
	LoginRate     authstore.Rate // AUTH_LOGIN_LIMIT
	RegisterRate  authstore.Rate // AUTH_REGISTER_LIMIT
	RefreshRate   authstore.Rate // AUTH_REFRESH_LIMIT
	CookieSecure  bool           // AUTH_COOKIE_SECURE
	AdminEmail    string         // ADMIN_EMAIL
	AdminPassword string         // ADMIN_PASSWORD
	BcryptCost    int            // AUTH_BCRYPT_COST
	// PasswordHash is AUTH_PASSWORD_HASH, the format of new password
	// hashes: "bcrypt" (the default) or "argon2id". Hashes of the other
	// format still verify, and are replaced at the next login.
	PasswordHash string
	// ResetTTL is AUTH_RESET_TTL, the lifetime of a password-reset link.
	ResetTTL time.Duration
	// RequireVerifiedEmail is AUTH_REQUIRE_VERIFIED_EMAIL: login of an
	// account whose address is not verified answers 403
	// EMAIL_NOT_VERIFIED, once the password matched.
	RequireVerifiedEmail bool
	// DevMailbox is AUTH_DEV_MAILBOX: outgoing mail is also kept in
	// memory and served at GET /api/dev/mailbox. Refused together with
	// AUTH_COOKIE_SECURE=true.
	DevMailbox bool
}

// algorithms are the values of AUTH_ALG, spelled exactly so.
var algorithms = []auth.Algorithm{auth.HS256, auth.RS256, auth.ES256, auth.EdDSA}

// passwordHashes are the values of AUTH_PASSWORD_HASH, spelled exactly so.
var passwordHashes = []string{"bcrypt", "argon2id"}

// LoadConfig reads the configuration from getenv. Every error is one line
// that names the variable at fault; nothing falls back silently. Missing
// keys are generated for this run, with a warning on logger.
func LoadConfig(getenv func(string) string, logger *slog.Logger) (*Config, error) {
	c := &Config{
		Addr:          EnvOr(getenv, "ADDR", "127.0.0.1:8080"),
		Issuer:        EnvOr(getenv, "AUTH_ISSUER", "auth-example"),
		Audience:      EnvOr(getenv, "AUTH_AUDIENCE", "auth-example-api"),
		AdminEmail:    getenv("ADMIN_EMAIL"),
		AdminPassword: getenv("ADMIN_PASSWORD"),
		BcryptCost:    password.DefaultCost,
		PasswordHash:  EnvOr(getenv, "AUTH_PASSWORD_HASH", "bcrypt"),
	}
	var err error
	if (c.AdminEmail == "") != (c.AdminPassword == "") {
		return nil, fmt.Errorf("ADMIN_EMAIL and ADMIN_PASSWORD: set both or neither")
	}
	if c.AccessTTL, err = envDuration(getenv, "AUTH_ACCESS_TTL", defaultAccessTTL); err != nil {
		return nil, err
	}
	if c.RefreshTTL, err = envDuration(getenv, "AUTH_REFRESH_TTL", defaultRefreshTTL); err != nil {
		return nil, err
	}
	if v := getenv("AUTH_REUSE_GRACE"); v != "" {
		if c.ReuseGrace, err = time.ParseDuration(v); err != nil || c.ReuseGrace < 0 {
			return nil, fmt.Errorf("AUTH_REUSE_GRACE: %q is not a Go duration of zero or more", v)
		}
	}
	if c.LoginRate, err = parseRate(EnvOr(getenv, "AUTH_LOGIN_LIMIT", "5/15m")); err != nil {
		return nil, fmt.Errorf("AUTH_LOGIN_LIMIT: %w", err)
	}
	if c.RegisterRate, err = parseRate(EnvOr(getenv, "AUTH_REGISTER_LIMIT", "20/15m")); err != nil {
		return nil, fmt.Errorf("AUTH_REGISTER_LIMIT: %w", err)
	}
	if c.RefreshRate, err = parseRate(EnvOr(getenv, "AUTH_REFRESH_LIMIT", "120/1m")); err != nil {
		return nil, fmt.Errorf("AUTH_REFRESH_LIMIT: %w", err)
	}
	if c.CookieSecure, err = envBool(getenv, "AUTH_COOKIE_SECURE", true); err != nil {
		return nil, err
	}
	if !c.CookieSecure {
		logger.Warn("AUTH_COOKIE_SECURE=false: the refresh cookie is sent over plain HTTP; use it only for development")
	}
	if v := getenv("AUTH_BCRYPT_COST"); v != "" {
		if c.BcryptCost, err = strconv.Atoi(v); err != nil {
			return nil, fmt.Errorf("AUTH_BCRYPT_COST: %q is not a number", v)
		}
	}
	if c.ResetTTL, err = envDuration(getenv, "AUTH_RESET_TTL", account.DefaultResetTTL); err != nil {
		return nil, err
	}
	if c.RequireVerifiedEmail, err = envBool(getenv, "AUTH_REQUIRE_VERIFIED_EMAIL", false); err != nil {
		return nil, err
	}
	if c.DevMailbox, err = envBool(getenv, "AUTH_DEV_MAILBOX", false); err != nil {
		return nil, err
	}
	if c.DevMailbox {
		if c.CookieSecure {
			return nil, errors.New("AUTH_DEV_MAILBOX: refused together with AUTH_COOKIE_SECURE=true: the mailbox serves every reset link to anyone, for development only")
		}
		logger.Warn("AUTH_DEV_MAILBOX=true: EVERY OUTGOING MESSAGE, RESET LINKS INCLUDED, IS SERVED TO ANYONE AT GET /api/dev/mailbox; NEVER USE IT OUTSIDE DEVELOPMENT")
	}
	if !slices.Contains(passwordHashes, c.PasswordHash) {
		return nil, fmt.Errorf("AUTH_PASSWORD_HASH: %q is not bcrypt or argon2id", c.PasswordHash)
	}
	alg := auth.Algorithm(EnvOr(getenv, "AUTH_ALG", string(auth.HS256)))
	if !slices.Contains(algorithms, alg) {
		return nil, fmt.Errorf("AUTH_ALG: %q is not HS256, RS256, ES256 or EdDSA", string(alg))
	}
	if c.Keys, err = loadKeys(getenv, alg, logger); err != nil {
		return nil, err
	}
	return c, nil
}

// loadKeys returns the key set of the one signing key that AUTH_SECRET or
// AUTH_PRIVATE_KEY_FILE gives for alg, or of a key generated for this run.
func loadKeys(getenv func(string) string, alg auth.Algorithm, logger *slog.Logger) (*auth.KeySet, error) {
	var (
		key *auth.Key
		err error
		// from is the variable that gave the key.
		from string
	)
	switch alg {
	case auth.HS256:
		if getenv("AUTH_PRIVATE_KEY_FILE") != "" {
			return nil, fmt.Errorf("AUTH_PRIVATE_KEY_FILE is set but AUTH_ALG=%s takes AUTH_SECRET", alg)
		}
		from = "AUTH_SECRET"
		if secret := getenv("AUTH_SECRET"); secret != "" {
			key, err = auth.NewHMACKey(alg, []byte(secret))
		} else {
			logger.Warn("AUTH_SECRET is not set: using a random secret; tokens will not survive a restart or verify on another instance")
			key, err = auth.GenerateKey(nil, alg)
		}
	default:
		if getenv("AUTH_SECRET") != "" {
			return nil, fmt.Errorf("AUTH_SECRET is set but AUTH_ALG=%s takes AUTH_PRIVATE_KEY_FILE", alg)
		}
		from = "AUTH_PRIVATE_KEY_FILE"
		if path := getenv("AUTH_PRIVATE_KEY_FILE"); path != "" {
			var pemBytes []byte
			if pemBytes, err = os.ReadFile(path); err == nil {
				key, err = auth.ParseKeyPEM(alg, pemBytes)
			}
		} else {
			logger.Warn("AUTH_PRIVATE_KEY_FILE is not set: using a key generated for this run; tokens will not survive a restart", "alg", string(alg))
			key, err = auth.GenerateKey(nil, alg)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", from, err)
	}
	// A public key parses into a verify-only key, which cannot sign: the
	// key set refuses it.
	keys, err := auth.NewKeySet(key)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", from, err)
	}
	return keys, nil
}

// parseRate parses N/DURATION, such as 5/15m.
func parseRate(s string) (authstore.Rate, error) {
	n, d, ok := strings.Cut(s, "/")
	limit, err := strconv.Atoi(n)
	if !ok || err != nil || limit < 1 {
		return authstore.Rate{}, fmt.Errorf("%q is not N/DURATION with N at least 1", s)
	}
	window, err := time.ParseDuration(d)
	if err != nil || window <= 0 {
		return authstore.Rate{}, fmt.Errorf("%q is not N/DURATION with a positive duration", s)
	}
	r := authstore.Rate{Limit: limit, Window: window}
	if err := r.Validate(); err != nil {
		return authstore.Rate{}, fmt.Errorf("%q: %w", s, err)
	}
	return r, nil
}

// EnvOr returns the variable name, or def when it is unset or empty.
func EnvOr(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}

// envBool reads true or false (or 1 or 0).
func envBool(getenv func(string) string, name string, def bool) (bool, error) {
	switch v := getenv(name); v {
	case "":
		return def, nil
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	default:
		return false, fmt.Errorf("%s: %q is not true or false", name, v)
	}
}

// envDuration reads a positive duration; [New] checks its upper bound.
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

// optionVars names the environment variable behind each option of
// [auth.New] that the configuration sets. auth.New refuses a value out of
// range with an error matching [auth.ErrConfig] that names the option.
var optionVars = []struct{ option, env string }{
	{"WithKeys", "AUTH_ALG"},
	{"WithIssuer", "AUTH_ISSUER"},
	{"WithAudience", "AUTH_AUDIENCE"},
	{"WithAccessTTL", "AUTH_ACCESS_TTL"},
	{"WithRefreshTTL", "AUTH_REFRESH_TTL"},
	{"WithReuseGrace", "AUTH_REUSE_GRACE"},
	{"WithPasswords", "AUTH_BCRYPT_COST"},
	{"WithLoginThrottle", "AUTH_LOGIN_LIMIT"},
	{"WithRefreshThrottle", "AUTH_REFRESH_LIMIT"},
	{"WithResetTTL", "AUTH_RESET_TTL"},
}

// blame prefixes a configuration error of [auth.New] with the environment
// variable of the option it names.
func blame(err error) error {
	if !errors.Is(err, auth.ErrConfig) {
		return err
	}
	for _, ov := range optionVars {
		if strings.Contains(err.Error(), ov.option+":") {
			return fmt.Errorf("%s: %w", ov.env, err)
		}
	}
	return err
}
