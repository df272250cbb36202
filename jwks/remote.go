package jwks

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jwtkit/auth"
)

// Defaults of a [RemoteKeySet].
const (
	// DefaultTimeout bounds one fetch of a remote JWK Set.
	DefaultTimeout = 5 * time.Second
	// DefaultMaxSize is the largest JWK Set document accepted.
	DefaultMaxSize = 1 << 20
	// DefaultMinLifetime and DefaultMaxLifetime bound how long a
	// fetched JWK Set is used before it is fetched again, whatever its
	// Cache-Control max-age says.
	DefaultMinLifetime = time.Minute
	DefaultMaxLifetime = 24 * time.Hour
	// DefaultLifetime is the lifetime of a JWK Set served without a
	// max-age.
	DefaultLifetime = 5 * time.Minute
	// DefaultCooldown is the shortest time between two fetches that
	// requests cause (a token with an unknown kid, a set past its lifetime).
	DefaultCooldown = 30 * time.Second
	// DefaultMaxStale is how long past the end of its lifetime the last
	// good set keeps being used while fetches fail; then verification
	// answers auth.ErrUnavailable until a fetch succeeds.
	DefaultMaxStale = 24 * time.Hour
)

// Limits on the options of a [RemoteKeySet].
const (
	minJWKSMaxSize  = 1 << 10
	maxJWKSMaxSize  = 64 << 20
	minJWKSLifetime = time.Second
	// firstRetryDelay is the wait of Start's goroutine after a first failed
	// fetch; it doubles with each further failure up to the cooldown.
	firstRetryDelay = time.Second
)

// RemoteKeySet is a [auth.KeySource] that verifies with the public keys of one
// JWK Set URL, such as https://id.example.com/.well-known/jwks.json, fetched
// over HTTP and cached, so a service verifies tokens without ever holding a
// signing key. It fetches only the URL it was built with: a URL named in a
// token (jku, x5u) is never followed, and [auth.Auth.Verify] refuses such a
// token before consulting any key source.
//
// Most callers build one with [NewRemoteKeySet], pass it to [auth.WithKeySource]
// and call [RemoteKeySet.Start] at startup. It then works like this:
//
//   - Fetching. The first fetch happens in Start, or else on the first
//     [RemoteKeySet.VerificationKey]. [RemoteKeySet.Refresh] fetches at once.
//   - Lifetime. A fetched set is used for the max-age of its Cache-Control
//     header (less its Age), clamped to [WithCacheBounds]; for
//     [DefaultLifetime] without one. Start's goroutine fetches again
//     when three quarters of that lifetime have passed, and retries failed
//     fetches with a backoff from one second up to the cooldown. Without
//     Start, the first request after the lifetime fetches again in the
//     background while being served the current set.
//   - Unknown kid. A kid missing from the set causes one fetch, which every
//     concurrent request for a missing kid waits for, and no new fetch for
//     a cooldown ([WithCooldown]) after any fetch started, so tokens with
//     random kids cannot make it fetch more often than that.
//   - Failures. A failed fetch (network, timeout, status other than 200, a
//     document over the size cap, not a JWK Set, or keys of which none is
//     usable) changes nothing: the last good set keeps being served, up to
//     [WithMaxStale] past its lifetime (24 hours by default); past that,
//     verification answers [auth.ErrUnavailable]. An empty set, {"keys":[]},
//     is no failure: the issuer revoked every key, and every token is
//     refused. Until a first
//     fetch succeeds, VerificationKey returns an error that is not
//     [auth.ErrTokenUnknownKey], which Verify turns into [auth.ErrUnavailable].
//   - Keys. Each JWK must name its algorithm ("alg", or take the one of
//     [WithAlgorithm] when it names none), which must fit its
//     "kty" and "crv" (RSA for RS* and PS*, EC P-256 for ES256, P-384 for
//     ES384, P-521 for ES512, OKP Ed25519 for EdDSA), have a kid, a "use" of
//     "sig" if any, "verify" among its "key_ops" if any, and no private
//     member. Anything else, symmetric ("oct") keys, weak keys (see
//     [auth.NewPublicKey]) and keys sharing a kid are skipped, never guessed at,
//     and logged at debug level ([WithLogger]).
//
// A RemoteKeySet is safe for concurrent use. Verifying with a cached key
// takes no lock and does not allocate. The zero value is not usable.
type RemoteKeySet struct {
	url string
	cfg remoteConfig

	snap atomic.Pointer[remoteSnapshot] // nil until a fetch succeeded
	// quietUntil is when the cooldown of the last fetch ends, in Unix
	// nanoseconds: before it a request with a stale set need not lock mu.
	quietUntil atomic.Int64
	// refreshing is true while Start's goroutine runs: it keeps the set
	// fresh, so requests need not read the clock.
	refreshing atomic.Bool

	mu          sync.Mutex // guards the fields below
	inflight    *fetchCall // the fetch under way, or nil
	seq         uint64     // number of fetches started
	attempted   bool       // a fetch has started
	lastAttempt time.Time  // when the last fetch started
	lastErr     error      // the error of the last fetch that ended
	failures    int        // consecutive failed fetches
	started     bool       // Start was called

	// loopDone is closed when Start's goroutine returns.
	loopDone chan struct{}
}

type remoteSnapshot struct {
	byID      map[string]*auth.Key
	keys      []*auth.Key // in document order
	fetchedAt time.Time   // when the fetch that made it ended
	refreshAt time.Time   // when Start's goroutine fetches again
	staleAt   time.Time   // end of the lifetime
	deadAt    time.Time   // staleAt plus the max staleness; zero for none
}

// fetchCall is one fetch that any number of callers wait for.
type fetchCall struct {
	seq  uint64
	done chan struct{} // closed when err is set
	err  error
}

// Option configures a [RemoteKeySet] in [NewRemoteKeySet].
type Option func(*remoteConfig)

type remoteConfig struct {
	client      *http.Client
	timeout     time.Duration
	maxSize     int64
	minLife     time.Duration
	maxLife     time.Duration
	defaultLife time.Duration
	cooldown    time.Duration
	maxStale    time.Duration // 0: no bound
	now         func() time.Time
	logger      *slog.Logger
	alg         auth.Algorithm // for a JWK without alg; "" skips such a JWK
	// after is the timer of Start's goroutine; tests replace it.
	after func(time.Duration) <-chan time.Time
}

// WithHTTPClient sets the HTTP client that fetches the JWK Set. Each
// fetch is bounded by the client's Timeout, or by [DefaultTimeout] when
// it has none. The default (also for nil) is a client with that timeout
// that follows no redirect: a redirect is a failed fetch.
func WithHTTPClient(c *http.Client) Option {
	return func(rc *remoteConfig) { rc.client = c }
}

// WithMaxSize sets the size cap in bytes of the JWK Set document; a
// larger one is a failed fetch, refused without reading past the cap.
// Default [DefaultMaxSize] (1 MiB); between 1 KiB and 64 MiB.
func WithMaxSize(n int64) Option {
	return func(rc *remoteConfig) { rc.maxSize = n }
}

// WithCacheBounds sets the bounds that the lifetime of a fetched JWK Set
// (its Cache-Control max-age, or the default of [WithDefaultLifetime])
// is clamped to. Defaults [DefaultMinLifetime] (1 minute) and
// [DefaultMaxLifetime] (24 hours); shortest at least one second,
// longest at least shortest.
func WithCacheBounds(shortest, longest time.Duration) Option {
	return func(rc *remoteConfig) { rc.minLife, rc.maxLife = shortest, longest }
}

// WithDefaultLifetime sets the lifetime of a JWK Set served without a
// Cache-Control max-age, clamped to the cache bounds. Default
// [DefaultLifetime] (5 minutes).
func WithDefaultLifetime(d time.Duration) Option {
	return func(rc *remoteConfig) { rc.defaultLife = d }
}

// WithCooldown sets the shortest time between the start of one fetch and
// a fetch caused by a request (a token with an unknown kid, a set past its
// lifetime). Default [DefaultCooldown] (30 seconds); must be positive.
// [RemoteKeySet.Refresh] is not bound by it.
func WithCooldown(d time.Duration) Option {
	return func(rc *remoteConfig) { rc.cooldown = d }
}

// WithMaxStale bounds how long past the end of its lifetime the last good
// JWK Set keeps being used while every fetch fails (the issuer is down, or
// answers with errors): past it, verification answers [auth.ErrUnavailable]
// until a fetch succeeds, so a key that the issuer stopped publishing
// cannot stay trusted for ever behind a failing fetch. Default
// [DefaultMaxStale] (24 hours); 0 removes the bound. [RemoteKeySet.Age]
// tells how old the set in use is.
func WithMaxStale(d time.Duration) Option {
	return func(rc *remoteConfig) { rc.maxStale = d }
}

// WithClock sets the clock that lifetimes and the cooldown are measured
// with. Default [time.Now].
func WithClock(now func() time.Time) Option {
	return func(rc *remoteConfig) { rc.now = now }
}

// WithAlgorithm sets the one algorithm of a JWK that names none, such as
// the keys Microsoft Entra ID publishes (RS256, without "alg"). It must fit
// the JWK's key type like a named one; a JWK that names its algorithm keeps
// it. By default a JWK without "alg" is skipped: the algorithm is never
// guessed from the key type.
func WithAlgorithm(alg auth.Algorithm) Option {
	return func(rc *remoteConfig) { rc.alg = alg }
}

// WithLogger sets the logger for fetches (failures at warn level) and
// skipped keys (at debug level). Default: no logging.
func WithLogger(l *slog.Logger) Option {
	return func(rc *remoteConfig) { rc.logger = l }
}

// NewRemoteKeySet returns a [RemoteKeySet] for the JWK Set at rawURL, an
// absolute http or https URL. It does no I/O: call [RemoteKeySet.Start], or
// let the first verification fetch. It refuses, with an error matching
// [auth.ErrConfig], another URL or an option out of its documented range.
func NewRemoteKeySet(rawURL string, opts ...Option) (*RemoteKeySet, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Fragment != "" {
		return nil, fmt.Errorf("%w: JWK Set URL must be an absolute http or https URL without fragment", auth.ErrConfig)
	}
	cfg := remoteConfig{
		maxSize:     DefaultMaxSize,
		minLife:     DefaultMinLifetime,
		maxLife:     DefaultMaxLifetime,
		defaultLife: DefaultLifetime,
		cooldown:    DefaultCooldown,
		maxStale:    DefaultMaxStale,
		now:         time.Now,
		after:       time.After,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.client == nil {
		cfg.client = &http.Client{
			Timeout: DefaultTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	}
	cfg.timeout = cfg.client.Timeout
	if cfg.timeout <= 0 {
		cfg.timeout = DefaultTimeout
	}
	switch {
	case cfg.maxSize < minJWKSMaxSize || cfg.maxSize > maxJWKSMaxSize:
		return nil, fmt.Errorf("%w: JWK Set size cap must be in [%d, %d]", auth.ErrConfig, minJWKSMaxSize, maxJWKSMaxSize)
	case cfg.minLife < minJWKSLifetime || cfg.maxLife < cfg.minLife:
		return nil, fmt.Errorf("%w: JWK Set cache bounds must satisfy %v <= min <= max", auth.ErrConfig, minJWKSLifetime)
	case cfg.defaultLife <= 0:
		return nil, fmt.Errorf("%w: JWK Set default lifetime must be positive", auth.ErrConfig)
	case cfg.cooldown <= 0:
		return nil, fmt.Errorf("%w: JWK Set refetch cooldown must be positive", auth.ErrConfig)
	case cfg.maxStale < 0:
		return nil, fmt.Errorf("%w: JWK Set max staleness must not be negative", auth.ErrConfig)
	case cfg.now == nil:
		return nil, fmt.Errorf("%w: nil clock", auth.ErrConfig)
	case cfg.alg != "" && !asymmetric(cfg.alg):
		return nil, fmt.Errorf("%w: WithAlgorithm: %q is not a public-key algorithm", auth.ErrConfig, cfg.alg)
	}
	return &RemoteKeySet{url: u.String(), cfg: cfg}, nil
}

// URL returns the JWK Set URL.
func (r *RemoteKeySet) URL() string { return r.url }

// Keys returns the keys of the last JWK Set fetched, in document order, or
// nil before a fetch succeeded. It never fetches.
func (r *RemoteKeySet) Keys() []*auth.Key {
	if s := r.snap.Load(); s != nil {
		return append([]*auth.Key(nil), s.keys...)
	}
	return nil
}

// VerificationKey implements [auth.KeySource]. It returns the key with id kid
// from the cached set, fetching first when there is none yet. For a kid
// missing from the set it waits for one fetch (unless the cooldown forbids
// it) and returns [auth.ErrTokenUnknownKey] if the kid is still missing. Before
// any fetch succeeded it returns another error: the fetch's, or one saying
// that the cooldown holds the next fetch back.
func (r *RemoteKeySet) VerificationKey(ctx context.Context, kid string) (*auth.Key, error) {
	if s := r.snap.Load(); s != nil {
		if k := s.byID[kid]; k != nil {
			if !s.deadAt.IsZero() || !r.refreshing.Load() {
				now := r.cfg.now()
				if !r.refreshing.Load() && !now.Before(s.staleAt) {
					r.refreshStale(ctx)
				}
				if !s.deadAt.IsZero() && !now.Before(s.deadAt) {
					return nil, r.tooStale(now, s)
				}
			}
			return k, nil
		}
	}
	return r.missing(ctx, kid)
}

// tooStale is the error of a set past its max staleness.
func (r *RemoteKeySet) tooStale(now time.Time, s *remoteSnapshot) error {
	r.mu.Lock()
	lastErr := r.lastErr
	r.mu.Unlock()
	return fmt.Errorf("jwks: the JWK Set in use was fetched %v ago and no fetch has succeeded since; last fetch: %v", now.Sub(s.fetchedAt).Round(time.Second), lastErr)
}

// Age returns how long ago the JWK Set in use was fetched, and false
// before any fetch succeeded: for monitoring, next to the bound of
// [WithMaxStale].
func (r *RemoteKeySet) Age() (time.Duration, bool) {
	s := r.snap.Load()
	if s == nil {
		return 0, false
	}
	return r.cfg.now().Sub(s.fetchedAt), true
}

// missing looks kid up after a fetch, if one is under way or allowed.
func (r *RemoteKeySet) missing(ctx context.Context, kid string) (*auth.Key, error) {
	r.mu.Lock()
	s := r.snap.Load()
	if s != nil {
		if k := s.byID[kid]; k != nil {
			r.mu.Unlock()
			return k, nil
		}
	}
	call := r.inflight
	if call == nil && r.mayFetchLocked() {
		call = r.startFetchLocked(context.WithoutCancel(ctx))
	}
	lastErr := r.lastErr
	r.mu.Unlock()
	if call == nil {
		if s == nil {
			return nil, r.noSetError(lastErr)
		}
		return nil, auth.ErrTokenUnknownKey
	}
	select {
	case <-call.done:
	case <-ctx.Done():
		return nil, fmt.Errorf("jwks: waiting for the JWK Set: %w", ctx.Err())
	}
	s = r.snap.Load()
	if s == nil {
		return nil, r.noSetError(call.err)
	}
	if k := s.byID[kid]; k != nil {
		if now := r.cfg.now(); !s.deadAt.IsZero() && !now.Before(s.deadAt) {
			return nil, r.tooStale(now, s)
		}
		return k, nil
	}
	return nil, auth.ErrTokenUnknownKey
}

func (r *RemoteKeySet) noSetError(err error) error {
	if err == nil {
		return errors.New("jwks: no JWK Set fetched yet; the next fetch waits for the cooldown")
	}
	return fmt.Errorf("jwks: no JWK Set fetched yet; last fetch: %w", err)
}

// refreshStale starts a fetch without waiting for it, when none is under
// way and the cooldown allows one.
func (r *RemoteKeySet) refreshStale(ctx context.Context) {
	if r.cfg.now().UnixNano() < r.quietUntil.Load() {
		return
	}
	r.mu.Lock()
	if r.inflight == nil && r.mayFetchLocked() {
		r.startFetchLocked(context.WithoutCancel(ctx))
	}
	r.mu.Unlock()
}

// mayFetchLocked reports whether the cooldown allows a fetch caused by a
// request; r.mu must be held.
func (r *RemoteKeySet) mayFetchLocked() bool {
	return !r.attempted || r.cfg.now().Sub(r.lastAttempt) >= r.cfg.cooldown
}

// Refresh fetches the JWK Set now, whatever the cooldown, and returns the
// fetch's error; on failure the last good set stays in use. A fetch already
// under way when Refresh is called is waited for and followed by a new one,
// so the set Refresh returns after was fetched after the call. Use it when a
// key was just published and should be seen at once.
func (r *RemoteKeySet) Refresh(ctx context.Context) error {
	r.mu.Lock()
	after := r.seq
	for {
		call := r.inflight
		if call == nil {
			call = r.startFetchLocked(context.WithoutCancel(ctx))
		}
		r.mu.Unlock()
		select {
		case <-call.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if call.seq > after {
			return call.err
		}
		r.mu.Lock()
	}
}

// Start fetches the JWK Set and returns the error of that fetch, then keeps
// it fresh in a goroutine until ctx ends: the goroutine fetches again when
// three quarters of the set's lifetime have passed, and after a failure
// retries with a backoff from one second up to the cooldown. It runs
// whatever the first fetch returned, so a service may log the error and
// serve: requests get [auth.ErrUnavailable] until a fetch succeeds. After ctx
// ends the set keeps serving and fetching on demand as without Start. Start
// may be called once.
func (r *RemoteKeySet) Start(ctx context.Context) error {
	r.mu.Lock()
	if r.started {
		r.mu.Unlock()
		return errors.New("jwks: RemoteKeySet.Start called twice")
	}
	r.started = true
	r.loopDone = make(chan struct{})
	call := r.startFetchLocked(ctx)
	r.mu.Unlock()
	var err error
	select {
	case <-call.done:
		err = call.err
	case <-ctx.Done():
		err = ctx.Err()
	}
	r.refreshing.Store(true)
	go r.loop(ctx)
	return err
}

func (r *RemoteKeySet) loop(ctx context.Context) {
	defer close(r.loopDone)
	defer r.refreshing.Store(false)
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.cfg.after(r.nextRefresh()):
		}
		r.mu.Lock()
		call := r.inflight
		if call == nil {
			call = r.startFetchLocked(ctx)
		}
		r.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-call.done:
		}
	}
}

// nextRefresh returns how long Start's goroutine waits before fetching.
func (r *RemoteKeySet) nextRefresh() time.Duration {
	r.mu.Lock()
	failures := r.failures
	r.mu.Unlock()
	if failures > 0 {
		d := firstRetryDelay
		for i := 1; i < failures && d < r.cfg.cooldown; i++ {
			d *= 2
		}
		return min(d, r.cfg.cooldown)
	}
	s := r.snap.Load()
	if s == nil {
		return firstRetryDelay
	}
	return max(s.refreshAt.Sub(r.cfg.now()), 0)
}

// startFetchLocked starts a fetch in a new goroutine; r.mu must be held and
// no fetch under way.
func (r *RemoteKeySet) startFetchLocked(ctx context.Context) *fetchCall {
	r.seq++
	call := &fetchCall{seq: r.seq, done: make(chan struct{})}
	r.inflight = call
	r.attempted = true
	r.lastAttempt = r.cfg.now()
	r.quietUntil.Store(r.lastAttempt.Add(r.cfg.cooldown).UnixNano())
	go func() {
		err := r.fetch(ctx)
		r.mu.Lock()
		r.inflight = nil
		r.lastErr = err
		if err != nil {
			r.failures++
		} else {
			r.failures = 0
		}
		r.mu.Unlock()
		call.err = err
		close(call.done)
	}()
	return call
}

// fetch gets, parses and installs the JWK Set.
func (r *RemoteKeySet) fetch(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.timeout)
	defer cancel()
	err := r.get(ctx)
	if err != nil && r.cfg.logger != nil {
		r.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "jwks: JWK Set fetch failed",
			slog.String("url", r.url), slog.String("error", err.Error()))
	}
	return err
}

func (r *RemoteKeySet) get(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return fmt.Errorf("jwks: JWK Set request: %w", err)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := r.cfg.client.Do(req)
	if err != nil {
		return fmt.Errorf("jwks: fetch JWK Set: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("jwks: fetch JWK Set: status %d", resp.StatusCode)
	}
	if resp.ContentLength > r.cfg.maxSize {
		return fmt.Errorf("jwks: fetch JWK Set: document of %d bytes exceeds the cap of %d", resp.ContentLength, r.cfg.maxSize)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, r.cfg.maxSize+1))
	if err != nil {
		return fmt.Errorf("jwks: fetch JWK Set: %w", err)
	}
	if int64(len(body)) > r.cfg.maxSize {
		return fmt.Errorf("jwks: fetch JWK Set: document exceeds the cap of %d bytes", r.cfg.maxSize)
	}
	keys, err := r.parseSet(ctx, body)
	if err != nil {
		return err
	}
	life := r.lifetime(resp.Header)
	now := r.cfg.now()
	s := &remoteSnapshot{
		byID:      make(map[string]*auth.Key, len(keys)),
		keys:      keys,
		fetchedAt: now,
		refreshAt: now.Add(life - life/4),
		staleAt:   now.Add(life),
	}
	if r.cfg.maxStale > 0 {
		s.deadAt = s.staleAt.Add(r.cfg.maxStale)
	}
	for _, k := range keys {
		s.byID[k.ID()] = k
	}
	r.snap.Store(s)
	if l := r.cfg.logger; l != nil && l.Enabled(ctx, slog.LevelDebug) {
		l.LogAttrs(ctx, slog.LevelDebug, "jwks: JWK Set fetched",
			slog.String("url", r.url), slog.Int("keys", len(keys)), slog.Duration("lifetime", life))
	}
	return nil
}

// lifetime returns how long a response with header h is used: its max-age
// less its Age, or the default, clamped to the cache bounds. no-cache and
// no-store count as max-age=0.
func (r *RemoteKeySet) lifetime(h http.Header) time.Duration {
	life, ok := maxAge(h.Values("Cache-Control"))
	if !ok {
		life = r.cfg.defaultLife
	} else if age, err := strconv.ParseUint(strings.TrimSpace(h.Get("Age")), 10, 32); err == nil {
		life -= time.Duration(age) * time.Second
	}
	return min(max(life, r.cfg.minLife), r.cfg.maxLife)
}

// maxAge returns the smallest max-age of Cache-Control header values (a
// duplicate directive can only shorten the lifetime), zero for no-cache or
// no-store, and false when there is none of these.
func maxAge(values []string) (time.Duration, bool) {
	const maxSeconds = 1 << 31 // beyond any cache bound
	var (
		life  time.Duration
		found bool
	)
	for _, v := range values {
		for d := range strings.SplitSeq(v, ",") {
			name, val, _ := strings.Cut(strings.TrimSpace(d), "=")
			var secs uint64
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "no-cache", "no-store":
				secs = 0
			case "max-age":
				n, err := strconv.ParseUint(strings.Trim(strings.TrimSpace(val), `"`), 10, 64)
				if err != nil {
					continue
				}
				secs = min(n, maxSeconds)
			default:
				continue
			}
			if d := time.Duration(secs) * time.Second; !found || d < life {
				life, found = d, true
			}
		}
	}
	return life, found
}

// parseSet returns the usable keys of a JWK Set document, reusing the key
// of the current set for a JWK that did not change. It fails when the
// document is not a JWK Set, or names keys of which none is usable. An
// empty set is no failure: the issuer revoked every key.
func (r *RemoteKeySet) parseSet(ctx context.Context, body []byte) ([]*auth.Key, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.Keys == nil {
		return nil, errors.New("jwks: fetch JWK Set: not a JSON object with a keys array")
	}
	keys := make([]*auth.Key, 0, len(doc.Keys))
	seen := make(map[string]int, len(doc.Keys)) // kid -> count
	for i, raw := range doc.Keys {
		k, err := auth.ParseJWK(r.withAlgorithm(raw))
		kid := printableKeyID(raw)
		if err != nil {
			r.skipped(ctx, i, kid, err.Error())
			continue
		}
		seen[kid]++
		keys = append(keys, k)
	}
	prev := r.snap.Load()
	usable := keys[:0]
	for _, k := range keys {
		if seen[k.ID()] > 1 {
			r.skipped(ctx, -1, k.ID(), "more than one key has this kid")
			continue
		}
		if prev != nil {
			if old := prev.byID[k.ID()]; old != nil && old.Algorithm() == k.Algorithm() && samePublicKey(old.Public(), k.Public()) {
				k = old
			}
		}
		usable = append(usable, k)
	}
	if len(usable) == 0 && len(doc.Keys) > 0 {
		return nil, fmt.Errorf("jwks: fetch JWK Set: no usable key among %d", len(doc.Keys))
	}
	return usable, nil
}

// withAlgorithm returns raw with the "alg" of [WithAlgorithm] added when raw
// is a JWK that names none; otherwise raw.
func (r *RemoteKeySet) withAlgorithm(raw json.RawMessage) json.RawMessage {
	if r.cfg.alg == "" {
		return raw
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || m == nil {
		return raw
	}
	if _, ok := m["alg"]; ok {
		return raw
	}
	alg, _ := json.Marshal(string(r.cfg.alg))
	// Splice the member in front, so a duplicate member elsewhere in raw is
	// still seen (and refused) by the JWK parser.
	out := make([]byte, 0, len(raw)+len(alg)+8)
	out = append(out, `{"alg":`...)
	out = append(out, alg...)
	rest := bytes.TrimSpace(raw)[1:]
	if len(bytes.TrimSpace(rest)) > 1 {
		out = append(out, ',')
	}
	return append(out, rest...)
}

// asymmetric reports whether alg is a public-key algorithm the library knows.
func asymmetric(alg auth.Algorithm) bool {
	switch alg {
	case auth.RS256, auth.RS384, auth.RS512, auth.PS256, auth.PS384, auth.PS512, auth.ES256, auth.ES384, auth.ES512, auth.EdDSA:
		return true
	}
	return false
}

func (r *RemoteKeySet) skipped(ctx context.Context, index int, kid, reason string) {
	if l := r.cfg.logger; l != nil && l.Enabled(ctx, slog.LevelDebug) {
		attrs := []slog.Attr{slog.String("url", r.url), slog.String("reason", reason)}
		if index >= 0 {
			attrs = append(attrs, slog.Int("index", index))
		}
		if kid != "" {
			attrs = append(attrs, slog.String("kid", kid))
		}
		l.LogAttrs(ctx, slog.LevelDebug, "jwks: JWK skipped", attrs...)
	}
}

func samePublicKey(a, b crypto.PublicKey) bool {
	e, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && e.Equal(b)
}

// printableKeyID returns the kid of a JWK for logs, or "" when it has none
// that is short printable ASCII.
func printableKeyID(raw json.RawMessage) string {
	var m struct {
		KeyID string `json:"kid"`
	}
	if json.Unmarshal(raw, &m) != nil || len(m.KeyID) > 128 {
		return ""
	}
	for i := 0; i < len(m.KeyID); i++ {
		if m.KeyID[i] < 0x21 || m.KeyID[i] > 0x7e {
			return ""
		}
	}
	return m.KeyID
}
