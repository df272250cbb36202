package redisstore_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/jwtkit/auth/authstore"
	"github.com/jwtkit/auth/authtest"
	"github.com/jwtkit/auth/redisstore"
)

func TestOneTimeStore(t *testing.T) {
	c := newClient(t)
	authtest.TestOneTimeStore(t, func(t *testing.T) authstore.OneTimeStore { return newStore(t, c) })
}

// oneTime is a one-time token of user for purpose that expires at exp.
func oneTime(user, purpose string, exp time.Time) authstore.OneTimeToken {
	return authstore.OneTimeToken{Hash: randomHash(), UserID: user, Purpose: purpose, ExpiresAt: exp}
}

// TestOneTimeHashTags saves one-time tokens of two purposes for several
// users, then checks with SCAN that every key of a user's tokens is a
// record or a purpose index under PREFIX{RouteFor(user)}:, and so lies in
// the route's one slot; on a cluster it also asks the server for each key's
// slot.
func TestOneTimeHashTags(t *testing.T) {
	t.Run("single", func(t *testing.T) { testOneTimeHashTags(t, newClient(t)) })
	t.Run("cluster", func(t *testing.T) { testOneTimeHashTags(t, newClusterClient(t)) })
}

func testOneTimeHashTags(t *testing.T, c redis.UniversalClient) {
	ctx := t.Context()
	prefix := newPrefix(t, c)
	s, err := redisstore.New(c, redisstore.WithKeyPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().UTC().Truncate(time.Microsecond).Add(time.Hour)
	want := map[string]string{} // key to the route it must carry
	for _, user := range []string{uuid.NewString(), "alice@example.com", "{evil}user", "b}o{b"} {
		route := authstore.RouteFor(user)
		pre := prefix + "{" + route + "}:"
		for _, purpose := range []string{"password_reset", "email_verify", "odd:{purpose}"} {
			for range 2 {
				tok := oneTime(user, purpose, exp)
				if err := s.SaveOneTime(ctx, tok); err != nil {
					t.Fatalf("SaveOneTime = %v", err)
				}
				want[pre+"o:"+tokenID(tok.Hash)] = route
			}
			want[pre+"op:"+purpose] = route
		}
	}
	keys, err := scanKeys(ctx, c, prefix)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	wantKeys := make([]string, 0, len(want))
	for k := range want {
		wantKeys = append(wantKeys, k)
	}
	slices.Sort(wantKeys)
	if !slices.Equal(keys, wantKeys) {
		t.Errorf("keys = %q; want %q", keys, wantKeys)
	}
	cc, _ := c.(*redis.ClusterClient)
	for _, key := range keys {
		route, ok := want[key]
		if !ok {
			continue
		}
		if got, want := keySlot(key), keySlot(route); got != want {
			t.Errorf("keySlot(%q) = %d; want %d, the slot of route %q", key, got, want, route)
		}
		if cc != nil {
			got, err := cc.ClusterKeySlot(ctx, key).Result()
			if err != nil {
				t.Fatalf("CLUSTER KEYSLOT %q: %v", key, err)
			}
			if int(got) != keySlot(route) {
				t.Errorf("CLUSTER KEYSLOT %q = %d; want %d", key, got, keySlot(route))
			}
		}
	}
}

// A one-time token's record expires the expiry margin after its ExpiresAt,
// and its purpose index with the latest of its tokens.
func TestOneTimeExpiry(t *testing.T) {
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
	pre := prefix + "{" + authstore.RouteFor(user) + "}:"
	long := oneTime(user, "password_reset", now.Add(30*time.Minute))
	short := oneTime(user, "password_reset", now.Add(10*time.Minute))
	verify := oneTime(user, "email_verify", now.Add(24*time.Hour))
	for _, tok := range []authstore.OneTimeToken{long, short, verify} {
		if err := s.SaveOneTime(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	check := func(key string, want time.Time) {
		t.Helper()
		got, err := c.PExpireTime(ctx, key).Result()
		if err != nil {
			t.Fatalf("PEXPIRETIME %s: %v", key, err)
		}
		if want := time.Duration(msCeil(want)) * time.Millisecond; got != want {
			t.Errorf("PEXPIRETIME %s = %d; want %d", strings.TrimPrefix(key, pre), got.Milliseconds(), want.Milliseconds())
		}
	}
	check(pre+"o:"+tokenID(long.Hash), long.ExpiresAt.Add(margin))
	check(pre+"o:"+tokenID(short.Hash), short.ExpiresAt.Add(margin))
	check(pre+"o:"+tokenID(verify.Hash), verify.ExpiresAt.Add(margin))
	check(pre+"op:password_reset", long.ExpiresAt.Add(margin)) // the later token's, though saved first
	check(pre+"op:email_verify", verify.ExpiresAt.Add(margin))

	// Consuming the latest token leaves the index's lifetime alone; the
	// index no longer lists it.
	if _, found, err := s.ConsumeOneTime(ctx, authstore.RouteFor(user), long.Hash, "password_reset", now); !found || err != nil {
		t.Fatalf("ConsumeOneTime = %v, %v; want true, nil", found, err)
	}
	check(pre+"op:password_reset", long.ExpiresAt.Add(margin))
	if ids, err := c.ZRange(ctx, pre+"op:password_reset", 0, -1).Result(); err != nil || !slices.Equal(ids, []string{tokenID(short.Hash)}) {
		t.Errorf("index after ConsumeOneTime = %q, %v; want the other token alone", ids, err)
	}

	// With the default margin, a minute.
	dp := newPrefix(t, c)
	d, err := redisstore.New(c, redisstore.WithKeyPrefix(dp))
	if err != nil {
		t.Fatal(err)
	}
	tok := oneTime(user, "password_reset", now.Add(15*time.Minute))
	if err := d.SaveOneTime(ctx, tok); err != nil {
		t.Fatal(err)
	}
	pre = dp + "{" + authstore.RouteFor(user) + "}:"
	check(pre+"o:"+tokenID(tok.Hash), tok.ExpiresAt.Add(redisstore.DefaultExpiryMargin))
	check(pre+"op:password_reset", tok.ExpiresAt.Add(redisstore.DefaultExpiryMargin))
}

// Redis deletes a one-time token's record the expiry margin after its
// ExpiresAt, and the index with its last token; a later save drops the
// index entries of tokens that Redis has expired, so the index does not
// grow with tokens that nobody consumed. A token already past its key's
// expiry is not stored, and does not cut the index short.
func TestOneTimeExpiryByRedis(t *testing.T) {
	ctx := t.Context()
	c := newClient(t)
	prefix := newPrefix(t, c)
	const margin = 200 * time.Millisecond
	s, err := redisstore.New(c, redisstore.WithKeyPrefix(prefix), redisstore.WithExpiryMargin(margin))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	user := uuid.NewString()
	route := authstore.RouteFor(user)
	index := prefix + "{" + route + "}:op:password_reset"
	var old []authstore.OneTimeToken
	for range 3 {
		tok := oneTime(user, "password_reset", now.Add(100*time.Millisecond))
		if err := s.SaveOneTime(ctx, tok); err != nil {
			t.Fatal(err)
		}
		old = append(old, tok)
	}
	live := oneTime(user, "password_reset", now.Add(time.Hour))
	if err := s.SaveOneTime(ctx, live); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(now.Add(100*time.Millisecond + margin + 50*time.Millisecond)))
	if n, err := c.ZCard(ctx, index).Result(); err != nil || n != 4 {
		t.Fatalf("ZCARD of the index before a save = %d, %v; want 4", n, err)
	}
	next := oneTime(user, "password_reset", now.Add(time.Hour))
	if err := s.SaveOneTime(ctx, next); err != nil {
		t.Fatal(err)
	}
	ids, err := c.ZRange(ctx, index, 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	want := []string{tokenID(live.Hash), tokenID(next.Hash)}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("index after a save = %q; want the two live tokens %q", ids, want)
	}
	for _, tok := range old {
		if n, err := c.Exists(ctx, prefix+"{"+route+"}:o:"+tokenID(tok.Hash)).Result(); err != nil || n != 0 {
			t.Errorf("EXISTS of an expired record = %d, %v; want 0", n, err)
		}
	}

	// A token whose key would expire at once is not stored, and leaves the
	// index as it was.
	gone := oneTime(user, "password_reset", time.Now().Add(-time.Hour))
	if err := s.SaveOneTime(ctx, gone); err != nil {
		t.Fatalf("SaveOneTime(long expired) = %v; want nil", err)
	}
	if n, err := c.ZCard(ctx, index).Result(); err != nil || n != 2 {
		t.Errorf("ZCARD of the index after saving an expired token = %d, %v; want 2", n, err)
	}
	if ttl, err := c.PTTL(ctx, index).Result(); err != nil || ttl < 59*time.Minute {
		t.Errorf("PTTL of the index after saving an expired token = %v, %v; want about an hour", ttl, err)
	}
	if n, err := s.RevokeOneTime(ctx, user, "password_reset"); err != nil || n != 2 {
		t.Errorf("RevokeOneTime = %d, %v; want 2, nil", n, err)
	}
	keys, err := scanKeys(ctx, c, prefix)
	if err != nil || len(keys) != 0 {
		t.Errorf("keys left after RevokeOneTime: %q, %v; want none", keys, err)
	}
}

// Purge neither deletes nor counts one-time tokens, expired or not: Redis
// expires them.
func TestOneTimePurge(t *testing.T) {
	ctx := t.Context()
	c := newClient(t)
	s := newStore(t, c)
	now := time.Now().UTC().Truncate(time.Microsecond)
	user := uuid.NewString()
	tok := oneTime(user, "email_verify", now.Add(time.Hour))
	if err := s.SaveOneTime(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Purge(ctx, now.Add(2*time.Hour), 100); err != nil || n != 0 {
		t.Errorf("Purge = %d, %v; want 0, nil", n, err)
	}
	if _, found, err := s.ConsumeOneTime(ctx, authstore.RouteFor(user), tok.Hash, "email_verify", now); !found || err != nil {
		t.Errorf("ConsumeOneTime after Purge = %v, %v; want true, nil", found, err)
	}
}

// A one-time token without a purpose, a user, a hash or an expiry is
// refused with an error that names the package, and so is a duplicate hash;
// a consumption or revocation that cannot match is no error.
func TestOneTimeErrors(t *testing.T) {
	ctx := t.Context()
	c := newClient(t)
	s := newStore(t, c)
	now := time.Now().UTC().Truncate(time.Microsecond)
	user := uuid.NewString()
	tok := oneTime(user, "password_reset", now.Add(time.Hour))
	if err := s.SaveOneTime(ctx, tok); err != nil {
		t.Fatal(err)
	}
	noHash := oneTime(user, "password_reset", now.Add(time.Hour))
	noHash.Hash = authstore.TokenHash{}
	noTime := oneTime(user, "password_reset", time.Time{})
	for name, bad := range map[string]authstore.OneTimeToken{
		"no purpose": oneTime(user, "", now.Add(time.Hour)),
		"no user":    oneTime("", "password_reset", now.Add(time.Hour)),
		"zero hash":  noHash,
		"zero time":  noTime,
		"duplicate":  tok,
	} {
		if err := s.SaveOneTime(ctx, bad); err == nil || !strings.HasPrefix(err.Error(), "redisstore: ") {
			t.Errorf("SaveOneTime(%s) = %v; want an error beginning with redisstore:", name, err)
		}
	}
	route := authstore.RouteFor(user)
	for name, call := range map[string]func() (bool, error){
		"bad route": func() (bool, error) {
			_, found, err := s.ConsumeOneTime(ctx, "no/route", tok.Hash, "password_reset", now)
			return found, err
		},
		"zero hash": func() (bool, error) {
			_, found, err := s.ConsumeOneTime(ctx, route, authstore.TokenHash{}, "password_reset", now)
			return found, err
		},
		"no purpose": func() (bool, error) {
			_, found, err := s.ConsumeOneTime(ctx, route, tok.Hash, "", now)
			return found, err
		},
	} {
		if found, err := call(); found || err != nil {
			t.Errorf("ConsumeOneTime(%s) = %v, %v; want false, nil", name, found, err)
		}
	}
	if n, err := s.RevokeOneTime(ctx, user, ""); n != 0 || err != nil {
		t.Errorf("RevokeOneTime(no purpose) = %d, %v; want 0, nil", n, err)
	}
	if n, err := s.RevokeOneTime(ctx, uuid.NewString(), "password_reset"); n != 0 || err != nil {
		t.Errorf("RevokeOneTime(another user) = %d, %v; want 0, nil", n, err)
	}
	got, found, err := s.ConsumeOneTime(ctx, route, tok.Hash, "password_reset", now)
	if !found || err != nil || got.Hash != tok.Hash || got.UserID != tok.UserID || got.Purpose != tok.Purpose || !got.ExpiresAt.Equal(tok.ExpiresAt) {
		t.Errorf("ConsumeOneTime after the refused calls = %+v, %v, %v; want %+v, true, nil", got, found, err, tok)
	}
	if got.ExpiresAt.Location() != time.UTC {
		t.Errorf("ExpiresAt in %v; want UTC", got.ExpiresAt.Location())
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.SaveOneTime(cancelled, oneTime(user, "password_reset", now.Add(time.Hour))); !errors.Is(err, context.Canceled) {
		t.Errorf("SaveOneTime(cancelled) = %v; want context.Canceled", err)
	}
}

// Two users whose routing keys are equal share their keys; no such pair
// can be found, so the test writes a token of another user into a user's
// route by hand: RevokeOneTime of the user leaves it, and
// ConsumeOneTime returns it with its own user.
func TestOneTimeSharedRoute(t *testing.T) {
	ctx := t.Context()
	c := newClient(t)
	prefix := newPrefix(t, c)
	s, err := redisstore.New(c, redisstore.WithKeyPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	user, other := uuid.NewString(), uuid.NewString()
	route := authstore.RouteFor(user)
	pre := prefix + "{" + route + "}:"
	mine := oneTime(user, "password_reset", now.Add(time.Hour))
	if err := s.SaveOneTime(ctx, mine); err != nil {
		t.Fatal(err)
	}
	theirs := oneTime(other, "password_reset", now.Add(time.Hour))
	exp := msCeil(theirs.ExpiresAt.Add(redisstore.DefaultExpiryMargin))
	if _, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		key := pre + "o:" + tokenID(theirs.Hash)
		p.HSet(ctx, key, "u", other, "p", theirs.Purpose, "e", theirs.ExpiresAt.UnixMicro())
		p.PExpireAt(ctx, key, time.UnixMilli(exp))
		p.ZAdd(ctx, pre+"op:password_reset", redis.Z{Score: float64(exp), Member: tokenID(theirs.Hash)})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.RevokeOneTime(ctx, user, "password_reset"); n != 1 || err != nil {
		t.Errorf("RevokeOneTime = %d, %v; want 1, nil", n, err)
	}
	got, found, err := s.ConsumeOneTime(ctx, route, theirs.Hash, "password_reset", now)
	if !found || err != nil || got.UserID != other || !got.ExpiresAt.Equal(theirs.ExpiresAt) {
		t.Errorf("ConsumeOneTime(the other user's token) = %+v, %v, %v; want it, true, nil", got, found, err)
	}
	if keys, err := scanKeys(ctx, c, prefix); err != nil || len(keys) != 0 {
		t.Errorf("keys left: %q, %v; want none", keys, err)
	}
}
