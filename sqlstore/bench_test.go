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

// BenchmarkRotate measures what Auth.Refresh asks of the store on each
// refresh: Lookup of the presented token, then the Rotate compare-and-swap,
// one after the other on one session.
func BenchmarkRotate(b *testing.B) {
	b.Run("postgres", func(b *testing.B) { run(b, rotateStep(b, newPostgresStore(b))) })
	b.Run("postgres-cas", func(b *testing.B) { run(b, casStep(b, newPostgresStore(b))) })
	b.Run("sqlite", func(b *testing.B) { run(b, rotateStep(b, newSQLiteStore(b))) })
}

// BenchmarkBaseline is the yardstick of BenchmarkRotate: one UPDATE ...
// RETURNING of one row, by primary key, in a table like the store's
// table of sessions, on the same server.
func BenchmarkBaseline(b *testing.B) {
	b.Run("postgres-update", func(b *testing.B) { run(b, updateStep(b, newPostgresDB(b), sqlstore.Postgres)) })
	b.Run("sqlite-update", func(b *testing.B) { run(b, updateStep(b, newSQLiteDB(b), sqlstore.SQLite)) })
}

// BenchmarkRotatePaired runs the steps of BenchmarkRotate and
// BenchmarkBaseline in alternation, so that both meet the same load on a
// shared machine, and reports the mean of each (rotate-ns/op,
// update-ns/op) and their ratio.
func BenchmarkRotatePaired(b *testing.B) {
	b.Run("postgres", func(b *testing.B) {
		paired(b, rotateStep(b, newPostgresStore(b)), updateStep(b, newPostgresDB(b), sqlstore.Postgres))
	})
	b.Run("sqlite", func(b *testing.B) {
		paired(b, rotateStep(b, newSQLiteStore(b)), updateStep(b, newSQLiteDB(b), sqlstore.SQLite))
	})
}

// BenchmarkRevoked measures the revocation check that runs on every
// authenticated request, for a user with a cutoff and a denied token.
func BenchmarkRevoked(b *testing.B) {
	b.Run("postgres", func(b *testing.B) { run(b, revokedStep(b, newPostgresStore(b))) })
	b.Run("sqlite", func(b *testing.B) { run(b, revokedStep(b, newSQLiteStore(b))) })
}

func run(b *testing.B, step func()) {
	b.ReportAllocs()
	for b.Loop() {
		step()
	}
}

func paired(b *testing.B, rotate, update func()) {
	var tr, tu time.Duration
	n := 0
	for b.Loop() {
		t0 := time.Now()
		rotate()
		t1 := time.Now()
		update()
		tu += time.Since(t1)
		tr += t1.Sub(t0)
		n++
	}
	b.ReportMetric(float64(tr.Nanoseconds())/float64(n), "rotate-ns/op")
	b.ReportMetric(float64(tu.Nanoseconds())/float64(n), "update-ns/op")
	b.ReportMetric(float64(tr)/float64(tu), "ratio")
}

// rotateStep returns a function that looks up the newest token of a session
// and rotates it, as Auth.Refresh does.
func rotateStep(b *testing.B, s *sqlstore.Store) func() {
	ctx := context.Background()
	user := uuid.NewString()
	route := authstore.RouteFor(user)
	now := time.Now().UTC().Truncate(time.Microsecond)
	sess, rec := newSession(user, now)
	if err := s.CreateSession(ctx, sess, rec); err != nil {
		b.Fatal(err)
	}
	h := rec.Hash
	return func() {
		cur, _, found, err := s.Lookup(ctx, route, h)
		if err != nil || !found || cur.Used() {
			b.Fatalf("Lookup = %v, %v, used %v", found, err, cur.Used())
		}
		next := successor(cur, now)
		ok, err := s.Rotate(ctx, route, h, authstore.TokenHash{}, next)
		if err != nil || !ok {
			b.Fatalf("Rotate = %v, %v", ok, err)
		}
		h = next.Hash
	}
}

// casStep returns a function that rotates the newest token of a session
// without looking it up first: the store's compare-and-swap alone.
func casStep(b *testing.B, s *sqlstore.Store) func() {
	ctx := context.Background()
	user := uuid.NewString()
	route := authstore.RouteFor(user)
	now := time.Now().UTC().Truncate(time.Microsecond)
	sess, rec := newSession(user, now)
	if err := s.CreateSession(ctx, sess, rec); err != nil {
		b.Fatal(err)
	}
	cur := rec
	return func() {
		next := successor(cur, now)
		ok, err := s.Rotate(ctx, route, cur.Hash, authstore.TokenHash{}, next)
		if err != nil || !ok {
			b.Fatalf("Rotate = %v, %v", ok, err)
		}
		cur = next
	}
}

// updateStep returns a function that runs one UPDATE ... RETURNING of one
// row of a table like the table of sessions, created in db beside a migrated
// store's tables.
func updateStep(b *testing.B, db *sql.DB, d sqlstore.Dialect) func() {
	ctx := context.Background()
	migrated(b, db, d) // the same server state as BenchmarkRotate's
	create := `CREATE TABLE bench_rows (
	route text NOT NULL, id text NOT NULL, user_id text NOT NULL,
	created_at timestamptz NOT NULL, expires_at timestamptz NOT NULL, refreshed_at timestamptz NOT NULL,
	revoked_at timestamptz, user_agent text NOT NULL, address text NOT NULL,
	PRIMARY KEY (route, id)) WITH (fillfactor = 90)`
	timeArg := func(t time.Time) any { return t.UTC() }
	if d == sqlstore.SQLite {
		create = `CREATE TABLE bench_rows (
	route TEXT NOT NULL, id TEXT NOT NULL, user_id TEXT NOT NULL,
	created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, refreshed_at INTEGER NOT NULL,
	revoked_at INTEGER, user_agent TEXT NOT NULL, address TEXT NOT NULL,
	PRIMARY KEY (route, id)) STRICT`
		timeArg = func(t time.Time) any { return t.UnixMicro() }
	}
	if _, err := db.ExecContext(ctx, create); err != nil {
		b.Fatal(err)
	}
	user := uuid.NewString()
	route, id := authstore.RouteFor(user), uuid.NewString()
	at := time.Now()
	if _, err := db.ExecContext(ctx, `INSERT INTO bench_rows VALUES ($1, $2, $3, $4, $4, $4, NULL, '', '')`, route, id, user, timeArg(at)); err != nil {
		b.Fatal(err)
	}
	const update = `UPDATE bench_rows SET refreshed_at = $1 WHERE route = $2 AND id = $3 RETURNING refreshed_at`
	return func() {
		// A new value each time: SQLite writes nothing for an update
		// that changes nothing.
		at = at.Add(time.Microsecond)
		var got any
		if err := db.QueryRowContext(ctx, update, timeArg(at), route, id).Scan(&got); err != nil {
			b.Fatal(err)
		}
	}
}

// revokedStep returns a function that checks a token that is not revoked
// of a user with a cutoff and a denied token.
func revokedStep(b *testing.B, s *sqlstore.Store) func() {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	user := uuid.NewString()
	if err := s.CutOff(ctx, user, now.Add(-time.Hour)); err != nil {
		b.Fatal(err)
	}
	if err := s.Deny(ctx, user, "denied", now.Add(time.Hour)); err != nil {
		b.Fatal(err)
	}
	jti := uuid.NewString()
	return func() {
		if revoked, err := s.Revoked(ctx, user, "", jti, now); err != nil || revoked {
			b.Fatalf("Revoked = %v, %v; want false, nil", revoked, err)
		}
	}
}
