package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"modernc.org/sqlite"               // registers the "sqlite" driver

	"github.com/jwtkit/auth/authstore"
	"github.com/jwtkit/auth/internal/testenv"
	"github.com/jwtkit/auth/sqlstore"
)

// sqliteParams are the connection settings the package documentation asks
// SQLite users for: wait for the write lock instead of failing, and let
// readers run beside the writer.
const sqliteParams = "_pragma=busy_timeout(30000)&_pragma=journal_mode(WAL)&_txlock=immediate"

// adminDBs holds one connection pool per PostgreSQL URL, shared by the
// tests of the process, for creating and dropping schemas.
var adminDBs sync.Map // url -> *sql.DB

// postgresURL returns the test server's URL and a pool connected to it;
// the test skips (or fails under CI=true) when there is no server.
func postgresURL(t testing.TB) (string, *sql.DB) {
	t.Helper()
	u := testenv.PostgresURL(t)
	if db, ok := adminDBs.Load(u); ok {
		return u, db.(*sql.DB)
	}
	db, err := sql.Open("pgx", u)
	if err != nil {
		t.Fatalf("sql.Open(pgx, %q) = %v", u, err)
	}
	if err := db.PingContext(context.Background()); err != nil {
		t.Fatalf("ping PostgreSQL: %v", err)
	}
	if prev, loaded := adminDBs.LoadOrStore(u, db); loaded {
		db.Close()
		db = prev.(*sql.DB)
	}
	return u, db
}

// newSchema creates an empty schema with a random name, dropped with
// everything in it when the test ends.
func newSchema(t testing.TB) (url string, admin *sql.DB, schema string) {
	t.Helper()
	url, admin = postgresURL(t)
	var b [6]byte
	rand.Read(b[:])
	schema = "authtest_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("CREATE SCHEMA %s: %v", schema, err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("DROP SCHEMA %s: %v", schema, err)
		}
	})
	return url, admin, schema
}

// newPostgresDB returns a pool of connections to a fresh schema, which is
// first in their search_path, as most applications connect.
func newPostgresDB(t testing.TB) *sql.DB {
	t.Helper()
	u, _, schema := newSchema(t)
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatalf("url.Parse(%q) = %v", u, err)
	}
	q := parsed.Query()
	q.Set("search_path", schema)
	parsed.RawQuery = q.Encode()
	db, err := sql.Open("pgx", parsed.String())
	if err != nil {
		t.Fatalf("sql.Open(pgx) = %v", err)
	}
	t.Cleanup(func() { db.Close() }) // runs before the schema is dropped
	return db
}

// newSQLiteDB returns a pool of connections to a new database file in a
// temporary directory. params replaces sqliteParams when given.
func newSQLiteDB(t testing.TB, params ...string) *sql.DB {
	t.Helper()
	p := sqliteParams
	if len(params) > 0 {
		p = strings.Join(params, "&")
	}
	dsn := "file:" + filepath.Join(t.TempDir(), "auth.db") + "?" + p
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatalf("sql.Open(sqlite, %q) = %v", dsn, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// migrated returns a migrated store on db.
func migrated(t testing.TB, db *sql.DB, d sqlstore.Dialect, opts ...sqlstore.Option) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.New(db, d, opts...)
	if err != nil {
		t.Fatalf("New(%v) = %v", d, err)
	}
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate() = %v", err)
	}
	return s
}

// newPostgresStore returns a migrated store in a fresh schema reached
// through search_path.
func newPostgresStore(t testing.TB) *sqlstore.Store {
	t.Helper()
	return migrated(t, newPostgresDB(t), sqlstore.Postgres)
}

// newPostgresSchemaStore returns a migrated store in a fresh schema named
// with WithSchema, with another table prefix, on the shared pool.
func newPostgresSchemaStore(t testing.TB) *sqlstore.Store {
	t.Helper()
	_, admin, schema := newSchema(t)
	return migrated(t, admin, sqlstore.Postgres, sqlstore.WithSchema(schema), sqlstore.WithTablePrefix("app_auth_"))
}

// newSQLiteStore returns a migrated store in a new SQLite file.
func newSQLiteStore(t testing.TB, params ...string) *sqlstore.Store {
	t.Helper()
	return migrated(t, newSQLiteDB(t, params...), sqlstore.SQLite)
}

// stores names the store constructors the tests run against, each one
// dialect and way of connecting.
var stores = []struct {
	name string
	new  func(testing.TB) *sqlstore.Store
}{
	{"postgres", newPostgresStore},
	{"sqlite", func(t testing.TB) *sqlstore.Store { return newSQLiteStore(t) }},
}

// TestNew checks that New accepts the documented options and refuses
// everything else, before touching the database.
func TestNew(t *testing.T) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "never-created.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, tt := range []struct {
		name    string
		db      *sql.DB
		dialect sqlstore.Dialect
		opts    []sqlstore.Option
		ok      bool
	}{
		{"postgres", db, sqlstore.Postgres, nil, true},
		{"sqlite", db, sqlstore.SQLite, nil, true},
		{"prefix", db, sqlstore.Postgres, []sqlstore.Option{sqlstore.WithTablePrefix("my_app_auth_")}, true},
		{"empty prefix", db, sqlstore.SQLite, []sqlstore.Option{sqlstore.WithTablePrefix("")}, true},
		{"schema", db, sqlstore.Postgres, []sqlstore.Option{sqlstore.WithSchema("auth"), sqlstore.WithTablePrefix("")}, true},
		{"nil db", nil, sqlstore.Postgres, nil, false},
		{"zero dialect", db, 0, nil, false},
		{"unknown dialect", db, 3, nil, false},
		{"upper-case prefix", db, sqlstore.Postgres, []sqlstore.Option{sqlstore.WithTablePrefix("Auth_")}, false},
		{"quoting prefix", db, sqlstore.Postgres, []sqlstore.Option{sqlstore.WithTablePrefix(`a"; DROP TABLE x; --`)}, false},
		{"digit prefix", db, sqlstore.Postgres, []sqlstore.Option{sqlstore.WithTablePrefix("1_")}, false},
		{"long prefix", db, sqlstore.Postgres, []sqlstore.Option{sqlstore.WithTablePrefix(strings.Repeat("p", 40))}, false},
		{"empty schema", db, sqlstore.Postgres, []sqlstore.Option{sqlstore.WithSchema("")}, false},
		{"dotted schema", db, sqlstore.Postgres, []sqlstore.Option{sqlstore.WithSchema("a.b")}, false},
		{"schema on sqlite", db, sqlstore.SQLite, []sqlstore.Option{sqlstore.WithSchema("auth")}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := sqlstore.New(tt.db, tt.dialect, tt.opts...)
			if tt.ok && (s == nil || err != nil) {
				t.Errorf("New(%v) = %v, %v; want a store, nil", tt.dialect, s, err)
			}
			if !tt.ok && (s != nil || err == nil || !strings.HasPrefix(err.Error(), "sqlstore: ")) {
				t.Errorf("New(%v) = %v, %v; want nil, an error", tt.dialect, s, err)
			}
		})
	}
}

// TestDriverErrors checks that a failing database is a system failure, an
// error that wraps the driver's, never found == false; here the tables are
// missing because Migrate was not called.
func TestDriverErrors(t *testing.T) {
	for _, tt := range []struct {
		name    string
		dialect sqlstore.Dialect
		open    func(testing.TB) *sql.DB
		isDB    func(error) bool // whether err wraps the driver's error
	}{
		{"postgres", sqlstore.Postgres, newPostgresDB, func(err error) bool {
			var pgErr *pgconn.PgError
			return errors.As(err, &pgErr) && pgErr.Code == "42P01" // undefined_table
		}},
		{"sqlite", sqlstore.SQLite, func(t testing.TB) *sql.DB { return newSQLiteDB(t) }, func(err error) bool {
			var sqliteErr *sqlite.Error
			return errors.As(err, &sqliteErr)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := sqlstore.New(tt.open(t), tt.dialect)
			if err != nil {
				t.Fatal(err)
			}
			ctx := t.Context()
			now := time.Now()
			user := uuid.NewString()
			sess, rec := newSession(user, now)
			check := func(call string, err error) {
				t.Helper()
				if err == nil || !tt.isDB(err) || !strings.HasPrefix(err.Error(), "sqlstore: ") {
					t.Errorf("%s on missing tables: error = %v; want the driver's error, wrapped", call, err)
				}
			}
			check("CreateSession", s.CreateSession(ctx, sess, rec))
			_, _, found, err := s.Lookup(ctx, authstore.RouteFor(user), rec.Hash)
			check("Lookup", err)
			if found {
				t.Errorf("Lookup on missing tables: found = true")
			}
			_, err = s.Rotate(ctx, authstore.RouteFor(user), rec.Hash, authstore.TokenHash{}, successor(rec, now))
			check("Rotate", err)
			_, err = s.RevokeSession(ctx, user, sess.ID, now)
			check("RevokeSession", err)
			_, err = s.RevokeUser(ctx, user, now)
			check("RevokeUser", err)
			_, err = s.Sessions(ctx, user, now)
			check("Sessions", err)
			_, err = s.Purge(ctx, now, 10)
			check("Purge", err)
			_, err = s.Revoked(ctx, user, "s", "j", now)
			check("Revoked", err)
			check("Deny", s.Deny(ctx, user, "j", now))
			check("CutOff", s.CutOff(ctx, user, now))
			oneTime := authstore.OneTimeToken{Hash: rec.Hash, UserID: user, Purpose: "password_reset", ExpiresAt: now.Add(time.Hour)}
			check("SaveOneTime", s.SaveOneTime(ctx, oneTime))
			_, found, err = s.ConsumeOneTime(ctx, authstore.RouteFor(user), oneTime.Hash, oneTime.Purpose, now)
			check("ConsumeOneTime", err)
			if found {
				t.Errorf("ConsumeOneTime on missing tables: found = true")
			}
			_, err = s.RevokeOneTime(ctx, user, oneTime.Purpose)
			check("RevokeOneTime", err)
			key := authstore.KeyRecord{Generation: 1, ID: uuid.NewString(), Algorithm: "EdDSA", Sealed: []byte{1}, CreatedAt: now, ActiveAt: now}
			added, err := s.AddKey(ctx, key)
			check("AddKey", err)
			if added {
				t.Errorf("AddKey on missing tables: added = true")
			}
			keys, err := s.Keys(ctx)
			check("Keys", err)
			if keys != nil {
				t.Errorf("Keys on missing tables = %v; want nil", keys)
			}
			_, err = s.DeleteKeys(ctx, 2)
			check("DeleteKeys", err)
		})
	}
}

// newSession returns a new session of userID signed in at created and its first
// token, not stored.
func newSession(userID string, created time.Time) (authstore.Session, authstore.RefreshRecord) {
	sess := authstore.Session{
		ID:          uuid.NewString(),
		UserID:      userID,
		CreatedAt:   created,
		ExpiresAt:   created.Add(30 * 24 * time.Hour),
		RefreshedAt: created,
	}
	return sess, authstore.RefreshRecord{
		Hash:      tokenHash(userID),
		SessionID: sess.ID,
		UserID:    userID,
		IssuedAt:  created,
		ExpiresAt: created.Add(7 * 24 * time.Hour),
	}
}

// successor returns a new token of prev's session issued at issued, not
// stored.
func successor(prev authstore.RefreshRecord, issued time.Time) authstore.RefreshRecord {
	return authstore.RefreshRecord{
		Hash:      tokenHash(prev.UserID),
		SessionID: prev.SessionID,
		UserID:    prev.UserID,
		IssuedAt:  issued,
		ExpiresAt: issued.Add(7 * 24 * time.Hour),
	}
}

// tokenHash returns the hash of a new refresh token of userID, made as the
// library makes them.
func tokenHash(userID string) authstore.TokenHash {
	var secret [32]byte
	rand.Read(secret[:])
	return authstore.HashToken(authstore.RouteFor(userID) + base64.RawURLEncoding.EncodeToString(secret[:]))
}
