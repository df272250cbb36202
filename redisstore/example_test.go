package redisstore_test

import (
	"context"
	"log"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/authstore"
	"github.com/jwtkit/auth/redisstore"
)

// A service whose sessions, revocations and login throttle live in Redis,
// shared by all its instances. With Redis Cluster, pass a
// redis.NewClusterClient instead: nothing else changes.
func Example() {
	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
	defer rdb.Close()

	store, err := redisstore.New(rdb, redisstore.WithKeyPrefix("myapp:auth:"))
	if err != nil {
		log.Fatal(err)
	}
	throttle, err := redisstore.NewThrottle(rdb, authstore.Rate{Limit: 5, Window: 15 * time.Minute}, redisstore.WithKeyPrefix("myapp:auth:"))
	if err != nil {
		log.Fatal(err)
	}
	key, err := auth.NewHMACKey(auth.HS256, []byte("an example secret of 32+ bytes!!"))
	if err != nil {
		log.Fatal(err)
	}
	keys, err := auth.NewKeySet(key)
	if err != nil {
		log.Fatal(err)
	}
	a, err := auth.New(
		auth.WithKeys(keys),
		auth.WithIssuer("https://id.example.com"),
		auth.WithAudience("example-api"),
		auth.WithClaimsLoader(func(ctx context.Context, userID string) (auth.Claims, error) {
			return auth.Claims{Subject: userID}, nil
		}),
		auth.WithRefreshStore(store),
		auth.WithRevocation(store),
		auth.WithLoginThrottle(throttle),
	)
	if err != nil {
		log.Fatal(err)
	}

	// Delete revoked and expired sessions now and then; Redis expires the
	// rest by itself.
	go func() {
		for range time.Tick(5 * time.Minute) {
			if _, err := a.Purge(context.Background()); err != nil {
				log.Print(err)
			}
		}
	}()

	ctx := context.Background()
	s, err := a.StartSession(ctx, auth.Claims{Subject: "user-42"}, auth.Client{UserAgent: "curl/8.5"})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := a.Refresh(ctx, s.RefreshToken, auth.Client{}); err != nil {
		log.Fatal(err)
	}
}
