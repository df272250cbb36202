package sqlstore_test

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/jwtkit/auth/authstore"
	"github.com/jwtkit/auth/sqlstore"
)

// racers is the number of goroutines of each race below, as in the
// conformance suite.
const racers = 50

// warm opens n connections of db at once and keeps them idle, so that the
// calls of a race meet in the database instead of queueing behind
// connection set-up, which would serialize them.
func warm(t *testing.T, db *sql.DB, n int) {
	t.Helper()
	db.SetMaxIdleConns(n)
	conns := make([]*sql.Conn, n)
	for i := range conns {
		c, err := db.Conn(context.Background())
		if err != nil {
			t.Fatalf("db.Conn() = %v", err)
		}
		if err := c.PingContext(context.Background()); err != nil {
			t.Fatalf("ping = %v", err)
		}
		conns[i] = c
	}
	for _, c := range conns {
		c.Close()
	}
}

// TestRotateRace races rotations on a warm connection pool, round after
// round: many rotations of one token (exactly one wins), and a rotation of
// the newest token against a grace rotation that would supersede it (the
// two exclude each other: exactly one wins, and the session keeps exactly
// one unused token).
func TestRotateRace(t *testing.T) {
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
			warm(t, db, racers)
			s := migrated(t, db, tt.dialect)
			ctx := t.Context()
			now := time.Now().UTC().Truncate(time.Microsecond)
			for round := range 5 {
				user := uuid.NewString()
				sess, a := newSession(user, now)
				if err := s.CreateSession(ctx, sess, a); err != nil {
					t.Fatalf("CreateSession = %v", err)
				}
				nexts := make([]authstore.RefreshRecord, racers)
				for i := range nexts {
					nexts[i] = successor(a, now.Add(time.Duration(i+1)*time.Microsecond))
				}
				oks := race(t, len(nexts), func(i int) (bool, error) {
					return s.Rotate(ctx, authstore.RouteFor(user), a.Hash, authstore.TokenHash{}, nexts[i])
				})
				if wins := count(oks); wins != 1 {
					t.Fatalf("round %d: %d concurrent rotations of one token: %d won; want 1", round, racers, wins)
				}
			}

			// b's holder rotates b while a's holder replays a within the
			// grace window, expecting b: only one of them may win. Each
			// round is a race of two, so there are many rounds.
			for round := range 50 {
				user := uuid.NewString()
				route := authstore.RouteFor(user)
				sess, a := newSession(user, now)
				if err := s.CreateSession(ctx, sess, a); err != nil {
					t.Fatalf("CreateSession = %v", err)
				}
				b := successor(a, now.Add(time.Second))
				if ok, err := s.Rotate(ctx, route, a.Hash, authstore.TokenHash{}, b); !ok || err != nil {
					t.Fatalf("Rotate(a) = %v, %v; want true, nil", ok, err)
				}
				c := successor(b, now.Add(2*time.Second))
				d := successor(a, now.Add(2*time.Second+time.Microsecond))
				oks := race(t, 2, func(i int) (bool, error) {
					if i == 0 {
						return s.Rotate(ctx, route, b.Hash, authstore.TokenHash{}, c)
					}
					return s.Rotate(ctx, route, a.Hash, b.Hash, d)
				})
				if oks[0] == oks[1] {
					t.Fatalf("round %d: Rotate(b) = %v and grace Rotate(a, expect b) = %v; want exactly one true", round, oks[0], oks[1])
				}
				live := 0
				for _, h := range []authstore.TokenHash{a.Hash, b.Hash, c.Hash, d.Hash} {
					rec, _, found, err := s.Lookup(ctx, route, h)
					if err != nil {
						t.Fatalf("Lookup = %v", err)
					}
					if found && !rec.Used() {
						live++
					}
				}
				if live != 1 {
					t.Fatalf("round %d: the session has %d unused tokens; want 1", round, live)
				}
			}
		})
	}
}

func count(oks []bool) int {
	n := 0
	for _, ok := range oks {
		if ok {
			n++
		}
	}
	return n
}

// race calls f(0) to f(n-1) at once, each in its own goroutine, and returns
// their results; any error fails the test.
func race(t *testing.T, n int, f func(i int) (bool, error)) []bool {
	t.Helper()
	oks := make([]bool, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			oks[i], errs[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("racing call %d: error = %v", i, err)
		}
	}
	return oks
}
