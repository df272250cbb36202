package auth

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"reflect"
	"time"

	"github.com/jwtkit/auth/audit"
	"github.com/jwtkit/auth/authstore"
	"github.com/jwtkit/auth/memstore"
	"github.com/jwtkit/auth/password"
)

// Defaults and bounds of the options; each option's doc states them.
const (
	defaultAccessTTL    = 15 * time.Minute
	defaultMaxTokenSize = 8 << 10
	maxMaxTokenSize     = 64 << 10
	minMaxTokenSize     = 256
	defaultRefreshTTL   = 7 * 24 * time.Hour
	defaultSessionTTL   = 30 * 24 * time.Hour
	maxReuseGrace       = 5 * time.Minute
)

// defaultLoginRate is the default of [WithLoginThrottle]: 5 failed logins
// per 15 minutes.
var defaultLoginRate = authstore.Rate{Limit: 5, Window: 15 * time.Minute}

// Option configures an [Auth] in [New]. An option given a value out of its
// documented range makes New fail with an error matching [ErrConfig] that
// names the option; no value is silently replaced by a default.
type Option func(*config) error

type config struct {
	keys         KeySource
	keySet       *KeySet // non-nil when keys can sign
	keysOption   string  // the option that set keys, to refuse a second one
	issuer       string
	audience     string
	accessTTL    time.Duration
	leeway       time.Duration
	maxTokenSize int
	now          func() time.Time
	random       io.Reader
	revocation   authstore.RevocationChecker
	errorHandler func(http.ResponseWriter, *http.Request, error)
	accessCookie string
	logger       *slog.Logger
	profile      *profile // nil: the library's own tokens only
	cacheEntries int      // verified-token cache bounds; 0: no cache
	cacheBytes   int64

	refreshStore authstore.RefreshStore
	refreshTTL   time.Duration
	sessionTTL   time.Duration
	reuseGrace   time.Duration
	graceReplays int                // replays of one predecessor within the grace window
	graceLimit   authstore.Throttle // counts them; set by fillDefaults
	claimsLoader ClaimsLoader
	events       func(context.Context, audit.Event)
	observer     func(ctx context.Context, op string) (context.Context, func(error))

	passwords      password.Hasher
	credentials    CredentialStore
	loginThrottle  authstore.Throttle
	refreshLimit   authstore.Throttle // successful rotations per session
	trustedProxies []netip.Prefix
	cookie         CookieConfig
	trustedOrigins []string
}

func defaultConfig() config {
	return config{
		accessTTL:    defaultAccessTTL,
		maxTokenSize: defaultMaxTokenSize,
		cacheEntries: DefaultTokenCacheEntries,
		cacheBytes:   DefaultTokenCacheBytes,
		now:          time.Now,
		random:       rand.Reader,
		errorHandler: WriteError,
		refreshTTL:   defaultRefreshTTL,
		graceReplays: DefaultGraceReplays,
		sessionTTL:   defaultSessionTTL,
		cookie:       CookieConfig{}.withDefaults(),
	}
}

// configError returns the error of option given a value out of range.
func configError(option, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrConfig, option, fmt.Sprintf(format, args...))
}

// apply runs opts in order and returns the first error.
func (c *config) apply(opts []Option) error {
	for i, opt := range opts {
		if opt == nil {
			return fmt.Errorf("%w: option %d is nil", ErrConfig, i)
		}
		if err := opt(c); err != nil {
			return err
		}
	}
	return nil
}

// fillDefaults creates what the options left unset: the in-memory stores
// of this process and the bcrypt hasher, so that an option-less Auth gets
// its own.
func (c *config) fillDefaults() error {
	if c.refreshStore == nil || c.revocation == nil {
		m, err := memstore.New(memstore.WithClock(c.now))
		if err != nil {
			return fmt.Errorf("%w: %w", ErrConfig, err)
		}
		if c.refreshStore == nil {
			c.refreshStore = m
		}
		if c.revocation == nil {
			c.revocation = m
		}
	}
	if c.loginThrottle == nil {
		t, err := memstore.NewThrottle(defaultLoginRate)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrConfig, err)
		}
		c.loginThrottle = t
	}
	if c.reuseGrace > 0 {
		t, err := memstore.NewThrottle(authstore.Rate{Limit: c.graceReplays, Window: c.reuseGrace})
		if err != nil {
			return fmt.Errorf("%w: WithGraceReplays: %w", ErrConfig, err)
		}
		c.graceLimit = t
	}
	if c.refreshLimit == nil {
		t, err := memstore.NewThrottle(defaultRefreshRate)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrConfig, err)
		}
		c.refreshLimit = t
	}
	if c.passwords == nil {
		p, err := password.NewBcrypt()
		if err != nil {
			return fmt.Errorf("%w: %w", ErrConfig, err)
		}
		c.passwords = p
	}
	return nil
}

// validate checks what no single option can: required options and the
// bounds between options.
func (c *config) validate() error {
	switch {
	case c.keys == nil:
		return fmt.Errorf("%w: no keys: use WithKeys or WithKeySource", ErrConfig)
	case c.issuer == "":
		return fmt.Errorf("%w: WithIssuer is required", ErrConfig)
	case c.audience == "":
		return fmt.Errorf("%w: WithAudience is required", ErrConfig)
	case c.profile != nil && c.keySet != nil:
		return configError("WithProfile", "a profile verifies another issuer's tokens: give it WithKeySource, not WithKeys")
	case c.refreshTTL > c.sessionTTL:
		return configError("WithRefreshTTL", "%v is longer than the session lifetime %v (WithSessionTTL)", c.refreshTTL, c.sessionTTL)
	}
	for _, o := range c.trustedOrigins {
		if err := http.NewCrossOriginProtection().AddTrustedOrigin(o); err != nil {
			return configError("WithTrustedOrigins", "%v", err)
		}
	}
	return nil
}

// setKeys records the key source of option, refusing a second one.
func (c *config) setKeys(option string, src KeySource, ks *KeySet) error {
	if c.keysOption != "" {
		return configError(option, "keys were already given by %s; give exactly one of WithKeys and WithKeySource", c.keysOption)
	}
	c.keys, c.keySet, c.keysOption = src, ks, option
	return nil
}

// WithKeys sets the key set that signs and verifies tokens. Exactly one of
// WithKeys and [WithKeySource] is required.
func WithKeys(ks *KeySet) Option {
	return func(c *config) error {
		if ks == nil {
			return configError("WithKeys", "nil key set")
		}
		return c.setKeys("WithKeys", ks, ks)
	}
}

// WithKeySource sets a verify-only key source, such as a remote JWK Set
// (package github.com/jwtkit/auth/jwks): the [Auth] verifies tokens but
// cannot issue them. Exactly one of [WithKeys] and WithKeySource is
// required.
func WithKeySource(src KeySource) Option {
	return func(c *config) error {
		if src == nil {
			return configError("WithKeySource", "nil key source")
		}
		return c.setKeys("WithKeySource", src, nil)
	}
}

// WithProfile verifies the access tokens of another identity provider, as
// p describes them (see [Profile]): typ values other than at+jwt, scopes and
// roles in the provider's own claims, a required azp, no jti. It needs a
// verify-only key source ([WithKeySource]); an Auth with signing keys
// ([WithKeys]) is refused. By default there is no profile and only tokens
// shaped as the library issues them verify.
func WithProfile(p Profile) Option {
	return func(c *config) error {
		if c.profile != nil {
			return configError("WithProfile", "given twice")
		}
		cp, err := p.compile()
		if err != nil {
			return err
		}
		c.profile = cp
		return nil
	}
}

// WithTokenCache bounds the verified-token cache: at most entries tokens,
// whose tokens and claims take about bytes bytes. Both 0 turn it off.
// Default [DefaultTokenCacheEntries] (10,000) and [DefaultTokenCacheBytes]
// (32 MiB).
//
// A client sends the same access token on every request until it expires,
// so [Auth.Verify] (and every middleware) remembers a token that verified
// fully, by its whole compact form, and answers the same token again with
// the claims its verification produced, without checking its signature or
// decoding it again. On every such hit, exp, nbf and iat are checked again
// against the clock with the leeway, the revocation check ([WithRevocation])
// runs as always, and the key source is asked whether the token's kid
// still names the key that verified it: a token expires, is revoked, or
// stops verifying when its key is retired or leaves a remote JWK Set on the
// very next request. A token that failed any check is never remembered.
// Entries leave oldest first when newer ones need the room, and expired
// ones as new tokens arrive. Each hit returns claims of its own, which the
// caller may modify.
func WithTokenCache(entries int, bytes int64) Option {
	return func(c *config) error {
		switch {
		case entries < 0 || bytes < 0:
			return configError("WithTokenCache", "negative bound")
		case (entries == 0) != (bytes == 0):
			return configError("WithTokenCache", "give both bounds, or 0 and 0 to turn the cache off")
		case bytes > 0 && bytes < 64<<10:
			return configError("WithTokenCache", "%d bytes is under the smallest cache (64 KiB)", bytes)
		}
		c.cacheEntries, c.cacheBytes = entries, bytes
		return nil
	}
}

// WithIssuer sets the iss claim written on issued tokens and required on
// verified ones. Required; there is no default.
func WithIssuer(iss string) Option {
	return func(c *config) error {
		if iss == "" {
			return configError("WithIssuer", "empty issuer")
		}
		c.issuer = iss
		return nil
	}
}

// WithAudience sets the aud claim written on issued tokens and required on
// verified ones. Required; there is no default.
func WithAudience(aud string) Option {
	return func(c *config) error {
		if aud == "" {
			return configError("WithAudience", "empty audience")
		}
		c.audience = aud
		return nil
	}
}

// WithAccessTTL sets the access token lifetime: exp is iat plus d rounded
// up to a whole second (exp and iat are whole seconds on the wire).
// Default 15 minutes; positive, at most [authstore.MaxAccessTTL] (24
// hours).
func WithAccessTTL(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 || d > authstore.MaxAccessTTL {
			return configError("WithAccessTTL", "%v is not in (0, %v]", d, authstore.MaxAccessTTL)
		}
		c.accessTTL = d
		return nil
	}
}

// WithLeeway sets the clock-skew leeway applied to exp, nbf and iat.
// Default 0; at most [authstore.MaxLeeway] (5 minutes). Instances whose
// clocks drift apart need a second or two.
func WithLeeway(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 || d > authstore.MaxLeeway {
			return configError("WithLeeway", "%v is not in [0, %v]", d, authstore.MaxLeeway)
		}
		c.leeway = d
		return nil
	}
}

// WithMaxTokenSize sets the size cap in bytes above which a token is refused
// before any decoding. Default 8 KiB; between 256 bytes and 64 KiB.
func WithMaxTokenSize(n int) Option {
	return func(c *config) error {
		if n < minMaxTokenSize || n > maxMaxTokenSize {
			return configError("WithMaxTokenSize", "%d is not in [%d, %d]", n, minMaxTokenSize, maxMaxTokenSize)
		}
		c.maxTokenSize = n
		return nil
	}
}

// WithClock sets the clock. Default [time.Now].
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return configError("WithClock", "nil clock")
		}
		c.now = now
		return nil
	}
}

// WithRandom sets the source of token ids and refresh tokens. Default
// crypto/rand. Only tests should change it.
func WithRandom(r io.Reader) Option {
	return func(c *config) error {
		if r == nil {
			return configError("WithRandom", "nil reader")
		}
		c.random = r
		return nil
	}
}

// WithRevocation sets the revocation check consulted after every successful
// verification. When rc is also an [authstore.RevocationStore], logout and
// logout everywhere record their revocations in it; give every instance
// the same shared store. Default: an in-memory store of this process only
// (package github.com/jwtkit/auth/memstore). A service that only verifies
// may pass a read-only [authstore.RevocationChecker].
func WithRevocation(rc authstore.RevocationChecker) Option {
	return func(c *config) error {
		if rc == nil {
			return configError("WithRevocation", "nil revocation check")
		}
		c.revocation = rc
		return nil
	}
}

// WithRefreshStore sets the store of sessions and their refresh tokens.
// Default: an in-memory store of this process only (package
// github.com/jwtkit/auth/memstore).
func WithRefreshStore(s authstore.RefreshStore) Option {
	return func(c *config) error {
		if s == nil {
			return configError("WithRefreshStore", "nil store")
		}
		c.refreshStore = s
		return nil
	}
}

// WithRefreshTTL sets the lifetime of each refresh token, renewed at every
// rotation but never past the session's end. Default 7 days; positive and
// at most the session lifetime ([WithSessionTTL]).
func WithRefreshTTL(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return configError("WithRefreshTTL", "%v is not positive", d)
		}
		c.refreshTTL = d
		return nil
	}
}

// WithSessionTTL sets the absolute lifetime of a session, after which the
// user must sign in again however often its refresh token was rotated.
// Default 30 days; positive.
func WithSessionTTL(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return configError("WithSessionTTL", "%v is not positive", d)
		}
		c.sessionTTL = d
		return nil
	}
}

// WithReuseGrace sets the window in which the immediate predecessor of the
// newest refresh token may be presented again, while the newest is unused,
// without counting as theft (two tabs refreshing at once). Default 0:
// every replay revokes the session. At most 5 minutes.
func WithReuseGrace(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 || d > maxReuseGrace {
			return configError("WithReuseGrace", "%v is not in [0, %v]", d, maxReuseGrace)
		}
		c.reuseGrace = d
		return nil
	}
}

// DefaultGraceReplays is the default of [WithGraceReplays].
const DefaultGraceReplays = 3

// WithGraceReplays bounds the replays of one predecessor within the grace
// window of [WithReuseGrace]: each is answered with fresh tokens (and
// supersedes the newest refresh token), up to n of them; a further replay
// counts as reuse and revokes the session. Default [DefaultGraceReplays]
// (3), between 1 and 100. The count is kept by each instance for itself,
// so with k instances a predecessor gets at most k × n replays.
func WithGraceReplays(n int) Option {
	return func(c *config) error {
		if n < 1 || n > 100 {
			return configError("WithGraceReplays", "%d is not in [1, 100]", n)
		}
		c.graceReplays = n
		return nil
	}
}

// WithClaimsLoader sets the function that reloads a user's claims at each
// refresh. Required for [Auth.Refresh] and [Auth.RefreshHandler].
func WithClaimsLoader(f ClaimsLoader) Option {
	return func(c *config) error {
		if f == nil {
			return configError("WithClaimsLoader", "nil loader")
		}
		c.claimsLoader = f
		return nil
	}
}

// WithEvents sets a function that receives every security event (see
// package github.com/jwtkit/auth/audit), in the goroutine of the request
// that caused it. Default none.
func WithEvents(f func(context.Context, audit.Event)) Option {
	return func(c *config) error {
		if f == nil {
			return configError("WithEvents", "nil function")
		}
		c.events = f
		return nil
	}
}

// WithObserver sets a function told of each [Auth.Verify], [Auth.Login]
// and [Auth.Refresh] as it starts, with op "verify", "login" or
// "refresh". The context it returns replaces the operation's own (a tracer
// starts a span there, so that the store calls of the operation nest in
// it), and the function it returns is called once when the operation ends,
// with its error (nil on success). It runs on every verification: keep it
// fast. Module github.com/jwtkit/auth/otelauth builds OpenTelemetry
// metrics and spans on it. Default none, which costs nothing.
func WithObserver(f func(ctx context.Context, op string) (context.Context, func(err error))) Option {
	return func(c *config) error {
		if f == nil {
			return configError("WithObserver", "nil function")
		}
		c.observer = f
		return nil
	}
}

// WithErrorHandler sets the function that writes the response for a
// request the middleware refuses; err matches one of [ErrNoToken],
// [ErrInvalidToken] (with its precise sentinels), [ErrForbidden] or
// [ErrUnavailable]. Default [WriteError], which follows the JSON error
// shape {error, code}.
func WithErrorHandler(h func(w http.ResponseWriter, r *http.Request, err error)) Option {
	return func(c *config) error {
		if h == nil {
			return configError("WithErrorHandler", "nil handler")
		}
		c.errorHandler = h
		return nil
	}
}

// WithAccessCookie makes the middleware also read the access token from the
// cookie name when no Authorization header is sent. Default off: only
// "Authorization: Bearer". A cookie is sent by browsers on cross-site
// requests too, so state-changing routes authenticated this way need CSRF
// protection such as [Auth.CrossOriginProtection]. The query string is
// never a token source. The refresh token's cookie is [WithRefreshCookie].
func WithAccessCookie(name string) Option {
	return func(c *config) error {
		if !validCookieName(name) {
			return configError("WithAccessCookie", "invalid cookie name %q", name)
		}
		c.accessCookie = name
		return nil
	}
}

// WithLogger sets the logger of security events (info level) and refused
// tokens (debug level, never with the token). Default: no logging.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return configError("WithLogger", "nil logger")
		}
		c.logger = l
		return nil
	}
}

// WithPasswords sets the password policy used by [Auth.Login] and
// [Auth.HashPassword]: a [password.Bcrypt], a [password.Argon2id], or a
// [password.Policy] that verifies several formats and hashes by one (a
// login whose hash is of another format or parameters is re-hashed).
// Default: [password.NewBcrypt] with its defaults (cost 12, one fewer
// concurrent computation than the CPUs).
func WithPasswords(p password.Hasher) Option {
	return func(c *config) error {
		if v := reflect.ValueOf(p); p == nil || v.Kind() == reflect.Pointer && v.IsNil() {
			return configError("WithPasswords", "nil hasher")
		}
		c.passwords = p
		return nil
	}
}

// WithCredentials sets the account store [Auth.Login] checks passwords
// against. Required for Login.
func WithCredentials(s CredentialStore) Option {
	return func(c *config) error {
		if s == nil {
			return configError("WithCredentials", "nil store")
		}
		c.credentials = s
		return nil
	}
}

// WithLoginThrottle sets the throttle of failed logins, per account and per
// client address. Default: an in-memory throttle of 5 failures per 15
// minutes for this process only; give instances a shared one.
func WithLoginThrottle(t authstore.Throttle) Option {
	return func(c *config) error {
		if t == nil {
			return configError("WithLoginThrottle", "nil throttle")
		}
		c.loginThrottle = t
		return nil
	}
}

// defaultRefreshRate is the default limit of [WithRefreshThrottle]: 120
// rotations of one session per minute, far above what a client refreshing
// ahead of expiry needs.
var defaultRefreshRate = authstore.Rate{Limit: 120, Window: time.Minute}

// WithRefreshThrottle sets the throttle of refreshes per session: each
// successful rotation counts against its session, and past the throttle's
// rate [Auth.Refresh] answers [ErrTooManyAttempts] ([RetryAfter] tells
// the wait; RefreshHandler answers 429 with Retry-After and keeps the
// cookie and the session). A refresh that loses a race, or presents a
// reused or unknown token, counts nothing. Default: an in-memory throttle
// of 120 successful rotations per session per minute, for this process
// only; give instances a shared one.
func WithRefreshThrottle(t authstore.Throttle) Option {
	return func(c *config) error {
		if t == nil {
			return configError("WithRefreshThrottle", "nil throttle")
		}
		c.refreshLimit = t
		return nil
	}
}

// WithTrustedProxies sets the proxies whose X-Forwarded-For is believed when
// finding a client's address ([Auth.ClientFrom]). Default none: the address
// is the connection's peer.
func WithTrustedProxies(prefixes ...netip.Prefix) Option {
	return func(c *config) error {
		for _, p := range prefixes {
			if !p.IsValid() {
				return configError("WithTrustedProxies", "invalid prefix %v", p)
			}
		}
		c.trustedProxies = append([]netip.Prefix(nil), prefixes...)
		return nil
	}
}

// WithRefreshCookie sets the refresh-token cookie; its zero fields take
// their defaults (see [CookieConfig]).
// Handlers mounted elsewhere than under /api/auth need cc.Path changed to
// their prefix, or browsers never send them the cookie.
func WithRefreshCookie(cc CookieConfig) Option {
	return func(c *config) error {
		cc = cc.withDefaults()
		if err := cc.validate(); err != nil {
			return err
		}
		c.cookie = cc
		return nil
	}
}

// WithTrustedOrigins adds origins (such as "https://app.example.com") whose
// cross-origin requests [Auth.CrossOriginProtection] lets through. Default
// none.
func WithTrustedOrigins(origins ...string) Option {
	return func(c *config) error {
		c.trustedOrigins = append(c.trustedOrigins, origins...)
		return nil
	}
}
