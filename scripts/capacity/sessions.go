package main

import (
	"context"
	"fmt"
	"sync"

	"github.com/google/uuid"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/authstore"
)

// client is what every session is started and refreshed with: a browser's
// user agent and an IPv4 address, the sizes a session list usually keeps.
var client = auth.Client{
	UserAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
	Address:   "198.51.100.23",
}

// newAuth returns an Auth that keeps its sessions in store, with the
// library's default lifetimes and an Ed25519 signing key.
func newAuth(store authstore.RefreshStore) (*auth.Auth, error) {
	key, err := auth.GenerateKey(nil, auth.EdDSA)
	if err != nil {
		return nil, err
	}
	keys, err := auth.NewKeySet(key)
	if err != nil {
		return nil, err
	}
	return auth.New(
		auth.WithKeys(keys),
		auth.WithIssuer("https://capacity.example"),
		auth.WithAudience("capacity"),
		auth.WithRefreshStore(store),
		auth.WithClaimsLoader(func(context.Context, string) (auth.Claims, error) {
			return auth.Claims{Role: "user"}, nil
		}),
	)
}

// startSessions starts n sessions, each of a user of its own (a random
// UUID), through Auth.StartSession with workers concurrent clients, and
// returns their refresh tokens.
func startSessions(ctx context.Context, a *auth.Auth, n, workers int) ([]string, error) {
	tokens := make([]string, n)
	err := forEach(ctx, n, workers, func(ctx context.Context, i int) error {
		t, err := a.StartSession(ctx, auth.Claims{Subject: uuid.NewString(), Role: "user"}, client)
		if err != nil {
			return fmt.Errorf("capacity: StartSession: %w", err)
		}
		tokens[i] = t.RefreshToken
		return nil
	})
	return tokens, err
}

// rotateAll rotates every session of tokens once through Auth.Refresh,
// with workers concurrent clients, and keeps each new token in its place.
func rotateAll(ctx context.Context, a *auth.Auth, tokens []string, workers int) error {
	return forEach(ctx, len(tokens), workers, func(ctx context.Context, i int) error {
		return refresh(ctx, a, tokens, i)
	})
}

// refresh rotates the session of tokens[i] and keeps its new token there.
func refresh(ctx context.Context, a *auth.Auth, tokens []string, i int) error {
	t, err := a.Refresh(ctx, tokens[i], client)
	if err != nil {
		return fmt.Errorf("capacity: Refresh: %w", err)
	}
	tokens[i] = t.RefreshToken
	return nil
}

// forEach calls f for 0 <= i < n on workers goroutines, worker w taking
// the i with i % workers == w, and returns the first error, after which the
// other workers stop.
func forEach(ctx context.Context, n, workers int, f func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for w := range min(workers, n) {
		wg.Go(func() {
			for i := w; i < n && ctx.Err() == nil; i += workers {
				if err := f(ctx, i); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}
