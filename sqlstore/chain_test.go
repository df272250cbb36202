package sqlstore_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/jwtkit/auth/authstore"
	"github.com/jwtkit/auth/sqlstore"
)

// maxSessionRows is the most token rows a session keeps once its older
// tokens are trimmed: the newest and the authstore.MinKeptTokens before
// it, and old of a grace rotation.
const maxSessionRows = authstore.MinKeptTokens + 2

// sessionRows counts the stored tokens of session id.
func sessionRows(t *testing.T, db *sql.DB, id string) int {
	t.Helper()
	var n int
	q := "SELECT count(*) FROM " + sqlstore.DefaultTablePrefix + "refresh_tokens WHERE family_id = $1"
	if err := db.QueryRowContext(context.Background(), q, id).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// rotateN rotates the session of rec n times, one second apart after
// rec's IssuedAt, and returns the newest token.
func rotateN(t *testing.T, s *sqlstore.Store, rec authstore.RefreshRecord, n int) authstore.RefreshRecord {
	t.Helper()
	route := authstore.RouteFor(rec.UserID)
	for i := range n {
		next := successor(rec, rec.IssuedAt.Add(time.Second))
		if ok, err := s.Rotate(context.Background(), route, rec.Hash, authstore.TokenHash{}, next); !ok || err != nil {
			t.Fatalf("Rotate %d of %d = %v, %v; want true, nil", i+1, n, ok, err)
		}
		rec = next
	}
	return rec
}

// TestBoundedChain checks that a session that rotates 3,000 times (300 on
// SQLite, whose every commit syncs a file) keeps a bounded number of token
// rows (the schema before version 4 kept them all), that each of its newest authstore.MinKeptTokens used tokens is
// still found as used, and that a grace rotation of an old token, which
// keeps old, adds at most one row.
func TestBoundedChain(t *testing.T) {
	for _, tt := range []struct {
		name      string
		dialect   sqlstore.Dialect
		open      func(testing.TB) *sql.DB
		rotations int
	}{
		{"postgres", sqlstore.Postgres, newPostgresDB, 3000},
		{"sqlite", sqlstore.SQLite, func(t testing.TB) *sql.DB { return newSQLiteDB(t) }, 300},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rotations := tt.rotations
			db := tt.open(t)
			s := migrated(t, db, tt.dialect)
			ctx := context.Background()
			user := uuid.NewString()
			route := authstore.RouteFor(user)
			sess, first := newSession(user, time.Now().UTC().Truncate(time.Microsecond))
			if err := s.CreateSession(ctx, sess, first); err != nil {
				t.Fatalf("CreateSession = %v", err)
			}
			// early is the oldest of the used tokens that must be kept.
			early := rotateN(t, s, first, rotations-authstore.MinKeptTokens)
			last := rotateN(t, s, early, authstore.MinKeptTokens)
			n := sessionRows(t, db, sess.ID)
			t.Logf("%d rotations: %d token rows (%d before schema version 4)", rotations, n, rotations+1)
			if n > maxSessionRows {
				t.Errorf("after %d rotations the session has %d token rows; want at most %d", rotations, n, maxSessionRows)
			}
			if _, _, found, err := s.Lookup(ctx, route, first.Hash); found || err != nil {
				t.Errorf("Lookup(first token) after %d rotations = %v, %v; want false, nil (trimmed)", rotations, found, err)
			}
			if rec, _, found, err := s.Lookup(ctx, route, early.Hash); !found || err != nil || !rec.Used() {
				t.Fatalf("Lookup(token %d of %d) = %v, %v, used %v; want a used token", rotations-authstore.MinKeptTokens, rotations, found, err, rec.Used())
			}

			// Grace rotations of one token, over and over, keep that
			// token (the one they rotate) and stay within the bound.
			old, expect := last, rotateN(t, s, last, 1)
			for i := range 2 * authstore.MinKeptTokens {
				next := successor(old, expect.IssuedAt.Add(time.Millisecond))
				if ok, err := s.Rotate(ctx, route, old.Hash, expect.Hash, next); !ok || err != nil {
					t.Fatalf("grace Rotate %d = %v, %v; want true, nil", i+1, ok, err)
				}
				expect = next
			}
			if n := sessionRows(t, db, sess.ID); n > maxSessionRows {
				t.Errorf("after %d grace rotations the session has %d token rows; want at most %d", 2*authstore.MinKeptTokens, n, maxSessionRows)
			}
			if rec, _, found, err := s.Lookup(ctx, route, old.Hash); !found || err != nil || rec.Successor != expect.Hash {
				t.Errorf("Lookup(the token of the grace rotations) = %v, %v; want it found with the newest as successor", found, err)
			}
		})
	}
}

// TestBoundedChainUpgrade checks that the tokens of a session stored
// before schema version 4 (all with seq 0) go a few at a time as the
// session rotates on, until the session is within the bound.
func TestBoundedChainUpgrade(t *testing.T) {
	for _, tt := range []struct {
		name    string
		dialect sqlstore.Dialect
		open    func(testing.TB) *sql.DB
	}{
		{"postgres", sqlstore.Postgres, newPostgresDB},
		{"sqlite", sqlstore.SQLite, func(t testing.TB) *sql.DB { return newSQLiteDB(t) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := tt.open(t)
			s := migrated(t, db, tt.dialect)
			ctx := context.Background()
			user := uuid.NewString()
			sess, first := newSession(user, time.Now().UTC().Truncate(time.Microsecond))
			if err := s.CreateSession(ctx, sess, first); err != nil {
				t.Fatalf("CreateSession = %v", err)
			}
			rec := first
			for range 3 {
				rec = rotateN(t, s, rec, 40)
				// As an older schema left them: every token numbered 0.
				if _, err := db.ExecContext(ctx, "UPDATE "+sqlstore.DefaultTablePrefix+"refresh_tokens SET seq = 0"); err != nil {
					t.Fatal(err)
				}
			}
			before := sessionRows(t, db, sess.ID)
			rec = rotateN(t, s, rec, authstore.MinKeptTokens+before/3+2)
			if n := sessionRows(t, db, sess.ID); n > maxSessionRows {
				t.Errorf("%d legacy rows, then %d rotations: %d token rows; want at most %d", before, authstore.MinKeptTokens+before/3+2, n, maxSessionRows)
			}
			if _, _, found, err := s.Lookup(ctx, authstore.RouteFor(user), rec.Hash); !found || err != nil {
				t.Errorf("Lookup(newest) = %v, %v; want true, nil", found, err)
			}
		})
	}
}
