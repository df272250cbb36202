package main

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/jwks"
)

// apiService is a service that accepts the auth service's tokens. It holds
// no key of its own: it verifies with the auth service's JWK Set, fetched
// over HTTP by a [jwks.RemoteKeySet].
type apiService struct {
	keys *jwks.RemoteKeySet
	auth *auth.Auth
}

// newAPIService returns an API service that verifies tokens of issuer for
// audience with the JWK Set at jwksURL.
func newAPIService(jwksURL, issuer, audience string, logger *slog.Logger, opts ...jwks.Option) (*apiService, error) {
	opts = append([]jwks.Option{jwks.WithLogger(logger)}, opts...)
	keys, err := jwks.NewRemoteKeySet(jwksURL, opts...)
	if err != nil {
		return nil, err
	}
	a, err := auth.New(auth.WithKeySource(keys), auth.WithIssuer(issuer), auth.WithAudience(audience), auth.WithLogger(logger))
	if err != nil {
		return nil, err
	}
	return &apiService{keys: keys, auth: a}, nil
}

// Start fetches the JWK Set and keeps it fresh until ctx ends. A failed
// first fetch is returned but not fatal: requests get 503 UNAVAILABLE until
// a fetch succeeds.
func (s *apiService) Start(ctx context.Context) error { return s.keys.Start(ctx) }

// Handler serves the API:
//
//	GET /api/hello           any valid token  -> {"message": "hello ada"}
//	GET /api/admin           role admin       -> {"message": "welcome, ada"}
func (s *apiService) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /api/hello", s.auth.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := auth.ClaimsFromContext(r.Context())
		writeJSON(w, http.StatusOK, map[string]string{"message": "hello " + c.Subject})
	})))
	mux.Handle("GET /api/admin", s.auth.RequireRole("admin")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := auth.ClaimsFromContext(r.Context())
		writeJSON(w, http.StatusOK, map[string]string{"message": "welcome, " + c.Subject})
	})))
	return mux
}
