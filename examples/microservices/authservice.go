package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/jwtkit/auth"
)

// authService issues access tokens and publishes the public keys that
// verify them as a JWK Set. It is the only service that holds a private
// key.
type authService struct {
	alg    auth.Algorithm
	keys   *auth.KeySet
	auth   *auth.Auth
	logger *slog.Logger

	mu sync.Mutex // serialises the steps of rotations
}

// newAuthService returns an auth service that signs with a new key of alg.
func newAuthService(alg auth.Algorithm, issuer, audience string, logger *slog.Logger) (*authService, error) {
	if alg == auth.HS256 || alg == auth.HS384 || alg == auth.HS512 {
		return nil, fmt.Errorf("%s is a shared secret: other services could not verify without it", alg)
	}
	key, err := auth.GenerateKey(nil, alg)
	if err != nil {
		return nil, err
	}
	keys, err := auth.NewKeySet(key)
	if err != nil {
		return nil, err
	}
	a, err := auth.New(auth.WithKeys(keys), auth.WithIssuer(issuer), auth.WithAudience(audience),
		auth.WithAccessTTL(accessTTL), auth.WithLogger(logger))
	if err != nil {
		return nil, err
	}
	return &authService{alg: alg, keys: keys, auth: a, logger: logger}, nil
}

// Handler serves the JWK Set and the token endpoint:
//
//	GET  /.well-known/jwks.json  the public keys, cacheable for 5 minutes
//	POST /token {"user": "ada", "role": "admin"}
//	     -> {"accessToken": "…", "tokenType": "Bearer", "expiresIn": 900}
//
// The token endpoint stands in for a login: it issues a token to whoever
// asks. A real auth service checks a password first (see examples/basic
// and [auth.Auth.Login]).
func (s *authService) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /.well-known/jwks.json", s.keys)
	mux.HandleFunc("POST /token", s.token)
	return mux
}

func (s *authService) token(w http.ResponseWriter, r *http.Request) {
	var req struct {
		User string `json:"user"`
		Role string `json:"role"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10))
	if err := dec.Decode(&req); err != nil || req.User == "" {
		writeJSON(w, http.StatusBadRequest, struct {
			Error string `json:"error"`
			Code  string `json:"code"`
		}{`send {"user": "…"}`, auth.ErrorCode(auth.ErrInvalidInput)})
		return
	}
	at, err := s.auth.Issue(r.Context(), auth.Claims{Subject: req.User, Role: req.Role})
	if err != nil {
		auth.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"accessToken": at.Token,
		"tokenType":   "Bearer",
		"expiresIn":   int(at.ExpiresIn.Seconds()),
	})
}

// AddNextKey generates the next key and publishes it: from now on it is in
// the JWK Set, but it does not sign yet.
func (s *authService) AddNextKey() (*auth.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	next, err := auth.GenerateKey(nil, s.alg)
	if err != nil {
		return nil, err
	}
	if err := s.keys.Add(next); err != nil {
		return nil, err
	}
	s.logger.Info("key published", "kid", next.ID())
	return next, nil
}

// Promote makes next, published by AddNextKey, the signing key and returns
// the kid of the key it replaces, which keeps verifying until Retire.
func (s *authService) Promote(next *auth.Key) (previous string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	previous = s.keys.SigningKey().ID()
	if err := s.keys.Promote(next); err != nil {
		return "", err
	}
	s.logger.Info("key promoted", "kid", next.ID(), "previous", previous)
	return previous, nil
}

// Retire removes the key kid from the JWK Set. Call it once every token the
// key signed has expired.
func (s *authService) Retire(kid string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.keys.Retire(kid); err != nil {
		return err
	}
	s.logger.Info("key retired", "kid", kid)
	return nil
}

// Rotate runs one rotation: publish the next key, wait publish (at least the
// JWK Set's cache lifetime, so every verifier has fetched it), sign with
// it, wait retire (at least the access token lifetime, so every token of the
// old key has expired), and retire the old key. It returns early, leaving
// the keys consistent, when ctx ends.
func (s *authService) Rotate(ctx context.Context, publish, retire time.Duration) error {
	next, err := s.AddNextKey()
	if err != nil {
		return err
	}
	if err := sleep(ctx, publish); err != nil {
		return err
	}
	previous, err := s.Promote(next)
	if err != nil {
		return err
	}
	if err := sleep(ctx, retire); err != nil {
		return err
	}
	return s.Retire(previous)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
