package redisstore_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/jwtkit/auth/authstore"
)

// BenchmarkRotate measures one refresh as Auth.Refresh of package
// github.com/jwtkit/auth drives the store: Lookup of the presented token,
// then Rotate into its successor, two round trips. It reports the time of
// each as lookup-ns/op and rotate-ns/op. Compare it with
// BenchmarkBaseline/redis-set, one SET against the same server in the same
// run:
//
//	go test -run '^$' -bench '^Benchmark(Rotate|Baseline)$/^(redis|redis-set)$' -count 5
func BenchmarkRotate(b *testing.B) {
	b.Run("redis", func(b *testing.B) {
		ctx := context.Background()
		s := newStore(b, newClient(b))
		now := time.Now().UTC().Truncate(time.Microsecond)
		var (
			seq   uint64
			route string
			cur   authstore.RefreshRecord
		)
		hash := func() authstore.TokenHash {
			seq++
			return sha256.Sum256(binary.BigEndian.AppendUint64([]byte(route), seq))
		}
		// signIn starts a new chain for a new user: a real chain is rotated a
		// few hundred times at most (every access-token lifetime until the
		// session ends), so the benchmark keeps each one that short.
		signIn := func() {
			user := fmt.Sprintf("bench-user-%d", seq)
			route = authstore.RouteFor(user)
			sess := authstore.Session{ID: fmt.Sprintf("bench-session-%d", seq), UserID: user, CreatedAt: now, ExpiresAt: now.Add(benchSessionTTL), RefreshedAt: now}
			cur = authstore.RefreshRecord{Hash: hash(), SessionID: sess.ID, UserID: user, IssuedAt: now, ExpiresAt: now.Add(benchRefreshTTL)}
			if err := s.CreateSession(ctx, sess, cur); err != nil {
				b.Fatal(err)
			}
		}
		signIn()
		var (
			n              int
			lookup, rotate time.Duration
		)
		for b.Loop() {
			if n++; n%chainLength == 0 {
				signIn()
			}
			t0 := time.Now()
			rec, sess, found, err := s.Lookup(ctx, route, cur.Hash)
			lookup += time.Since(t0)
			if err != nil || !found || rec.Used() || !sess.RevokedAt.IsZero() {
				b.Fatalf("Lookup = %+v, %v, %v", rec, found, err)
			}
			next := authstore.RefreshRecord{Hash: hash(), SessionID: sess.ID, UserID: rec.UserID, IssuedAt: now, ExpiresAt: now.Add(benchRefreshTTL)}
			t1 := time.Now()
			ok, err := s.Rotate(ctx, route, cur.Hash, authstore.TokenHash{}, next)
			rotate += time.Since(t1)
			if !ok || err != nil {
				b.Fatalf("Rotate = %v, %v", ok, err)
			}
			cur = next
		}
		b.ReportMetric(float64(lookup.Nanoseconds())/float64(n), "lookup-ns/op")
		b.ReportMetric(float64(rotate.Nanoseconds())/float64(n), "rotate-ns/op")
	})
}

// chainLength is how many rotations BenchmarkRotate makes in one session.
const chainLength = 500

// The lifetimes of the sessions and tokens of BenchmarkRotate: the
// library's defaults.
const (
	benchSessionTTL = 30 * 24 * time.Hour
	benchRefreshTTL = 7 * 24 * time.Hour
)

// BenchmarkBaseline measures one SET of one key: the cost of one round
// trip to the server.
func BenchmarkBaseline(b *testing.B) {
	b.Run("redis-set", func(b *testing.B) {
		ctx := context.Background()
		c := newClient(b)
		key := newPrefix(b, c) + "baseline"
		for b.Loop() {
			if err := c.Set(ctx, key, "x", 0).Err(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
