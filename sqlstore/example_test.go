package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/sqlstore"
)

// Sessions and revocations in an SQLite file: open the database with the
// settings the store needs, build the store, migrate, and hand it to
// auth.New as the refresh store and the revocation store. With PostgreSQL
// only the sql.Open line and the dialect change.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "sqlstore-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "auth.db")+
		"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	store, err := sqlstore.New(db, sqlstore.SQLite)
	if err != nil {
		log.Fatal(err)
	}
	if err := store.Migrate(ctx); err != nil {
		log.Fatal(err)
	}

	key, err := auth.NewHMACKey(auth.HS256, []byte("an example secret of 32+ bytes!!"))
	if err != nil {
		log.Fatal(err)
	}
	keys, _ := auth.NewKeySet(key)
	a, err := auth.New(
		auth.WithKeys(keys),
		auth.WithIssuer("https://id.example.com"),
		auth.WithAudience("example-api"),
		auth.WithRefreshStore(store),
		auth.WithRevocation(store),
		auth.WithClaimsLoader(func(ctx context.Context, userID string) (auth.Claims, error) {
			return auth.Claims{Role: "user"}, nil
		}),
	)
	if err != nil {
		log.Fatal(err)
	}

	s, err := a.StartSession(ctx, auth.Claims{Subject: "user-1", Role: "user"}, auth.Client{UserAgent: "example/1.0"})
	if err != nil {
		log.Fatal(err)
	}
	next, err := a.Refresh(ctx, s.RefreshToken, auth.Client{})
	fmt.Println("refreshed:", err == nil && next.SessionID == s.SessionID)

	claims, err := a.Verify(ctx, next.Access.Token)
	if err != nil {
		log.Fatal(err)
	}
	if err := a.RevokeAccessToken(ctx, claims); err != nil { // logout of this access token
		log.Fatal(err)
	}
	_, err = a.Verify(ctx, next.Access.Token)
	fmt.Println("access token revoked:", errors.Is(err, auth.ErrTokenRevoked))

	_, err = a.Refresh(ctx, s.RefreshToken, auth.Client{}) // the spent token again
	fmt.Println("replay detected:", errors.Is(err, auth.ErrRefreshTokenReused))
	sessions, err := a.Sessions(ctx, "user-1")
	fmt.Println("live sessions:", len(sessions), err)
	// Output:
	// refreshed: true
	// access token revoked: true
	// replay detected: true
	// live sessions: 0 <nil>
}
