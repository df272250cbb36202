package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtkit/auth/sqlstore"
)

// migrateTarget is an empty database for a store: a pool, the options of
// the store, and the name of its migrations table as a query names it.
type migrateTarget struct {
	db    *sql.DB
	opts  []sqlstore.Option
	table string
}

// TestMigrate checks that Migrate creates the schema once and is
// idempotent: called twice in a row, and called from five goroutines at
// once on a fresh database; and that it upgrades a database of schema
// version 1 (before the one-time tokens), one of version 2 (before the
// signing keys) and one of version 3 (before the bounded chains) to the
// newest version.
func TestMigrate(t *testing.T) {
	const table = sqlstore.DefaultTablePrefix + "sqlstore_migrations"
	for _, tt := range []struct {
		name    string
		dialect sqlstore.Dialect
		target  func(testing.TB) migrateTarget
	}{
		{"postgres", sqlstore.Postgres, func(t testing.TB) migrateTarget {
			return migrateTarget{db: newPostgresDB(t), table: table}
		}},
		{"postgres-schema", sqlstore.Postgres, func(t testing.TB) migrateTarget {
			// A schema that does not exist yet: Migrate creates it.
			_, admin, schema := newSchema(t)
			if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema); err != nil {
				t.Fatal(err)
			}
			return migrateTarget{db: admin, opts: []sqlstore.Option{sqlstore.WithSchema(schema)}, table: schema + "." + table}
		}},
		{"sqlite", sqlstore.SQLite, func(t testing.TB) migrateTarget {
			return migrateTarget{db: newSQLiteDB(t), table: table}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			t.Run("Twice", func(t *testing.T) {
				m := tt.target(t)
				s, err := sqlstore.New(m.db, tt.dialect, m.opts...)
				if err != nil {
					t.Fatalf("New = %v", err)
				}
				for i := range 2 {
					if err := s.Migrate(t.Context()); err != nil {
						t.Fatalf("Migrate() call %d = %v; want nil", i+1, err)
					}
				}
				wantMigrated(t, m, s)
			})
			t.Run("Concurrent", func(t *testing.T) {
				m := tt.target(t)
				s, err := sqlstore.New(m.db, tt.dialect, m.opts...)
				if err != nil {
					t.Fatalf("New = %v", err)
				}
				start := make(chan struct{})
				errs := make([]error, 5)
				var wg sync.WaitGroup
				for i := range errs {
					wg.Go(func() {
						<-start
						errs[i] = s.Migrate(t.Context())
					})
				}
				close(start)
				wg.Wait()
				for i, err := range errs {
					if err != nil {
						t.Errorf("concurrent Migrate() %d = %v; want nil", i, err)
					}
				}
				wantMigrated(t, m, s)
			})
			// The tables that each version after the first creates.
			added := map[int]string{2: "one_time_tokens", 3: "signing_keys"}
			for _, from := range []int{1, 2, 3} {
				t.Run(fmt.Sprintf("UpgradeFrom%d", from), func(t *testing.T) {
					m := tt.target(t)
					s, err := sqlstore.New(m.db, tt.dialect, m.opts...)
					if err != nil {
						t.Fatalf("New = %v", err)
					}
					if err := s.Migrate(t.Context()); err != nil {
						t.Fatalf("Migrate() = %v", err)
					}
					// Back to version from: the tables of the later
					// versions go (with their indexes), and so do the
					// records of those versions.
					base := strings.TrimSuffix(m.table, "sqlstore_migrations")
					// Version 4 adds a column and its index to the tokens.
					stmts := []string{"DROP INDEX " + base + "refresh_tokens_family_idx", "ALTER TABLE " + base + "refresh_tokens DROP COLUMN seq"}
					for v := from + 1; v <= len(added)+1; v++ {
						stmts = append(stmts, "DROP TABLE "+base+added[v])
					}
					stmts = append(stmts, fmt.Sprintf("DELETE FROM %s WHERE version > %d", m.table, from))
					for _, stmt := range stmts {
						if _, err := m.db.ExecContext(t.Context(), stmt); err != nil {
							t.Fatalf("%s: %v", stmt, err)
						}
					}
					if err := s.Migrate(t.Context()); err != nil {
						t.Fatalf("Migrate() of a version %d database = %v; want nil", from, err)
					}
					wantMigrated(t, m, s)
				})
			}
		})
	}
}

// wantMigrated checks that the migrations table records each version
// once, and that the store works, one-time tokens and signing keys
// included.
func wantMigrated(t *testing.T, m migrateTarget, s *sqlstore.Store) {
	t.Helper()
	rows, err := m.db.QueryContext(t.Context(), "SELECT version, name FROM "+m.table+" ORDER BY version")
	if err != nil {
		t.Fatalf("read %s: %v", m.table, err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var v int
		var name string
		if err := rows.Scan(&v, &name); err != nil {
			t.Fatal(err)
		}
		got = append(got, name)
		if v != len(got) {
			t.Errorf("%s: version %d (%s) in row %d; want versions 1, 2, ... once each", m.table, v, name, len(got))
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"init", "one_time_tokens", "signing_keys", "bounded_chains"}; !slices.Equal(got, want) {
		t.Errorf("%s = %v; want %v", m.table, got, want)
	}
	if _, err := s.Sessions(t.Context(), "someone", time.Now()); err != nil {
		t.Errorf("Sessions() after Migrate = %v; want nil", err)
	}
	if _, err := s.RevokeOneTime(t.Context(), "someone", "password_reset"); err != nil {
		t.Errorf("RevokeOneTime() after Migrate = %v; want nil", err)
	}
	if keys, err := s.Keys(t.Context()); err != nil || len(keys) != 0 {
		t.Errorf("Keys() after Migrate = %v, %v; want none, nil", keys, err)
	}
}
