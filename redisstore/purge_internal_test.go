package redisstore

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/jwtkit/auth/authstore"
	"github.com/jwtkit/auth/internal/testenv"
)

// A rotation that lowers a route's earliest due time while Purge is between
// the route's script and the update of the purge index must not be lost:
// Purge raises the route's score to what its script saw, then reads the
// route's bound again and lowers the score to it.
func TestPurgeRaceWithRotate(t *testing.T) {
	ctx := t.Context()
	opt, err := redis.ParseURL(testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	defer c.Close()
	prefix := "authtest:" + uuid.NewString() + ":"
	defer func() {
		keys, _ := c.Keys(ctx, prefix+"*").Result()
		for _, k := range keys {
			c.Del(ctx, k)
		}
	}()
	s, err := New(c, WithKeyPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	user := uuid.NewString()
	route := authstore.RouteFor(user)
	login := func(ttl time.Duration) authstore.RefreshRecord {
		sess := authstore.Session{ID: uuid.NewString(), UserID: user, CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour), RefreshedAt: now}
		r := authstore.RefreshRecord{Hash: sha256.Sum256([]byte(uuid.NewString())), SessionID: sess.ID, UserID: user, IssuedAt: now, ExpiresAt: now.Add(ttl)}
		if err := s.CreateSession(ctx, sess, r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	login(time.Hour)          // purged below
	b := login(3 * time.Hour) // the earliest due item once the first is gone
	at := now.Add(2 * time.Hour)

	s.afterPurgeScripts = func() {
		s.afterPurgeScripts = nil
		next := authstore.RefreshRecord{Hash: sha256.Sum256([]byte(uuid.NewString())), SessionID: b.SessionID, UserID: user, IssuedAt: now, ExpiresAt: now.Add(90 * time.Minute)}
		if ok, err := s.Rotate(ctx, route, b.Hash, authstore.TokenHash{}, next); !ok || err != nil {
			t.Errorf("Rotate = %v, %v; want true, nil", ok, err)
		}
	}
	if n, err := s.Purge(ctx, at, 1); n != 1 || err != nil {
		t.Fatalf("Purge(+2h, 1) = %d, %v; want 1, nil", n, err)
	}
	score, err := c.ZScore(ctx, prefix+purgeKey, route).Result()
	if err != nil {
		t.Fatal(err)
	}
	if want := float64(now.Add(90 * time.Minute).UnixMicro()); score > want {
		t.Errorf("purge index score %.0f; want at most %.0f, the expiry of the token rotated in meanwhile", score, want)
	}
	if n, err := s.Purge(ctx, at, 10); n != 1 || err != nil {
		t.Errorf("second Purge(+2h, 10) = %d, %v; want 1 (the token rotated in during the first), nil", n, err)
	}
}
