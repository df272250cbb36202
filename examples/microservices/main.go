// Command microservices runs two services that share no secret: an auth
// service that signs access tokens (EdDSA by default) and publishes its
// public keys as a JWK Set, and an API service that verifies those tokens
// with the JWK Set alone, fetched over HTTP by jwks.RemoteKeySet. The API
// never holds a key that can sign.
//
// A curl session:
//
//	$ go run ./examples/microservices
//	microservices: auth service on http://127.0.0.1:8081 (EdDSA), API on http://127.0.0.1:8082
//
//	$ curl -s localhost:8081/.well-known/jwks.json
//	{"keys":[{"kty":"OKP","kid":"…","use":"sig","alg":"EdDSA","crv":"Ed25519","x":"…"}]}
//
//	$ curl -s -X POST localhost:8081/token -d '{"user":"ada","role":"admin"}'
//	{"accessToken":"eyJ…","expiresIn":900,"tokenType":"Bearer"}
//
//	$ TOKEN=eyJ…   # the accessToken above
//	$ curl -s localhost:8082/api/hello -H "Authorization: Bearer $TOKEN"
//	{"message":"hello ada"}
//
//	$ curl -s localhost:8082/api/admin -H "Authorization: Bearer $TOKEN"
//	{"message":"welcome, ada"}
//
//	$ curl -s localhost:8082/api/hello
//	{"error":"authentication required","code":"NO_TOKEN"}
//
// The token endpoint issues a token to whoever asks, standing in for a
// login (examples/basic has the real thing).
//
// Configuration comes from the environment: AUTH_ALG (EdDSA, or RS256,
// ES256 or another public-key algorithm), AUTH_ADDR and API_ADDR (the
// listen addresses, 127.0.0.1:8081 and 127.0.0.1:8082), and
// AUTH_ROTATE_EVERY (a Go duration; when set, the auth service starts a key
// rotation that long after the previous one ended: it publishes the next
// key, signs with it six minutes later, once every verifier has refreshed
// the five-minute JWK Set, and retires the old key sixteen minutes after
// that, once its tokens have expired). Requests keep succeeding throughout
// a rotation; main_test.go shows it.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/jwtkit/auth"
)

// audience is the aud of every token the auth service issues for the API.
const audience = "api"

const (
	// accessTTL is the lifetime of the auth service's tokens.
	accessTTL = 15 * time.Minute
	// jwksCacheTime is how long verifiers may cache a JWK Set that
	// auth.KeySet serves (its Cache-Control: max-age=300).
	jwksCacheTime = 5 * time.Minute
)

// Rotation waits: publish waits out the JWK Set's cache lifetime, retire
// the access tokens' lifetime, each with a minute to spare.
const (
	publishWait = jwksCacheTime + time.Minute
	retireWait  = accessTTL + time.Minute
)

// publicKeyAlgorithms are the values of AUTH_ALG: algorithms whose tokens
// other services verify with a public key alone.
var publicKeyAlgorithms = []auth.Algorithm{
	auth.EdDSA, auth.ES256, auth.ES384, auth.ES512,
	auth.RS256, auth.RS384, auth.RS512, auth.PS256, auth.PS384, auth.PS512,
}

func main() {
	if err := run(context.Background(), os.Getenv, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "microservices:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, getenv func(string) string, stderr io.Writer) error {
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	alg := auth.Algorithm(envOr(getenv, "AUTH_ALG", string(auth.EdDSA)))
	switch {
	case alg == auth.HS256 || alg == auth.HS384 || alg == auth.HS512:
		return fmt.Errorf("AUTH_ALG: %s is a shared secret: other services could not verify without it", alg)
	case !slices.Contains(publicKeyAlgorithms, alg):
		return fmt.Errorf("AUTH_ALG: %q is not a public-key algorithm such as EdDSA, ES256 or RS256", string(alg))
	}
	var (
		rotateEvery time.Duration
		err         error
	)
	if v := getenv("AUTH_ROTATE_EVERY"); v != "" {
		if rotateEvery, err = time.ParseDuration(v); err != nil || rotateEvery <= 0 {
			return fmt.Errorf("AUTH_ROTATE_EVERY: %q is not a positive Go duration", v)
		}
	}
	authLn, err := net.Listen("tcp", envOr(getenv, "AUTH_ADDR", "127.0.0.1:8081"))
	if err != nil {
		return err
	}
	defer authLn.Close()
	apiLn, err := net.Listen("tcp", envOr(getenv, "API_ADDR", "127.0.0.1:8082"))
	if err != nil {
		return err
	}
	defer apiLn.Close()

	issuer := "http://" + authLn.Addr().String()
	authSvc, err := newAuthService(alg, issuer, audience, logger.With("service", "auth"))
	if err != nil {
		return err
	}
	apiSvc, err := newAPIService(issuer+"/.well-known/jwks.json", issuer, audience, logger.With("service", "api"))
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	servers := []*http.Server{newHTTPServer(authSvc.Handler(), logger), newHTTPServer(apiSvc.Handler(), logger)}
	errc := make(chan error, 2)
	go func() { errc <- servers[0].Serve(authLn) }()
	// The auth service is listening: the API's first fetch can succeed.
	if err := apiSvc.Start(ctx); err != nil {
		logger.Warn("first JWK Set fetch failed; retrying in the background", "error", err)
	}
	go func() { errc <- servers[1].Serve(apiLn) }()
	if rotateEvery > 0 {
		go rotate(ctx, authSvc, rotateEvery, logger)
	}
	fmt.Fprintf(stderr, "microservices: auth service on %s (%s), API on http://%s\n", issuer, alg, apiLn.Addr())

	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, s := range servers {
		if serr := s.Shutdown(shutdownCtx); serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
			err = serr
		}
	}
	return err
}

// rotate rotates the auth service's key, waiting every between the end of
// one rotation and the start of the next, until ctx ends.
func rotate(ctx context.Context, s *authService, every time.Duration, logger *slog.Logger) {
	for sleep(ctx, every) == nil {
		if err := s.Rotate(ctx, publishWait, retireWait); err != nil && ctx.Err() == nil {
			logger.Error("key rotation failed", "error", err)
		}
	}
}

func newHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

func envOr(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}
