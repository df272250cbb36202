package sqlstore_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/authtest"
	"github.com/jwtkit/auth/sqlstore"
)

// TestRefreshStore runs the conformance suite: on PostgreSQL with a fresh
// schema per subtest, reached through search_path and, once more, named
// with WithSchema and with another table prefix; on SQLite with a new file
// per subtest: with immediate transactions as the package documentation
// recommends, with SQLite's default deferred ones, which the store must
// survive too, and through a pool of one connection with no table prefix.
func TestRefreshStore(t *testing.T) {
	for _, tt := range []struct {
		name string
		new  func(testing.TB) auth.RefreshStore
	}{
		{"postgres", func(t testing.TB) auth.RefreshStore { return newPostgresStore(t) }},
		{"postgres-schema", func(t testing.TB) auth.RefreshStore { return newPostgresSchemaStore(t) }},
		{"sqlite", func(t testing.TB) auth.RefreshStore { return newSQLiteStore(t) }},
		{"sqlite-deferred", func(t testing.TB) auth.RefreshStore {
			return newSQLiteStore(t, "_pragma=busy_timeout(30000)", "_pragma=journal_mode(WAL)")
		}},
		{"sqlite-one-conn", func(t testing.TB) auth.RefreshStore {
			db := newSQLiteDB(t)
			db.SetMaxOpenConns(1)
			return migrated(t, db, sqlstore.SQLite, sqlstore.WithTablePrefix(""))
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			authtest.TestRefreshStore(t, func(t *testing.T) auth.RefreshStore { return tt.new(t) })
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
			fam, rec := family(user, at)
			fam.ExpiresAt, rec.ExpiresAt = at.Add(time.Hour), at.Add(time.Hour)
			if err := s.CreateFamily(ctx, fam, rec); err != nil {
				t.Fatalf("CreateFamily = %v", err)
			}
			gotRec, gotFam, found, err := s.Lookup(ctx, auth.RouteFor(user), rec.Hash)
			if !found || err != nil {
				t.Fatalf("Lookup = %v, %v; want true, nil", found, err)
			}
			for _, tc := range []struct {
				name      string
				got, want time.Time
			}{
				{"IssuedAt", gotRec.IssuedAt, want},
				{"ExpiresAt", gotRec.ExpiresAt, want.Add(time.Hour)},
				{"CreatedAt", gotFam.CreatedAt, want},
				{"RefreshedAt", gotFam.RefreshedAt, want},
			} {
				if tc.got != tc.want { // == compares the location too
					t.Errorf("Lookup: %s = %v; want %v", tc.name, tc.got, tc.want)
				}
			}
			if !gotRec.UsedAt.IsZero() || !gotFam.RevokedAt.IsZero() {
				t.Errorf("Lookup: UsedAt = %v, RevokedAt = %v; want zero times", gotRec.UsedAt, gotFam.RevokedAt)
			}
		})
	}
}

// TestPreconditions checks that calls that break a precondition of the
// contract are errors that change nothing: a token created with another
// family, a zero hash, a duplicate, a rotation into another family.
func TestPreconditions(t *testing.T) {
	for _, tt := range stores {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := tt.new(t)
			ctx := t.Context()
			now := time.Now().UTC().Truncate(time.Microsecond)
			user := uuid.NewString()
			route := auth.RouteFor(user)
			fam, a := family(user, now)
			if err := s.CreateFamily(ctx, fam, a); err != nil {
				t.Fatalf("CreateFamily = %v", err)
			}

			other, b := family(user, now)
			b.FamilyID = fam.ID
			if err := s.CreateFamily(ctx, other, b); err == nil {
				t.Errorf("CreateFamily(token of another family) = nil; want an error")
			}
			other, b = family(user, now)
			b.Hash = auth.TokenHash{}
			if err := s.CreateFamily(ctx, other, b); err == nil {
				t.Errorf("CreateFamily(zero hash) = nil; want an error")
			}
			other, b = family(user, now)
			b.Hash = a.Hash
			if err := s.CreateFamily(ctx, other, b); err == nil {
				t.Errorf("CreateFamily(duplicate hash) = nil; want an error")
			}
			if fams, err := s.Families(ctx, user, now); err != nil || len(fams) != 1 {
				t.Errorf("Families after refused creations = %d families, %v; want 1, nil", len(fams), err)
			}

			for _, tc := range []struct {
				name string
				next func() auth.RefreshRecord
			}{
				{"another family", func() auth.RefreshRecord { n := successor(a, now); n.FamilyID = uuid.NewString(); return n }},
				{"another user", func() auth.RefreshRecord { n := successor(a, now); n.UserID = uuid.NewString(); return n }},
				{"zero hash", func() auth.RefreshRecord { n := successor(a, now); n.Hash = auth.TokenHash{}; return n }},
				{"duplicate hash", func() auth.RefreshRecord { n := successor(a, now); n.Hash = a.Hash; return n }},
			} {
				next := tc.next()
				if ok, err := s.Rotate(ctx, route, a.Hash, auth.TokenHash{}, next); ok || err == nil {
					t.Errorf("Rotate(next of %s) = %v, %v; want false, an error", tc.name, ok, err)
				}
				rec, _, found, err := s.Lookup(ctx, route, a.Hash)
				if !found || err != nil || rec.Used() {
					t.Errorf("after Rotate(next of %s): Lookup(old) = used %v, %v, %v; want unused, true, nil", tc.name, rec.Used(), found, err)
				}
			}
			if ok, err := s.Rotate(ctx, route, a.Hash, auth.TokenHash{}, successor(a, now)); !ok || err != nil {
				t.Errorf("Rotate after the refused ones = %v, %v; want true, nil", ok, err)
			}
		})
	}
}
