package account

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"time"

	"github.com/jwtkit/auth/audit"
	"github.com/jwtkit/auth/authstore"
	"github.com/jwtkit/auth/password"
)

// Option configures a [Manager] in [New]. Each refuses a value out of its
// range with an error matching auth.ErrConfig that names it.
type Option func(*config) error

type config struct {
	mailer            Mailer
	passwords         password.Hasher
	store             authstore.OneTimeStore
	throttle          authstore.Throttle
	resetURL          *url.URL
	verifyURL         *url.URL
	resetTTL          time.Duration
	verifyTTL         time.Duration
	now               func() time.Time
	random            io.Reader
	logger            *slog.Logger
	events            func(context.Context, audit.Event)
	maxForgotPadding  time.Duration
	throttleSet, link bool
}

// Default lifetimes of the links.
const (
	// DefaultResetTTL is how long a reset link works unless
	// [WithResetTTL] says otherwise.
	DefaultResetTTL = 30 * time.Minute
	// DefaultVerifyTTL is how long a verification link works unless
	// [WithVerifyTTL] says otherwise.
	DefaultVerifyTTL = 48 * time.Hour
)

// Bounds of the options.
const (
	maxResetTTL  = 24 * time.Hour
	maxVerifyTTL = 30 * 24 * time.Hour
)

// WithMailer sets the mailer that sends the links. Required.
func WithMailer(m Mailer) Option {
	return func(c *config) error {
		if m == nil {
			return configError("WithMailer", "nil mailer")
		}
		c.mailer = m
		return nil
	}
}

// WithPasswords sets the password policy: give it the one given to
// auth.WithPasswords, so that a reset or changed password is hashed and
// checked as a login checks it. Required.
func WithPasswords(h password.Hasher) Option {
	return func(c *config) error {
		if h == nil {
			return configError("WithPasswords", "nil hasher")
		}
		c.passwords = h
		return nil
	}
}

// WithLinks sets the pages the links of the messages open: reset for a
// password reset, verify for an e-mail verification, each an absolute
// http or https URL to which the token is added as the "token" query
// parameter. Required.
func WithLinks(reset, verify string) Option {
	return func(c *config) error {
		var err error
		if c.resetURL, err = parseLink(reset); err != nil {
			return configError("WithLinks", "reset: %v", err)
		}
		if c.verifyURL, err = parseLink(verify); err != nil {
			return configError("WithLinks", "verify: %v", err)
		}
		c.link = true
		return nil
	}
}

func parseLink(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Fragment != "" {
		return nil, errNotALink
	}
	if u.Query().Has("token") {
		return nil, errTokenInLink
	}
	return u, nil
}

// WithStore sets the store of the single-use tokens. Default a new
// in-memory store of this process (memstore); instances behind a load
// balancer need a shared one, such as the sqlstore or redisstore Store
// they already use for sessions.
func WithStore(s authstore.OneTimeStore) Option {
	return func(c *config) error {
		if s == nil {
			return configError("WithStore", "nil store")
		}
		c.store = s
		return nil
	}
}

// WithThrottle sets the throttle of password-reset requests (per address
// and per client address) and of password changes (per user). Default an
// in-memory throttle of 5 per 15 minutes of this process; give it the
// store given to auth.WithLoginThrottle to throttle them at the login's
// rate, across every instance that shares it.
func WithThrottle(t authstore.Throttle) Option {
	return func(c *config) error {
		if t == nil {
			return configError("WithThrottle", "nil throttle")
		}
		c.throttle, c.throttleSet = t, true
		return nil
	}
}

// WithResetTTL sets how long a reset link works. Default
// [DefaultResetTTL] (30 minutes); at most 24 hours.
func WithResetTTL(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 || d > maxResetTTL {
			return configError("WithResetTTL", "%v is not in (0, %v]", d, maxResetTTL)
		}
		c.resetTTL = d
		return nil
	}
}

// WithVerifyTTL sets how long a verification link works. Default
// [DefaultVerifyTTL] (48 hours); at most 30 days.
func WithVerifyTTL(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 || d > maxVerifyTTL {
			return configError("WithVerifyTTL", "%v is not in (0, %v]", d, maxVerifyTTL)
		}
		c.verifyTTL = d
		return nil
	}
}

// WithClock sets the clock of link lifetimes and throttling. Default
// time.Now.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return configError("WithClock", "nil clock")
		}
		c.now = now
		return nil
	}
}

// WithRandom sets the source of the tokens' randomness. Default
// crypto/rand.Reader; only tests need another.
func WithRandom(r io.Reader) Option {
	return func(c *config) error {
		if r == nil {
			return configError("WithRandom", "nil reader")
		}
		c.random = r
		return nil
	}
}

// WithLogger sets the logger of failures that do not change an answer (a
// mailer's error, say). Default none. No log line holds a token, a link or
// a password.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return configError("WithLogger", "nil logger")
		}
		c.logger = l
		return nil
	}
}

// WithEvents sets the receiver of the flows' audit events
// (audit.ResetRequested, PasswordReset, PasswordChanged, EmailVerified),
// called in the goroutine of the request. Default none.
func WithEvents(f func(context.Context, audit.Event)) Option {
	return func(c *config) error {
		if f == nil {
			return configError("WithEvents", "nil function")
		}
		c.events = f
		return nil
	}
}
