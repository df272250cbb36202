package auth

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"time"
)

// Limits on configuration values.
const (
	// DefaultAccessTTL is the default access token lifetime.
	DefaultAccessTTL = 15 * time.Minute
	// MaxAccessTTL is the longest access token lifetime accepted.
	MaxAccessTTL = 24 * time.Hour
	// MaxLeeway is the largest clock-skew leeway accepted.
	MaxLeeway = 5 * time.Minute
	// DefaultMaxTokenSize is the default size cap on a received token.
	DefaultMaxTokenSize = 8 << 10
	// maxMaxTokenSize bounds WithMaxTokenSize.
	maxMaxTokenSize = 64 << 10
	// minMaxTokenSize bounds WithMaxTokenSize from below.
	minMaxTokenSize = 256
)

// Option configures an [Auth] in [New].
type Option func(*config)

// ErrorHandler writes the response for a request the middleware refuses. err
// matches one of [ErrNoToken], [ErrInvalidToken] (with its precise
// sentinels), [ErrForbidden] or [ErrUnavailable].
type ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

type config struct {
	keys         KeySource
	keySet       *KeySet // non-nil when keys can sign
	issuer       string
	audience     string
	accessTTL    time.Duration
	leeway       time.Duration
	maxTokenSize int
	now          func() time.Time
	random       io.Reader
	revocation   RevocationChecker
	errorHandler ErrorHandler
	cookieName   string
	logger       *slog.Logger

	refreshStore RefreshStore
	refreshTTL   time.Duration
	familyTTL    time.Duration
	reuseGrace   time.Duration
	claimsLoader ClaimsLoader
	events       func(context.Context, Event)

	passwords      *Passwords
	credentials    CredentialStore
	loginThrottle  Throttle
	trustedProxies []netip.Prefix
	cookie         CookieConfig
	trustedOrigins []string
}

func defaultConfig() config {
	return config{
		accessTTL:    DefaultAccessTTL,
		maxTokenSize: DefaultMaxTokenSize,
		now:          time.Now,
		random:       rand.Reader,
		errorHandler: WriteError,
		refreshTTL:   DefaultRefreshTTL,
		familyTTL:    DefaultFamilyTTL,
		cookie:       DefaultCookie(),
	}
}

// fillDefaults creates the default stores after the options ran, so that
// an option-less Auth gets its own in-memory stores.
func (c *config) fillDefaults() {
	if c.refreshStore == nil {
		c.refreshStore = NewMemoryStore()
	}
	if c.revocation == nil {
		c.revocation = NewMemoryRevocationStore(c.now)
	}
	if c.loginThrottle == nil {
		c.loginThrottle, _ = NewMemoryThrottle(DefaultLoginRate, 0)
	}
}

// fillPasswords creates the default hasher.
func (c *config) fillPasswords() error {
	if c.passwords != nil {
		return nil
	}
	p, err := NewPasswords()
	c.passwords = p
	return err
}

func (c *config) validate() error {
	switch {
	case c.keys == nil:
		return fmt.Errorf("%w: no keys: use WithKeys or WithKeySource", ErrConfig)
	case c.issuer == "":
		return fmt.Errorf("%w: empty issuer", ErrConfig)
	case c.audience == "":
		return fmt.Errorf("%w: empty audience", ErrConfig)
	case c.accessTTL <= 0 || c.accessTTL > MaxAccessTTL:
		return fmt.Errorf("%w: access token lifetime must be in (0, %v]", ErrConfig, MaxAccessTTL)
	case c.leeway < 0 || c.leeway > MaxLeeway:
		return fmt.Errorf("%w: leeway must be in [0, %v]", ErrConfig, MaxLeeway)
	case c.maxTokenSize < minMaxTokenSize || c.maxTokenSize > maxMaxTokenSize:
		return fmt.Errorf("%w: token size cap must be in [%d, %d]", ErrConfig, minMaxTokenSize, maxMaxTokenSize)
	case c.now == nil || c.random == nil || c.errorHandler == nil:
		return fmt.Errorf("%w: nil clock, random source or error handler", ErrConfig)
	case c.familyTTL <= 0:
		return fmt.Errorf("%w: session lifetime must be positive", ErrConfig)
	case c.refreshTTL <= 0 || c.refreshTTL > c.familyTTL:
		return fmt.Errorf("%w: refresh token lifetime must be in (0, session lifetime %v]", ErrConfig, c.familyTTL)
	case c.reuseGrace < 0 || c.reuseGrace > MaxReuseGrace:
		return fmt.Errorf("%w: reuse grace must be in [0, %v]", ErrConfig, MaxReuseGrace)
	}
	if err := c.cookie.validate(); err != nil {
		return err
	}
	for _, o := range c.trustedOrigins {
		if err := http.NewCrossOriginProtection().AddTrustedOrigin(o); err != nil {
			return fmt.Errorf("%w: trusted origin: %v", ErrConfig, err)
		}
	}
	return nil
}

// WithKeys sets the key set that signs and verifies tokens. Exactly one of
// WithKeys and [WithKeySource] is required.
func WithKeys(ks *KeySet) Option {
	return func(c *config) {
		if ks != nil {
			c.keys, c.keySet = ks, ks
		}
	}
}

// WithKeySource sets a verify-only key source, such as a remote JWK Set: the
// [Auth] verifies tokens but cannot issue them.
func WithKeySource(src KeySource) Option {
	return func(c *config) { c.keys, c.keySet = src, nil }
}

// WithIssuer sets the iss claim written on issued tokens and required on
// verified ones. Required; there is no default.
func WithIssuer(iss string) Option { return func(c *config) { c.issuer = iss } }

// WithAudience sets the aud claim written on issued tokens and required on
// verified ones. Required; there is no default.
func WithAudience(aud string) Option { return func(c *config) { c.audience = aud } }

// WithAccessTTL sets the access token lifetime. Default [DefaultAccessTTL]
// (15 minutes); at most [MaxAccessTTL].
func WithAccessTTL(d time.Duration) Option { return func(c *config) { c.accessTTL = d } }

// WithLeeway sets the clock-skew leeway applied to exp, nbf and iat.
// Default 0; at most [MaxLeeway]. Instances whose clocks drift apart need a
// second or two.
func WithLeeway(d time.Duration) Option { return func(c *config) { c.leeway = d } }

// WithMaxTokenSize sets the size cap in bytes above which a token is refused
// before any decoding. Default [DefaultMaxTokenSize] (8 KiB); between 256
// bytes and 64 KiB.
func WithMaxTokenSize(n int) Option { return func(c *config) { c.maxTokenSize = n } }

// WithClock sets the clock. Default [time.Now].
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithRandom sets the source of token ids. Default crypto/rand. Only tests
// should change it.
func WithRandom(r io.Reader) Option { return func(c *config) { c.random = r } }

// WithRevocation sets the revocation check consulted after every successful
// verification. When rc is also a [RevocationStore], logout and logout
// everywhere record their revocations in it; give every instance the same
// shared store. Default: a [MemoryRevocationStore] of this process only. A
// service that only verifies may pass a read-only [RevocationChecker].
func WithRevocation(rc RevocationChecker) Option { return func(c *config) { c.revocation = rc } }

// WithRefreshStore sets the store of refresh-token families. Default: a
// [MemoryStore] of this process only.
func WithRefreshStore(s RefreshStore) Option { return func(c *config) { c.refreshStore = s } }

// WithRefreshTTL sets the lifetime of each refresh token, renewed at every
// rotation but never past the session's end. Default [DefaultRefreshTTL]
// (7 days); at most the session lifetime.
func WithRefreshTTL(d time.Duration) Option { return func(c *config) { c.refreshTTL = d } }

// WithSessionTTL sets the absolute lifetime of a session (a refresh-token
// family), after which the user must sign in again. Default
// [DefaultFamilyTTL] (30 days).
func WithSessionTTL(d time.Duration) Option { return func(c *config) { c.familyTTL = d } }

// WithReuseGrace sets the window in which the immediate predecessor of the
// newest refresh token may be presented again, while the newest is unused,
// without counting as theft (two tabs refreshing at once). Default 0: every
// replay revokes the family. At most [MaxReuseGrace].
func WithReuseGrace(d time.Duration) Option { return func(c *config) { c.reuseGrace = d } }

// WithClaimsLoader sets the function that reloads a user's claims at each
// refresh. Required for [Auth.Refresh].
func WithClaimsLoader(f ClaimsLoader) Option { return func(c *config) { c.claimsLoader = f } }

// WithEvents sets a function that receives every security [Event], in the
// goroutine of the request that caused it. Default none.
func WithEvents(f func(context.Context, Event)) Option { return func(c *config) { c.events = f } }

// WithErrorHandler sets the handler that writes the middleware's refusals.
// Default [WriteError], which follows the JSON error shape {error, code}.
func WithErrorHandler(h ErrorHandler) Option { return func(c *config) { c.errorHandler = h } }

// WithCookie makes the middleware also read the access token from the cookie
// name when no Authorization header is sent. Default off: only
// "Authorization: Bearer". A cookie is sent by browsers on cross-site
// requests too, so state-changing routes authenticated this way need CSRF
// protection such as [http.CrossOriginProtection]. The query string is never
// a token source.
func WithCookie(name string) Option { return func(c *config) { c.cookieName = name } }

// WithLogger sets the logger for refused tokens (at debug level, never with
// the token). Default: no logging.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithPasswords sets the password hasher used by [Auth.Login] and
// [Auth.HashPassword]. Default: [NewPasswords] with its defaults (bcrypt
// cost 12, one fewer concurrent computation than the CPUs).
func WithPasswords(p *Passwords) Option { return func(c *config) { c.passwords = p } }

// WithCredentials sets the account store [Auth.Login] checks passwords
// against. Required for Login.
func WithCredentials(s CredentialStore) Option { return func(c *config) { c.credentials = s } }

// WithLoginThrottle sets the throttle of failed logins, per account and per
// client address. Default: a [MemoryThrottle] of [DefaultLoginRate] (5 per
// 15 minutes) for this process only; give instances a shared one.
func WithLoginThrottle(t Throttle) Option { return func(c *config) { c.loginThrottle = t } }

// WithTrustedProxies sets the proxies whose X-Forwarded-For is believed when
// finding a client's address ([Auth.ClientFrom]). Default none: the address
// is the connection's peer.
func WithTrustedProxies(prefixes ...netip.Prefix) Option {
	return func(c *config) { c.trustedProxies = append([]netip.Prefix(nil), prefixes...) }
}

// WithRefreshCookie sets the refresh-token cookie. Default [DefaultCookie].
func WithRefreshCookie(cc CookieConfig) Option { return func(c *config) { c.cookie = cc } }

// WithTrustedOrigins adds origins (such as "https://app.example.com") whose
// cross-origin requests [Auth.CrossOriginProtection] lets through. Default
// none.
func WithTrustedOrigins(origins ...string) Option {
	return func(c *config) { c.trustedOrigins = append(c.trustedOrigins, origins...) }
}
