package main

// The README's snippet that needs the store modules, compiled here; the
// root package's TestREADMESnippets checks that README.md shows it exactly.

import (
	"context"
	"database/sql"
	"log"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/authstore"
	"github.com/jwtkit/auth/redisstore"
	"github.com/jwtkit/auth/sqlstore"
)

func readmeStores(ctx context.Context, keys *auth.KeySet, iss, aud string, loadClaims auth.ClaimsLoader) {
	// snippet: stores
	db, err := sql.Open("pgx", os.Getenv("DATABASE_URL")) // import _ "github.com/jackc/pgx/v5/stdlib"
	if err != nil {
		log.Fatal(err)
	}
	sessions, err := sqlstore.New(db, sqlstore.Postgres)
	if err != nil {
		log.Fatal(err)
	}
	if err := sessions.Migrate(ctx); err != nil { // idempotent, safe from many instances at once
		log.Fatal(err)
	}

	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"}) // or redis.NewClusterClient
	revocations, err := redisstore.New(rdb)
	if err != nil {
		log.Fatal(err)
	}
	throttle, err := redisstore.NewThrottle(rdb, authstore.Rate{Limit: 5, Window: 15 * time.Minute})
	if err != nil {
		log.Fatal(err)
	}

	a, err := auth.New(auth.WithKeys(keys), auth.WithIssuer(iss), auth.WithAudience(aud),
		auth.WithClaimsLoader(loadClaims),
		auth.WithRefreshStore(sessions),  // or revocations: redisstore.Store does both
		auth.WithRevocation(revocations), // checked on every request: one round trip
		auth.WithLoginThrottle(throttle))
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		for range time.Tick(5 * time.Minute) {
			if _, err := a.Purge(ctx); err != nil {
				log.Print(err)
			}
		}
	}()
	// snippet end
}

// The snippet function is compiled, not run.
var _ = readmeStores
