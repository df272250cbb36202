package sqlstore_test

import (
	"testing"

	"github.com/jwtkit/auth/authstore"
	"github.com/jwtkit/auth/authtest"
	"github.com/jwtkit/auth/sqlstore"
)

// TestOneTimeStore runs the conformance suite of the one-time store on the
// connections TestRefreshStore uses: on PostgreSQL with a fresh schema per
// subtest, reached through search_path and, once more, named with
// WithSchema and with another table prefix; on SQLite with a new file per
// subtest: with immediate transactions, with SQLite's default deferred
// ones, and through a pool of one connection with no table prefix.
func TestOneTimeStore(t *testing.T) {
	for _, tt := range []struct {
		name string
		new  func(testing.TB) authstore.OneTimeStore
	}{
		{"postgres", func(t testing.TB) authstore.OneTimeStore { return newPostgresStore(t) }},
		{"postgres-schema", func(t testing.TB) authstore.OneTimeStore { return newPostgresSchemaStore(t) }},
		{"sqlite", func(t testing.TB) authstore.OneTimeStore { return newSQLiteStore(t) }},
		{"sqlite-deferred", func(t testing.TB) authstore.OneTimeStore {
			return newSQLiteStore(t, "_pragma=busy_timeout(30000)", "_pragma=journal_mode(WAL)")
		}},
		{"sqlite-one-conn", func(t testing.TB) authstore.OneTimeStore {
			db := newSQLiteDB(t)
			db.SetMaxOpenConns(1)
			return migrated(t, db, sqlstore.SQLite, sqlstore.WithTablePrefix(""))
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			authtest.TestOneTimeStore(t, func(t *testing.T) authstore.OneTimeStore { return tt.new(t) })
		})
	}
}
