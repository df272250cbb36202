package redisstore_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/jwtkit/auth/authstore"
	"github.com/jwtkit/auth/redisstore"
)

// msCeil returns t in Unix milliseconds, rounded up.
func msCeil(t time.Time) int64 { return (t.UnixMicro() + 999) / 1000 }

// Every key carries the TTL the package documentation gives it.
func TestExpiry(t *testing.T) {
	ctx := t.Context()
	c := newClient(t)
	prefix := newPrefix(t, c)
	const margin = 5 * time.Second
	s, err := redisstore.New(c, redisstore.WithKeyPrefix(prefix), redisstore.WithExpiryMargin(margin))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond).Add(123 * time.Microsecond)
	user := uuid.NewString()
	route := authstore.RouteFor(user)
	pre := prefix + "{" + route + "}:"
	sess := authstore.Session{ID: uuid.NewString(), UserID: user, CreatedAt: now, ExpiresAt: now.Add(time.Hour), RefreshedAt: now}
	r := authstore.RefreshRecord{Hash: randomHash(), SessionID: sess.ID, UserID: user, IssuedAt: now, ExpiresAt: now.Add(30 * time.Minute)}
	if err := s.CreateSession(ctx, sess, r); err != nil {
		t.Fatal(err)
	}
	next := authstore.RefreshRecord{Hash: randomHash(), SessionID: sess.ID, UserID: user, IssuedAt: now, ExpiresAt: now.Add(40 * time.Minute)}
	if ok, err := s.Rotate(ctx, route, r.Hash, authstore.TokenHash{}, next); !ok || err != nil {
		t.Fatalf("Rotate = %v, %v", ok, err)
	}
	jti := uuid.NewString()
	exp := now.Add(15 * time.Minute)
	if err := s.Deny(ctx, user, jti, exp); err != nil {
		t.Fatal(err)
	}
	if err := s.CutOff(ctx, user, now); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		key  string
		want time.Time
	}{
		{pre + "f:" + sess.ID, sess.ExpiresAt.Add(margin)},
		{pre + "t:" + tokenID(r.Hash), r.ExpiresAt.Add(margin)},
		{pre + "t:" + tokenID(next.Hash), next.ExpiresAt.Add(margin)},
		{pre + "fams", sess.ExpiresAt.Add(margin)},
		{pre + "due", sess.ExpiresAt.Add(margin)},
		{pre + "pb", sess.ExpiresAt.Add(margin)},
		{pre + "d:" + jti, exp.Add(authstore.MaxLeeway)},
		{pre + "cut", now.Add(authstore.MaxAccessTTL + authstore.MaxLeeway)},
	} {
		got, err := c.PExpireTime(ctx, tt.key).Result()
		if err != nil {
			t.Fatalf("PEXPIRETIME %s: %v", tt.key, err)
		}
		if want := time.Duration(msCeil(tt.want)) * time.Millisecond; got != want {
			t.Errorf("PEXPIRETIME %s = %d; want %d", strings.TrimPrefix(tt.key, pre), got.Milliseconds(), want.Milliseconds())
		}
	}

	th, err := redisstore.NewThrottle(c, authstore.Rate{Limit: 5, Window: 15 * time.Minute}, redisstore.WithKeyPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := th.Fail(ctx, "k", time.Now()); err != nil {
		t.Fatal(err)
	}
	if ttl, err := c.PTTL(ctx, prefix+"throttle:k").Result(); err != nil || ttl <= 3*time.Minute-time.Second || ttl > 3*time.Minute {
		t.Errorf("PTTL of a throttle key after one failure = %v, %v; want 3m, the interval", ttl, err)
	}
}

// Redis deletes records by itself the expiry margin after their ExpiresAt.
func TestExpiryByRedis(t *testing.T) {
	ctx := t.Context()
	c := newClient(t)
	prefix := newPrefix(t, c)
	const margin = 500 * time.Millisecond
	s, err := redisstore.New(c, redisstore.WithKeyPrefix(prefix), redisstore.WithExpiryMargin(margin))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	end := now.Add(100 * time.Millisecond)
	user := uuid.NewString()
	sess := authstore.Session{ID: uuid.NewString(), UserID: user, CreatedAt: now, ExpiresAt: end, RefreshedAt: now}
	r := authstore.RefreshRecord{Hash: randomHash(), SessionID: sess.ID, UserID: user, IssuedAt: now, ExpiresAt: end}
	if err := s.CreateSession(ctx, sess, r); err != nil {
		t.Fatal(err)
	}
	if err := s.Deny(ctx, user, "j", end.Add(-authstore.MaxLeeway)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(end.Add(50 * time.Millisecond)))
	if _, _, found, err := s.Lookup(ctx, authstore.RouteFor(user), r.Hash); !found || err != nil {
		t.Errorf("Lookup within the margin = %v, %v; want true, nil", found, err)
	}
	if ok, err := s.Revoked(ctx, user, "", "j", now); ok || err != nil {
		t.Errorf("Revoked after the denial expired = %v, %v; want false, nil", ok, err)
	}
	time.Sleep(time.Until(end.Add(margin + 50*time.Millisecond)))
	if _, _, found, err := s.Lookup(ctx, authstore.RouteFor(user), r.Hash); found || err != nil {
		t.Errorf("Lookup past the margin = %v, %v; want false, nil", found, err)
	}
	// The route's index expired with its records; Purge finds the route
	// empty and drops it from the purge index.
	if n := (&purgeFixture{t: t, s: s}).purgeAll(time.Now(), 10); n != 0 {
		t.Errorf("Purge = %d; want 0", n)
	}
	keys, err := scanKeys(ctx, c, prefix)
	if err != nil || len(keys) != 0 {
		t.Errorf("keys left: %q, %v; want none", keys, err)
	}
}

// At the cap of sessions per user, CreateSession evicts the oldest revoked
// or expired sessions first, then the oldest live ones.
func TestMaxSessionsPerUser(t *testing.T) {
	const limit = 10
	ctx := t.Context()
	c := newClient(t)
	s, err := redisstore.New(c, redisstore.WithKeyPrefix(newPrefix(t, c)), redisstore.WithMaxSessionsPerUser(limit))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	user, other := uuid.NewString(), uuid.NewString()
	login := func(user string, i int) (authstore.Session, authstore.RefreshRecord) {
		t.Helper()
		at := now.Add(time.Duration(i) * time.Second)
		sess := authstore.Session{ID: uuid.NewString(), UserID: user, CreatedAt: at, ExpiresAt: at.Add(time.Hour), RefreshedAt: at}
		r := authstore.RefreshRecord{Hash: randomHash(), SessionID: sess.ID, UserID: user, IssuedAt: at, ExpiresAt: at.Add(time.Hour)}
		if err := s.CreateSession(ctx, sess, r); err != nil {
			t.Fatal(err)
		}
		return sess, r
	}
	ids := func(list []authstore.Session) []string {
		var out []string
		for _, sess := range list {
			out = append(out, sess.ID)
		}
		return out
	}
	var (
		sessions []authstore.Session
		recs     []authstore.RefreshRecord
	)
	for i := range limit {
		sess, r := login(user, i)
		sessions, recs = append(sessions, sess), append(recs, r)
	}
	theirs, _ := login(other, limit)
	if _, err := s.RevokeSession(ctx, user, sessions[1].ID, now); err != nil {
		t.Fatal(err)
	}
	for i := limit + 1; i <= limit+2; i++ { // the first evicts sessions[1], revoked; the second sessions[0], the oldest live one
		sess, r := login(user, i)
		sessions, recs = append(sessions, sess), append(recs, r)
	}
	got, err := s.Sessions(ctx, user, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := len(sessions) - 1; i >= 2; i-- {
		want = append(want, sessions[i].ID)
	}
	if got, want := strings.Join(ids(got), ","), strings.Join(want, ","); got != want {
		t.Errorf("Sessions = %s; want %s", got, want)
	}
	for i, r := range recs {
		_, _, found, err := s.Lookup(ctx, authstore.RouteFor(r.UserID), r.Hash)
		if want := i >= 2; found != want || err != nil {
			t.Errorf("Lookup(token %d) = %v, %v; want %v, nil", i, found, err, want)
		}
	}
	if list, err := s.Sessions(ctx, other, now); err != nil || len(list) != 1 || list[0].ID != theirs.ID {
		t.Errorf("Sessions(other) = %v, %v; want %s alone", ids(list), err, theirs.ID)
	}
}

// A broken precondition is an error; a missing record never is; a failing
// server is an error that names the package.
func TestErrors(t *testing.T) {
	ctx := t.Context()
	c := newClient(t)
	s := newStore(t, c)
	now := time.Now().UTC().Truncate(time.Microsecond)
	user := uuid.NewString()
	route := authstore.RouteFor(user)
	sess := authstore.Session{ID: uuid.NewString(), UserID: user, CreatedAt: now, ExpiresAt: now.Add(time.Hour), RefreshedAt: now}
	r := authstore.RefreshRecord{Hash: randomHash(), SessionID: sess.ID, UserID: user, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateSession(ctx, sess, r); err != nil {
		t.Fatal(err)
	}
	again := r
	again.Hash = randomHash()
	if err := s.CreateSession(ctx, sess, again); err == nil {
		t.Error("CreateSession(existing session id) = nil; want an error")
	}
	sess2 := sess
	sess2.ID = uuid.NewString()
	r2 := r
	r2.SessionID = sess2.ID
	if err := s.CreateSession(ctx, sess2, r2); err == nil {
		t.Error("CreateSession(existing token hash) = nil; want an error")
	}
	if err := s.CreateSession(ctx, sess2, r); err == nil {
		t.Error("CreateSession(token of another session) = nil; want an error")
	}
	other := authstore.RefreshRecord{Hash: randomHash(), SessionID: uuid.NewString(), UserID: user, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	if _, err := s.Rotate(ctx, route, r.Hash, authstore.TokenHash{}, other); err == nil {
		t.Error("Rotate(next of another session) = nil error; want one")
	}
	if _, err := s.Rotate(ctx, route, r.Hash, authstore.TokenHash{}, authstore.RefreshRecord{SessionID: sess.ID, UserID: user, IssuedAt: now, ExpiresAt: now}); err == nil {
		t.Error("Rotate(next with a zero hash) = nil error; want one")
	}
	if _, err := s.Purge(ctx, now, 0); err == nil {
		t.Error("Purge(limit 0) = nil error; want one")
	}
	if _, _, found, err := s.Lookup(ctx, route, r.Hash); !found || err != nil {
		t.Errorf("Lookup after the failed calls = %v, %v; want true, nil", found, err)
	}

	// A server that hangs up on every connection.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			conn.Close()
		}
	}()
	down := redis.NewClient(&redis.Options{Addr: l.Addr().String(), MaxRetries: -1, Protocol: 2, DisableIdentity: true})
	defer down.Close()
	ds, err := redisstore.New(down)
	if err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"CreateSession": ds.CreateSession(ctx, sess, r),
		"Lookup":        func() error { _, _, _, err := ds.Lookup(ctx, route, r.Hash); return err }(),
		"Rotate":        func() error { _, err := ds.Rotate(ctx, route, r.Hash, authstore.TokenHash{}, other); return err }(),
		"RevokeSession": func() error { _, err := ds.RevokeSession(ctx, user, sess.ID, now); return err }(),
		"RevokeUser":    func() error { _, err := ds.RevokeUser(ctx, user, now); return err }(),
		"Sessions":      func() error { _, err := ds.Sessions(ctx, user, now); return err }(),
		"Purge":         func() error { _, err := ds.Purge(ctx, now, 10); return err }(),
		"Revoked":       func() error { _, err := ds.Revoked(ctx, user, "", "", time.Time{}); return err }(),
		"Deny":          ds.Deny(ctx, user, "j", now),
		"CutOff":        ds.CutOff(ctx, user, now),
		"SaveOneTime": ds.SaveOneTime(ctx, authstore.OneTimeToken{
			Hash: randomHash(), UserID: user, Purpose: "password_reset", ExpiresAt: now.Add(time.Hour),
		}),
		"ConsumeOneTime": func() error {
			_, _, err := ds.ConsumeOneTime(ctx, route, r.Hash, "password_reset", now)
			return err
		}(),
		"RevokeOneTime": func() error { _, err := ds.RevokeOneTime(ctx, user, "password_reset"); return err }(),
		"AddKey": func() error {
			_, err := ds.AddKey(ctx, authstore.KeyRecord{Generation: 1, ID: uuid.NewString(), Algorithm: "EdDSA", Sealed: []byte{1}, CreatedAt: now, ActiveAt: now})
			return err
		}(),
		"Keys":       func() error { _, err := ds.Keys(ctx); return err }(),
		"DeleteKeys": func() error { _, err := ds.DeleteKeys(ctx, 2); return err }(),
	} {
		if err == nil || !strings.HasPrefix(err.Error(), "redisstore: ") || errors.Is(err, redis.Nil) {
			t.Errorf("%s with Redis down = %v; want an error beginning with redisstore:", name, err)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := ds.Purge(cancelled, now, 10); !errors.Is(err, context.Canceled) {
		t.Errorf("Purge(cancelled) = %v; want context.Canceled", err)
	}
	if _, err := ds.Keys(cancelled); !errors.Is(err, context.Canceled) {
		t.Errorf("Keys(cancelled) = %v; want context.Canceled", err)
	}
}
