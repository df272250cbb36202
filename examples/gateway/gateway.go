package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"

	"golang.org/x/time/rate"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/jwks"
)

// config is what newGateway needs. Every field but Now and Logger is
// required; main fills them from the environment.
type config struct {
	// Upstream is the one service the gateway guards, an absolute http or
	// https URL without query or fragment. Every request goes there, with
	// Upstream's path as a prefix of the request's.
	Upstream *url.URL
	// JWKSURL is the issuer's JWK Set, the only keys tokens verify with.
	JWKSURL string
	// Issuer and Audience are the iss and aud every token must carry.
	Issuer, Audience string
	// Rate and Burst are each subject's budget: Burst requests at once,
	// then Rate requests per second.
	Rate  rate.Limit
	Burst int
	// MaxSubjects caps how many subjects the limiter remembers.
	MaxSubjects int
	// Now is the clock of token checks, of the JWK Set's cache and of the
	// limiter. Default time.Now.
	Now func() time.Time
	// Logger receives refusals and upstream failures, never a token.
	// Default: no logging.
	Logger *slog.Logger
}

// gateway is a reverse proxy in front of one upstream: it admits only
// requests with a valid access token, within their subject's rate, and
// forwards them with the verified identity in the X-Auth-* headers (see
// headers.go). Build one with newGateway; it is safe for concurrent use.
type gateway struct {
	keys    *jwks.RemoteKeySet
	limiter *limiter
	logger  *slog.Logger
	handler http.Handler
}

// newGateway returns the gateway of cfg, or an error naming the field that
// is missing or out of range. It does no I/O: call Start to fetch the JWK
// Set at once, or let the first request fetch it.
func newGateway(cfg config) (*gateway, error) {
	if err := checkUpstream(cfg.Upstream); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	lim, err := newLimiter(cfg.Rate, cfg.Burst, cfg.MaxSubjects, cfg.Now)
	if err != nil {
		return nil, err
	}
	keys, err := jwks.NewRemoteKeySet(cfg.JWKSURL, jwks.WithClock(cfg.Now), jwks.WithLogger(cfg.Logger))
	if err != nil {
		return nil, fmt.Errorf("JWKS_URL: %w", err)
	}
	a, err := auth.New(
		auth.WithKeySource(keys),
		auth.WithIssuer(cfg.Issuer),
		auth.WithAudience(cfg.Audience),
		auth.WithClock(cfg.Now),
		auth.WithLogger(cfg.Logger),
	)
	if err != nil {
		return nil, err
	}
	g := &gateway{keys: keys, limiter: lim, logger: cfg.Logger}
	proxy := &httputil.ReverseProxy{
		Rewrite:      g.rewrite(cfg.Upstream),
		Transport:    upstreamTransport(),
		ErrorHandler: g.upstreamFailed,
		ErrorLog:     slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
	g.handler = a.Require(g.admit(proxy))
	return g, nil
}

// Start fetches the JWK Set and keeps it fresh until ctx ends. A failed
// first fetch is returned but not fatal: requests get 503 UNAVAILABLE until
// a fetch succeeds.
func (g *gateway) Start(ctx context.Context) error { return g.keys.Start(ctx) }

// ServeHTTP verifies the token, applies the subject's rate and forwards the
// request upstream. A refusal never reaches the upstream.
func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) { g.handler.ServeHTTP(w, r) }

// admit lets a verified request through to next (the proxy) unless its
// claims cannot travel in headers (401 INVALID_TOKEN) or it is past its
// subject's budget (429 TOO_MANY_ATTEMPTS with Retry-After).
func (g *gateway) admit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := auth.ClaimsFromContext(r.Context())
		if !headerSafe(c) {
			g.logger.Info("gateway: claims unfit for headers", "subject", c.Subject)
			auth.WriteError(w, r, auth.ErrTokenClaims)
			return
		}
		if wait, ok := g.limiter.Allow(c.Subject); !ok {
			g.logger.Info("gateway: rate limited", "subject", c.Subject, "retryAfter", wait)
			auth.WriteError(w, r, &limitedError{wait: wait})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// rewrite returns the proxy's Rewrite function. The outgoing request's URL
// and Host are always upstream's, whatever the incoming Host header or
// absolute request URI named; the identity headers are replaced by those of
// the verified claims.
func (g *gateway) rewrite(upstream *url.URL) func(*httputil.ProxyRequest) {
	return func(pr *httputil.ProxyRequest) {
		pr.SetURL(upstream) // scheme, host and path prefix; Out.Host = ""
		pr.SetXForwarded()
		stripIdentity(pr.Out.Header)
		c, _ := auth.ClaimsFromContext(pr.In.Context())
		setIdentity(pr.Out.Header, c)
		// Authorization is forwarded as sent: see "Authorization" in main.go.
	}
}

// upstreamFailed answers 502 BAD_GATEWAY in the JSON error shape when the
// upstream cannot be reached or fails mid-response. The log names the
// path, never the query or the URL, which may carry secrets.
func (g *gateway) upstreamFailed(w http.ResponseWriter, r *http.Request, err error) {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if r.Context().Err() == nil {
		g.logger.Warn("gateway: upstream failed", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusBadGateway)
	_ = json.NewEncoder(w).Encode(struct {
		Error string `json:"error"`
		Code  string `json:"code"`
	}{"upstream unavailable", "BAD_GATEWAY"})
}

// limitedError is the refusal of a request past its subject's budget: it
// matches auth.ErrTooManyAttempts, so auth.WriteError answers 429
// TOO_MANY_ATTEMPTS, and carries the wait it sends as Retry-After.
type limitedError struct{ wait time.Duration }

func (e *limitedError) Error() string {
	return fmt.Sprintf("gateway: rate limited, retry after %v", e.wait)
}

func (e *limitedError) Is(target error) bool { return target == auth.ErrTooManyAttempts }

// RetryAfter returns the wait, for auth.RetryAfter.
func (e *limitedError) RetryAfter() time.Duration { return e.wait }

func checkUpstream(u *url.URL) error {
	switch {
	case u == nil:
		return errors.New("UPSTREAM_URL: required")
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("UPSTREAM_URL: %q is not an http or https URL", u.Redacted())
	case u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("UPSTREAM_URL: %q must be scheme://host[:port][/path], without user, query or fragment", u.Redacted())
	}
	return nil
}

// upstreamTransport is the transport to the upstream. It ignores
// HTTP_PROXY and the like, so requests go straight to the upstream, and
// bounds the wait for its response headers.
func upstreamTransport() *http.Transport {
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}
