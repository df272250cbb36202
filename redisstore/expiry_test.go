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

	"github.com/jwtkit/auth"
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
	route := auth.RouteFor(user)
	pre := prefix + "{" + route + "}:"
	f := auth.Family{ID: uuid.NewString(), UserID: user, CreatedAt: now, ExpiresAt: now.Add(time.Hour), RefreshedAt: now}
	r := auth.RefreshRecord{Hash: randomHash(), FamilyID: f.ID, UserID: user, IssuedAt: now, ExpiresAt: now.Add(30 * time.Minute)}
	if err := s.CreateFamily(ctx, f, r); err != nil {
		t.Fatal(err)
	}
	next := auth.RefreshRecord{Hash: randomHash(), FamilyID: f.ID, UserID: user, IssuedAt: now, ExpiresAt: now.Add(40 * time.Minute)}
	if ok, err := s.Rotate(ctx, route, r.Hash, auth.TokenHash{}, next); !ok || err != nil {
		t.Fatalf("Rotate = %v, %v", ok, err)
	}
	jti := uuid.NewString()
	exp := now.Add(15 * time.Minute)
	if err := s.DenyToken(ctx, user, jti, exp); err != nil {
		t.Fatal(err)
	}
	if err := s.CutOff(ctx, user, now); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		key  string
		want time.Time
	}{
		{pre + "f:" + f.ID, f.ExpiresAt.Add(margin)},
		{pre + "t:" + tokenID(r.Hash), r.ExpiresAt.Add(margin)},
		{pre + "t:" + tokenID(next.Hash), next.ExpiresAt.Add(margin)},
		{pre + "fams", f.ExpiresAt.Add(margin)},
		{pre + "due", f.ExpiresAt.Add(margin)},
		{pre + "pb", f.ExpiresAt.Add(margin)},
		{pre + "d:" + jti, exp.Add(auth.MaxLeeway)},
		{pre + "cut", now.Add(auth.MaxAccessTTL + auth.MaxLeeway)},
	} {
		got, err := c.PExpireTime(ctx, tt.key).Result()
		if err != nil {
			t.Fatalf("PEXPIRETIME %s: %v", tt.key, err)
		}
		if want := time.Duration(msCeil(tt.want)) * time.Millisecond; got != want {
			t.Errorf("PEXPIRETIME %s = %d; want %d", strings.TrimPrefix(tt.key, pre), got.Milliseconds(), want.Milliseconds())
		}
	}

	th, err := redisstore.NewThrottle(c, auth.Rate{Limit: 5, Window: 15 * time.Minute}, redisstore.WithKeyPrefix(prefix))
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
	f := auth.Family{ID: uuid.NewString(), UserID: user, CreatedAt: now, ExpiresAt: end, RefreshedAt: now}
	r := auth.RefreshRecord{Hash: randomHash(), FamilyID: f.ID, UserID: user, IssuedAt: now, ExpiresAt: end}
	if err := s.CreateFamily(ctx, f, r); err != nil {
		t.Fatal(err)
	}
	if err := s.DenyToken(ctx, user, "j", end.Add(-auth.MaxLeeway)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(end.Add(50 * time.Millisecond)))
	if _, _, found, err := s.Lookup(ctx, auth.RouteFor(user), r.Hash); !found || err != nil {
		t.Errorf("Lookup within the margin = %v, %v; want true, nil", found, err)
	}
	if ok, err := s.Revoked(ctx, &auth.Claims{Subject: user, ID: "j", IssuedAt: now}); ok || err != nil {
		t.Errorf("Revoked after the denial expired = %v, %v; want false, nil", ok, err)
	}
	time.Sleep(time.Until(end.Add(margin + 50*time.Millisecond)))
	if _, _, found, err := s.Lookup(ctx, auth.RouteFor(user), r.Hash); found || err != nil {
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

// At the cap of families per user, CreateFamily evicts the oldest revoked
// or expired families first, then the oldest live ones.
func TestMaxFamiliesPerUser(t *testing.T) {
	ctx := t.Context()
	c := newClient(t)
	s, err := redisstore.New(c, redisstore.WithKeyPrefix(newPrefix(t, c)), redisstore.WithMaxFamiliesPerUser(3))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	user, other := uuid.NewString(), uuid.NewString()
	var recs []auth.RefreshRecord
	login := func(user string, i int) auth.Family {
		t.Helper()
		at := now.Add(time.Duration(i) * time.Second)
		f := auth.Family{ID: uuid.NewString(), UserID: user, CreatedAt: at, ExpiresAt: at.Add(time.Hour), RefreshedAt: at}
		r := auth.RefreshRecord{Hash: randomHash(), FamilyID: f.ID, UserID: user, IssuedAt: at, ExpiresAt: at.Add(time.Hour)}
		if err := s.CreateFamily(ctx, f, r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
		return f
	}
	ids := func(fams []auth.Family) []string {
		var out []string
		for _, f := range fams {
			out = append(out, f.ID)
		}
		return out
	}
	f0, f1, f2 := login(user, 0), login(user, 1), login(user, 2)
	g := login(other, 3)
	if _, err := s.RevokeFamily(ctx, user, f1.ID, now); err != nil {
		t.Fatal(err)
	}
	f3 := login(user, 4) // evicts f1, revoked
	f4 := login(user, 5) // evicts f0, the oldest live one
	fams, err := s.Families(ctx, user, now.Add(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(ids(fams), ","), strings.Join([]string{f4.ID, f3.ID, f2.ID}, ","); got != want {
		t.Errorf("Families = %s; want %s", got, want)
	}
	for i, want := range []bool{false, false, true, true, true, true} {
		_, _, found, err := s.Lookup(ctx, auth.RouteFor(recs[i].UserID), recs[i].Hash)
		if found != want || err != nil {
			t.Errorf("Lookup(token %d) = %v, %v; want %v, nil", i, found, err, want)
		}
	}
	if fams, err := s.Families(ctx, other, now); err != nil || len(fams) != 1 || fams[0].ID != g.ID {
		t.Errorf("Families(other) = %v, %v; want %s alone", ids(fams), err, g.ID)
	}
	_ = f0
}

// A broken precondition is an error; a missing record never is; a failing
// server is an error that names the package.
func TestErrors(t *testing.T) {
	ctx := t.Context()
	c := newClient(t)
	s := newStore(t, c)
	now := time.Now().UTC().Truncate(time.Microsecond)
	user := uuid.NewString()
	route := auth.RouteFor(user)
	f := auth.Family{ID: uuid.NewString(), UserID: user, CreatedAt: now, ExpiresAt: now.Add(time.Hour), RefreshedAt: now}
	r := auth.RefreshRecord{Hash: randomHash(), FamilyID: f.ID, UserID: user, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateFamily(ctx, f, r); err != nil {
		t.Fatal(err)
	}
	again := r
	again.Hash = randomHash()
	if err := s.CreateFamily(ctx, f, again); err == nil {
		t.Error("CreateFamily(existing family id) = nil; want an error")
	}
	f2 := f
	f2.ID = uuid.NewString()
	r2 := r
	r2.FamilyID = f2.ID
	if err := s.CreateFamily(ctx, f2, r2); err == nil {
		t.Error("CreateFamily(existing token hash) = nil; want an error")
	}
	if err := s.CreateFamily(ctx, f2, r); err == nil {
		t.Error("CreateFamily(token of another family) = nil; want an error")
	}
	other := auth.RefreshRecord{Hash: randomHash(), FamilyID: uuid.NewString(), UserID: user, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	if _, err := s.Rotate(ctx, route, r.Hash, auth.TokenHash{}, other); err == nil {
		t.Error("Rotate(next of another family) = nil error; want one")
	}
	if _, err := s.Rotate(ctx, route, r.Hash, auth.TokenHash{}, auth.RefreshRecord{FamilyID: f.ID, UserID: user, IssuedAt: now, ExpiresAt: now}); err == nil {
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
		"CreateFamily": ds.CreateFamily(ctx, f, r),
		"Lookup":       func() error { _, _, _, err := ds.Lookup(ctx, route, r.Hash); return err }(),
		"Rotate":       func() error { _, err := ds.Rotate(ctx, route, r.Hash, auth.TokenHash{}, other); return err }(),
		"RevokeFamily": func() error { _, err := ds.RevokeFamily(ctx, user, f.ID, now); return err }(),
		"RevokeUser":   func() error { _, err := ds.RevokeUser(ctx, user, now); return err }(),
		"Families":     func() error { _, err := ds.Families(ctx, user, now); return err }(),
		"Purge":        func() error { _, err := ds.Purge(ctx, now, 10); return err }(),
		"Revoked":      func() error { _, err := ds.Revoked(ctx, &auth.Claims{Subject: user}); return err }(),
		"DenyToken":    ds.DenyToken(ctx, user, "j", now),
		"CutOff":       ds.CutOff(ctx, user, now),
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
}
