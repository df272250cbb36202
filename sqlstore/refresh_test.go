package sqlstore_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/jwtkit/auth/authstore"
	"github.com/jwtkit/auth/authtest"
	"github.com/jwtkit/auth/sqlstore"
)

// suiteSetups are the connections the conformance suites run on: on
// PostgreSQL with a fresh schema per subtest, reached through search_path
// and, once more, named with WithSchema and with another table prefix; on
// SQLite with a new file per subtest: with immediate transactions as the
// package documentation recommends, with SQLite's default deferred ones,
// which the store must survive too, and through a pool of one connection
// with no table prefix.
var suiteSetups = []struct {
	name string
	new  func(testing.TB) *sqlstore.Store
}{
	{"postgres", func(t testing.TB) *sqlstore.Store { return newPostgresStore(t) }},
	{"postgres-schema", func(t testing.TB) *sqlstore.Store { return newPostgresSchemaStore(t) }},
	{"sqlite", func(t testing.TB) *sqlstore.Store { return newSQLiteStore(t) }},
	{"sqlite-deferred", func(t testing.TB) *sqlstore.Store {
		return newSQLiteStore(t, "_pragma=busy_timeout(30000)", "_pragma=journal_mode(WAL)")
	}},
	{"sqlite-one-conn", func(t testing.TB) *sqlstore.Store {
		db := newSQLiteDB(t)
		db.SetMaxOpenConns(1)
		return migrated(t, db, sqlstore.SQLite, sqlstore.WithTablePrefix(""))
	}},
}

// TestRefreshStore runs the conformance suite of the refresh store on
// every setup of suiteSetups.
func TestRefreshStore(t *testing.T) {
	for _, tt := range suiteSetups {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			authtest.TestRefreshStore(t, func(t *testing.T) authstore.RefreshStore { return tt.new(t) })
		})
	}
}

// TestTimes checks that times are stored to the microsecond (truncated)
// and come back in UTC, whatever their location.
func TestTimes(t *testing.T) {
	for _, tt := range stores {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := tt.new(t)
			ctx := t.Context()
			zone := time.FixedZone("UTC-7", -7*3600)
			at := time.Date(2026, 3, 1, 5, 4, 3, 123456789, zone)
			want := time.Date(2026, 3, 1, 12, 4, 3, 123456000, time.UTC)
			user := uuid.NewString()
			sess, rec := newSession(user, at)
			sess.ExpiresAt, rec.ExpiresAt = at.Add(time.Hour), at.Add(time.Hour)
			if err := s.CreateSession(ctx, sess, rec); err != nil {
				t.Fatalf("CreateSession = %v", err)
			}
			gotRec, gotSess, found, err := s.Lookup(ctx, authstore.RouteFor(user), rec.Hash)
			if !found || err != nil {
				t.Fatalf("Lookup = %v, %v; want true, nil", found, err)
			}
			for _, tc := range []struct {
				name      string
				got, want time.Time
			}{
				{"IssuedAt", gotRec.IssuedAt, want},
				{"ExpiresAt", gotRec.ExpiresAt, want.Add(time.Hour)},
				{"CreatedAt", gotSess.CreatedAt, want},
				{"RefreshedAt", gotSess.RefreshedAt, want},
			} {
				if tc.got != tc.want { // == compares the location too
					t.Errorf("Lookup: %s = %v; want %v", tc.name, tc.got, tc.want)
				}
			}
			if !gotRec.UsedAt.IsZero() || !gotSess.RevokedAt.IsZero() {
				t.Errorf("Lookup: UsedAt = %v, RevokedAt = %v; want zero times", gotRec.UsedAt, gotSess.RevokedAt)
			}
		})
	}
}

// TestPreconditions checks that calls that break a precondition of the
// contract are errors that change nothing: a token created with another
// session, a zero hash, a duplicate, a rotation into another session.
func TestPreconditions(t *testing.T) {
	for _, tt := range stores {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := tt.new(t)
			ctx := t.Context()
			now := time.Now().UTC().Truncate(time.Microsecond)
			user := uuid.NewString()
			route := authstore.RouteFor(user)
			sess, a := newSession(user, now)
			if err := s.CreateSession(ctx, sess, a); err != nil {
				t.Fatalf("CreateSession = %v", err)
			}

			other, b := newSession(user, now)
			b.SessionID = sess.ID
			if err := s.CreateSession(ctx, other, b); err == nil {
				t.Errorf("CreateSession(token of another session) = nil; want an error")
			}
			other, b = newSession(user, now)
			b.Hash = authstore.TokenHash{}
			if err := s.CreateSession(ctx, other, b); err == nil {
				t.Errorf("CreateSession(zero hash) = nil; want an error")
			}
			other, b = newSession(user, now)
			b.Hash = a.Hash
			if err := s.CreateSession(ctx, other, b); err == nil {
				t.Errorf("CreateSession(duplicate hash) = nil; want an error")
			}
			if sessions, err := s.Sessions(ctx, user, now); err != nil || len(sessions) != 1 {
				t.Errorf("Sessions after refused creations = %d sessions, %v; want 1, nil", len(sessions), err)
			}

			for _, tc := range []struct {
				name string
				next func() authstore.RefreshRecord
			}{
				{"another session", func() authstore.RefreshRecord { n := successor(a, now); n.SessionID = uuid.NewString(); return n }},
				{"another user", func() authstore.RefreshRecord { n := successor(a, now); n.UserID = uuid.NewString(); return n }},
				{"zero hash", func() authstore.RefreshRecord { n := successor(a, now); n.Hash = authstore.TokenHash{}; return n }},
				{"duplicate hash", func() authstore.RefreshRecord { n := successor(a, now); n.Hash = a.Hash; return n }},
			} {
				next := tc.next()
				if ok, err := s.Rotate(ctx, route, a.Hash, authstore.TokenHash{}, next); ok || err == nil {
					t.Errorf("Rotate(next of %s) = %v, %v; want false, an error", tc.name, ok, err)
				}
				rec, _, found, err := s.Lookup(ctx, route, a.Hash)
				if !found || err != nil || rec.Used() {
					t.Errorf("after Rotate(next of %s): Lookup(old) = used %v, %v, %v; want unused, true, nil", tc.name, rec.Used(), found, err)
				}
			}
			if ok, err := s.Rotate(ctx, route, a.Hash, authstore.TokenHash{}, successor(a, now)); !ok || err != nil {
				t.Errorf("Rotate after the refused ones = %v, %v; want true, nil", ok, err)
			}
		})
	}
}
