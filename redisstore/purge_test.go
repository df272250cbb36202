package redisstore_test

import (
	"crypto/sha256"
	"encoding/base64"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/jwtkit/auth/authstore"
	"github.com/jwtkit/auth/redisstore"
)

// purgeFixture builds sessions under one store for the purge tests.
type purgeFixture struct {
	t      *testing.T
	c      redis.UniversalClient
	s      *redisstore.Store
	prefix string
	now    time.Time
}

func newPurgeFixture(t *testing.T) *purgeFixture {
	c := newClient(t)
	prefix := newPrefix(t, c)
	s, err := redisstore.New(c, redisstore.WithKeyPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	return &purgeFixture{t: t, c: c, s: s, prefix: prefix, now: time.Now().UTC().Truncate(time.Microsecond)}
}

func randomHash() authstore.TokenHash { return sha256.Sum256([]byte(uuid.NewString())) }

// login stores a session of user created at now whose token expires after
// ttl, and returns both.
func (p *purgeFixture) login(user string, ttl time.Duration) (authstore.Session, authstore.RefreshRecord) {
	p.t.Helper()
	sess := authstore.Session{ID: uuid.NewString(), UserID: user, CreatedAt: p.now, ExpiresAt: p.now.Add(30 * 24 * time.Hour), RefreshedAt: p.now}
	r := authstore.RefreshRecord{Hash: randomHash(), SessionID: sess.ID, UserID: user, IssuedAt: p.now, ExpiresAt: p.now.Add(ttl)}
	if err := p.s.CreateSession(p.t.Context(), sess, r); err != nil {
		p.t.Fatalf("CreateSession = %v", err)
	}
	return sess, r
}

// rotate rotates r into a token that expires after ttl.
func (p *purgeFixture) rotate(r authstore.RefreshRecord, ttl time.Duration) authstore.RefreshRecord {
	p.t.Helper()
	next := authstore.RefreshRecord{Hash: randomHash(), SessionID: r.SessionID, UserID: r.UserID, IssuedAt: p.now.Add(time.Second), ExpiresAt: p.now.Add(ttl)}
	if ok, err := p.s.Rotate(p.t.Context(), authstore.RouteFor(r.UserID), r.Hash, authstore.TokenHash{}, next); !ok || err != nil {
		p.t.Fatalf("Rotate = %v, %v; want true, nil", ok, err)
	}
	return next
}

// purgeAll calls Purge(at, limit) until it returns less than limit and
// returns the total.
func (p *purgeFixture) purgeAll(at time.Time, limit int) int {
	p.t.Helper()
	total := 0
	for calls := 0; ; calls++ {
		n, err := p.s.Purge(p.t.Context(), at, limit)
		if err != nil {
			p.t.Fatalf("Purge = %v", err)
		}
		if n < 0 || n > limit {
			p.t.Fatalf("Purge(%d) = %d; want 0 to %d", limit, n, limit)
		}
		total += n
		if n < limit {
			return total
		}
		if calls > 10000 {
			p.t.Fatalf("Purge(%d) keeps returning %d", limit, limit)
		}
	}
}

// found reports whether Lookup finds r.
func (p *purgeFixture) found(r authstore.RefreshRecord) bool {
	p.t.Helper()
	_, _, ok, err := p.s.Lookup(p.t.Context(), authstore.RouteFor(r.UserID), r.Hash)
	if err != nil {
		p.t.Fatalf("Lookup = %v", err)
	}
	return ok
}

// checkIndex checks the purge index against the data: every route with an
// item due for purging is in the index with a score at or below the
// earliest due time of its items, and nothing is due at or before at.
func (p *purgeFixture) checkIndex(users []string, at time.Time) {
	p.t.Helper()
	ctx := p.t.Context()
	for _, user := range users {
		route := authstore.RouteFor(user)
		first, err := p.c.ZRangeWithScores(ctx, p.prefix+"{"+route+"}:due", 0, 0).Result()
		if err != nil {
			p.t.Fatal(err)
		}
		if len(first) == 0 {
			continue
		}
		if first[0].Score <= float64(at.UnixMicro()) {
			p.t.Errorf("route %s: %s due at %.0f, not purged at %d", route, first[0].Member, first[0].Score, at.UnixMicro())
		}
		score, err := p.c.ZScore(ctx, p.prefix+"purge", route).Result()
		if err != nil {
			p.t.Errorf("route %s with due items: ZSCORE in the purge index: %v", route, err)
			continue
		}
		if score > first[0].Score {
			p.t.Errorf("route %s: purge index score %.0f above its earliest due item %.0f", route, score, first[0].Score)
		}
	}
}

// Purge visits more routes than one round holds, keeps to its limit, and
// deletes revoked sessions and expired tokens everywhere.
func TestPurgeManyUsers(t *testing.T) {
	p := newPurgeFixture(t)
	ctx := t.Context()
	const users = 150
	var ids []string
	var gone, kept []authstore.RefreshRecord
	for range users {
		user := uuid.NewString()
		ids = append(ids, user)
		sess, r := p.login(user, time.Hour)
		gone = append(gone, r, p.rotate(r, time.Hour))
		if found, err := p.s.RevokeSession(ctx, user, sess.ID, p.now); !found || err != nil {
			t.Fatalf("RevokeSession = %v, %v", found, err)
		}
		_, l := p.login(user, time.Hour)
		gone = append(gone, l)
		kept = append(kept, p.rotate(l, 3*time.Hour))
	}
	at := p.now.Add(2 * time.Hour)
	// Without its scripts cached, as after a restart, Redis answers the
	// pipelined EVALSHA with NOSCRIPT: Purge must load them and go on.
	if err := p.c.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int{7, 1000} {
		got := p.purgeAll(at, limit)
		if want := map[int]int{7: 2 * users, 1000: 0}[limit]; got != want {
			t.Errorf("Purge loop with limit %d deleted %d; want %d", limit, got, want)
		}
	}
	for _, r := range gone {
		if p.found(r) {
			t.Errorf("token %x of user %s survived Purge", r.Hash[:4], r.UserID)
		}
	}
	for _, r := range kept {
		if !p.found(r) {
			t.Errorf("live token %x of user %s was purged", r.Hash[:4], r.UserID)
		}
	}
	p.checkIndex(ids, at)
	if n := p.purgeAll(p.now.Add(40*24*time.Hour), 1000); n != users {
		t.Errorf("Purge after every session ended = %d; want %d", n, users)
	}
	if n, err := p.c.ZCard(ctx, p.prefix+"purge").Result(); err != nil || n != 0 {
		t.Errorf("purge index holds %d routes, %v, once everything is purged; want 0", n, err)
	}
}

// Records that Redis deleted by itself leave index entries behind; Purge
// counts and deletes those too, and the index ends empty.
func TestPurgeExpiredByRedis(t *testing.T) {
	p := newPurgeFixture(t)
	ctx := t.Context()
	user := uuid.NewString()
	route := authstore.RouteFor(user)
	sess, r := p.login(user, time.Hour)
	r2 := p.rotate(r, time.Hour)
	_, other := p.login(user, time.Hour)
	// What TTLs do, done at once.
	pre := p.prefix + "{" + route + "}:"
	for _, k := range []string{pre + "f:" + sess.ID, pre + "t:" + tokenID(r.Hash), pre + "t:" + tokenID(r2.Hash), pre + "t:" + tokenID(other.Hash)} {
		if n, err := p.c.Del(ctx, k).Result(); n != 1 || err != nil {
			t.Fatalf("DEL %s = %d, %v", k, n, err)
		}
	}
	// Due at +2h: the entries of r, r2 and other; the sessions end later.
	if n := p.purgeAll(p.now.Add(2*time.Hour), 2); n != 3 {
		t.Errorf("Purge loop = %d; want 3 stale entries", n)
	}
	if sessions, err := p.s.Sessions(ctx, user, p.now); err != nil || len(sessions) != 1 {
		t.Errorf("Sessions = %d sessions, %v; want the one left", len(sessions), err)
	}
	// At +40d: the stale entry of sess, and the session of other.
	if n := p.purgeAll(p.now.Add(40*24*time.Hour), 2); n != 2 {
		t.Errorf("Purge loop at the end = %d; want 2 sessions", n)
	}
	keys, err := scanKeys(ctx, p.c, p.prefix)
	if err != nil || len(keys) != 0 {
		t.Errorf("keys left after everything was purged: %q, %v", keys, err)
	}
}

// Purge running beside sign-ins, rotations and revocations of the same
// users never leaves a route's score in the purge index above the earliest
// due time of its items, so a final Purge loop deletes everything due.
func TestPurgeConcurrent(t *testing.T) {
	p := newPurgeFixture(t)
	ctx := t.Context()
	users := make([]string, 8)
	for i := range users {
		users[i] = uuid.NewString()
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for i := 0; i < 150; i++ {
				user := users[rng.IntN(len(users))]
				sess := authstore.Session{ID: uuid.NewString(), UserID: user, CreatedAt: p.now, ExpiresAt: p.now.Add(time.Duration(1+rng.IntN(4)) * time.Hour), RefreshedAt: p.now}
				r := authstore.RefreshRecord{Hash: randomHash(), SessionID: sess.ID, UserID: user, IssuedAt: p.now, ExpiresAt: p.now.Add(time.Duration(1+rng.IntN(120)) * time.Minute)}
				if err := p.s.CreateSession(ctx, sess, r); err != nil {
					t.Errorf("CreateSession = %v", err)
					return
				}
				next := authstore.RefreshRecord{Hash: randomHash(), SessionID: sess.ID, UserID: user, IssuedAt: p.now, ExpiresAt: p.now.Add(time.Duration(1+rng.IntN(120)) * time.Minute)}
				if _, err := p.s.Rotate(ctx, authstore.RouteFor(user), r.Hash, authstore.TokenHash{}, next); err != nil {
					t.Errorf("Rotate = %v", err)
					return
				}
				if rng.IntN(3) == 0 {
					if _, err := p.s.RevokeSession(ctx, user, sess.ID, p.now); err != nil {
						t.Errorf("RevokeSession = %v", err)
						return
					}
				}
			}
		})
	}
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				at := p.now.Add(time.Duration(rand.IntN(150)) * time.Minute)
				if _, err := p.s.Purge(ctx, at, 1+rand.IntN(5)); err != nil {
					t.Errorf("Purge = %v", err)
					return
				}
			}
		})
	}
	time.Sleep(50 * time.Millisecond)
	go func() { time.Sleep(time.Second); close(stop) }()
	wg.Wait()
	if t.Failed() {
		return
	}
	// Nothing runs now: the index must let one loop find every due item.
	for _, at := range []time.Duration{30 * time.Minute, 90 * time.Minute, 3 * time.Hour, 5 * time.Hour} {
		p.purgeAll(p.now.Add(at), 3)
		p.checkIndex(users, p.now.Add(at))
	}
	keys, err := scanKeys(ctx, p.c, p.prefix)
	if err != nil || len(keys) != 0 {
		t.Errorf("%d keys left after everything was purged, %v", len(keys), err)
	}
}

// tokenID names a token hash as the key layout does.
func tokenID(h authstore.TokenHash) string { return base64.RawURLEncoding.EncodeToString(h[:]) }
