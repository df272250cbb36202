package client

import (
	"fmt"
	"net/http"
	"time"

	"github.com/jwtkit/auth"
)

// Defaults of a [Client].
const (
	// defaultTimeout bounds each request of the default HTTP client.
	defaultTimeout = 30 * time.Second
	// defaultRefreshTimeout bounds one refresh.
	defaultRefreshTimeout = 15 * time.Second
	// maxDefaultMargin caps the default refresh margin, a tenth of the
	// access token's lifetime.
	maxDefaultMargin = 30 * time.Second
)

// Option configures a [Client] in [New]. An option given a value out of
// its documented range makes New fail with an error matching
// auth.ErrConfig that names the option.
type Option func(*config) error

type config struct {
	httpClient *http.Client
	jar        http.CookieJar // nil: the refresh token travels in bodies
	store      TokenStore     // nil until New sets the default
	// margin is the refresh margin, or negative for the default.
	margin         time.Duration
	refreshTimeout time.Duration
	now            func() time.Time
}

func configError(option, format string, args ...any) error {
	return fmt.Errorf("client: %w: %s: %s", auth.ErrConfig, option, fmt.Sprintf(format, args...))
}

// WithHTTPClient sets the HTTP client of the routes under /api/auth
// (login, register, refresh, logout, logout-all), and its Transport is the
// default base of [Client.Transport]. The client is copied: it never
// follows a redirect (a redirect is a failed call, so that neither a
// password nor a refresh token is sent anywhere else), and its Jar is
// replaced by the jar of [WithCookieJar], or by none. Default: a client
// with a 30-second timeout on [http.DefaultTransport].
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return configError("WithHTTPClient", "nil client")
		}
		c.httpClient = hc
		return nil
	}
}

// WithCookieJar makes the refresh token travel in the server's refresh
// cookie, kept by jar, instead of in JSON bodies; a [TokenStore] then has
// nothing to keep, and [WithTokenStore] is refused. A jar that outlives
// the process (one that saves its cookies) keeps the session across runs.
// Default: no jar; the refresh token travels in bodies.
func WithCookieJar(jar http.CookieJar) Option {
	return func(c *config) error {
		if jar == nil {
			return configError("WithCookieJar", "nil jar")
		}
		c.jar = jar
		return nil
	}
}

// WithTokenStore sets the store of the session's refresh token: it is
// loaded when the client needs a refresh token it does not hold, saved
// after every sign-in and rotation, and cleared when the session ends.
// Default: a new [MemoryStore], so the session ends with the process.
func WithTokenStore(s TokenStore) Option {
	return func(c *config) error {
		if s == nil {
			return configError("WithTokenStore", "nil store")
		}
		c.store = s
		return nil
	}
}

// WithRefreshMargin sets how long before its expiry an access token is
// refreshed; a token is kept for at least half its lifetime, whatever d
// says. 0 refreshes only once the token has expired. Default: a tenth of
// the token's lifetime, at most 30 seconds. d must not be negative.
func WithRefreshMargin(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return configError("WithRefreshMargin", "%v is negative", d)
		}
		c.margin = d
		return nil
	}
}

// WithRefreshTimeout bounds one refresh, which runs detached from the
// callers that wait for it. Default 15 seconds; d must be positive.
func WithRefreshTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return configError("WithRefreshTimeout", "%v is not positive", d)
		}
		c.refreshTimeout = d
		return nil
	}
}

// WithClock sets the clock that judges the access token's expiry: the
// token expires its lifetime ("expiresIn") after the request that obtained
// it was sent, by this clock. Default [time.Now].
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return configError("WithClock", "nil clock")
		}
		c.now = now
		return nil
	}
}
