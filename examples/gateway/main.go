// Command gateway is a reverse proxy that verifies access tokens at the
// edge, in front of one upstream service, which can then read the caller's
// identity from headers that only the gateway sets instead of verifying
// tokens itself. Tokens are verified with the issuer's JWK Set, fetched by
// jwks.RemoteKeySet; each subject gets a rate limit of its own.
//
// A curl session, with examples/microservices as the issuer (port 8081) and
// the upstream (its API, port 8082):
//
//	$ go run ./examples/microservices &
//	$ go run ./examples/gateway
//	gateway: on http://127.0.0.1:8084, forwarding to http://127.0.0.1:8082
//
//	$ TOKEN=$(curl -s -X POST localhost:8081/token -d '{"user":"ada","role":"admin"}' | sed 's/.*"accessToken":"\([^"]*\)".*/\1/')
//	$ curl -s localhost:8084/api/hello -H "Authorization: Bearer $TOKEN" -H "X-Auth-Subject: root"
//	{"message":"hello ada"}
//
//	$ curl -s localhost:8084/api/hello
//	{"error":"authentication required","code":"NO_TOKEN"}
//
//	$ for i in $(seq 25); do curl -s -o /dev/null -w '%{http_code} ' localhost:8084/api/hello -H "Authorization: Bearer $TOKEN"; done
//	200 200 200 … 200 429 429 429
//	$ curl -si localhost:8084/api/hello -H "Authorization: Bearer $TOKEN" | grep -e Retry-After -e code
//	Retry-After: 1
//	{"error":"too many attempts, retry later","code":"TOO_MANY_ATTEMPTS"}
//
// The loop spends ada's burst of 20 (the budget refills at 10 a second, so
// where the 429s start depends on how fast curl runs); another user's
// token would still get 200.
//
// # What the upstream receives
//
// Only requests with a valid token (right signature, iss and aud, not
// expired) within their subject's rate reach the upstream; every other
// request is answered by the gateway in the JSON error shape {"error",
// "code"}: 401 NO_TOKEN, INVALID_TOKEN or TOKEN_EXPIRED, 429
// TOO_MANY_ATTEMPTS with Retry-After, 503 UNAVAILABLE while the JWK Set
// cannot be fetched, 502 BAD_GATEWAY when the upstream cannot be reached.
//
// Every request goes to UPSTREAM_URL, its path appended to UPSTREAM_URL's:
// neither the Host header nor an absolute request URI
// (GET http://other/ HTTP/1.1) can send it elsewhere, and HTTP_PROXY is
// ignored. The Host the upstream sees is its own; the client's is in
// X-Forwarded-Host, next to X-Forwarded-For and X-Forwarded-Proto (those
// the client sent are dropped).
//
// Identity headers sent by the client are deleted, every value and in any
// spelling (case, and '_' for '-'): every X-Auth-* header, and the headers
// other proxies use for an identity, which upstreams often trust: X-Remote-*,
// Remote-*, X-Forwarded-User, -Email, -Groups, -Preferred-Username and
// -Access-Token, X-User, X-User-Id, X-Email, X-Webauth-User,
// X-Authenticated-User(id), X-Consumer-Id, X-Consumer-Username, X-Userinfo,
// X-Goog-Authenticated-*, X-Goog-Iap-*, X-Amzn-Oidc-*,
// X-Ms-Client-Principal* and Cf-Access-* (the list is in headers.go). The
// gateway then sets, from the verified token:
//
//	X-Auth-Subject  sub, always
//	X-Auth-Roles    role, when the token has one
//	X-Auth-Scope    scope (space-separated), when the token has one
//	X-Auth-Email    email, when the token has one
//
// A token whose claims hold a control character (or a role a comma) is
// refused with 401 INVALID_TOKEN rather than forwarded.
//
// # Authorization
//
// The Authorization header is forwarded unchanged. An upstream that
// verifies the token again, as the microservices API does, trusts nothing
// of the network between it and the gateway, and a token that reaches it
// has already passed the same checks. An upstream that only reads the
// X-Auth-* headers must be reachable only through the gateway (listen on
// loopback or a private network); delete the header in rewrite (gateway.go)
// if it should never see the token.
//
// # Configuration
//
// From the environment, every variable optional:
//
//	GATEWAY_ADDR          listen address (127.0.0.1:8084)
//	UPSTREAM_URL          the one upstream, scheme://host[:port][/path] (http://127.0.0.1:8082)
//	JWKS_URL              the issuer's JWK Set (http://127.0.0.1:8081/.well-known/jwks.json)
//	AUTH_ISSUER           iss required of tokens (http://127.0.0.1:8081)
//	AUTH_AUDIENCE         aud required of tokens (api)
//	GATEWAY_RATE          each subject's sustained rate, N/DURATION: 10/s, 600/1m, 1/2s (10/s)
//	GATEWAY_BURST         requests a subject may send at once (20)
//	GATEWAY_MAX_SUBJECTS  subjects whose budget is remembered (10000)
//
// A subject's budget is forgotten once its bucket would be full again
// (GATEWAY_BURST divided by the rate: 2 seconds by default); when
// GATEWAY_MAX_SUBJECTS subjects are all active, the one seen least recently
// is forgotten. Bad configuration stops the gateway at start with one line
// on stderr. SIGINT or SIGTERM stops it gracefully. Logs never hold a
// token, a query string or a header value other than the subject.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/time/rate"
)

func main() {
	if err := run(context.Background(), os.Getenv, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, getenv func(string) string, stderr io.Writer) error {
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	cfg, err := configFromEnv(getenv)
	if err != nil {
		return err
	}
	cfg.Logger = logger
	g, err := newGateway(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", envOr(getenv, "GATEWAY_ADDR", "127.0.0.1:8084"))
	if err != nil {
		return err
	}
	defer ln.Close()

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := g.Start(ctx); err != nil {
		logger.Warn("first JWK Set fetch failed; retrying in the background", "error", err)
	}
	srv := &http.Server{
		Handler:           g,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(stderr, "gateway: on http://%s, forwarding to %s\n", ln.Addr(), cfg.Upstream.Redacted())

	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if serr := srv.Shutdown(shutdownCtx); serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// configFromEnv reads the gateway's configuration; see the package comment
// for the variables and their defaults.
func configFromEnv(getenv func(string) string) (config, error) {
	var cfg config
	raw := envOr(getenv, "UPSTREAM_URL", "http://127.0.0.1:8082")
	u, err := url.Parse(raw)
	if err != nil {
		return cfg, fmt.Errorf("UPSTREAM_URL: %q is not a URL", raw)
	}
	cfg.Upstream = u
	cfg.JWKSURL = envOr(getenv, "JWKS_URL", "http://127.0.0.1:8081/.well-known/jwks.json")
	cfg.Issuer = envOr(getenv, "AUTH_ISSUER", "http://127.0.0.1:8081")
	cfg.Audience = envOr(getenv, "AUTH_AUDIENCE", "api")
	if cfg.Rate, err = parseRate(envOr(getenv, "GATEWAY_RATE", "10/s")); err != nil {
		return cfg, fmt.Errorf("GATEWAY_RATE: %w", err)
	}
	if cfg.Burst, err = positiveInt(envOr(getenv, "GATEWAY_BURST", "20")); err != nil {
		return cfg, fmt.Errorf("GATEWAY_BURST: %w", err)
	}
	if cfg.MaxSubjects, err = positiveInt(envOr(getenv, "GATEWAY_MAX_SUBJECTS", "10000")); err != nil {
		return cfg, fmt.Errorf("GATEWAY_MAX_SUBJECTS: %w", err)
	}
	return cfg, nil
}

// parseRate parses N/DURATION, such as 10/s, 600/1m or 1/2s, into requests
// per second. A bare unit (s, m, h) stands for one of it.
func parseRate(s string) (rate.Limit, error) {
	ns, ds, ok := strings.Cut(s, "/")
	n, err := strconv.Atoi(ns)
	if !ok || err != nil || n < 1 {
		return 0, fmt.Errorf("%q is not N/DURATION with N a positive integer, such as 10/s", s)
	}
	if ds != "" && !strings.ContainsAny(ds[:1], "0123456789.") {
		ds = "1" + ds
	}
	d, err := time.ParseDuration(ds)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not N/DURATION with a positive Go duration, such as 10/s", s)
	}
	return rate.Limit(float64(n) / d.Seconds()), nil
}

func positiveInt(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%q is not a positive integer", s)
	}
	return n, nil
}

func envOr(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}
