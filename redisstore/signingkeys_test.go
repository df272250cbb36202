package redisstore_test

import (
	"math"
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

func TestKeyStore(t *testing.T) {
	c := newClient(t)
	authtest.TestKeyStore(t, func(t *testing.T) authstore.KeyStore { return newStore(t, c) })
}

// signingKey is a key record of generation gen with a new kid.
func signingKey(gen int64, now time.Time) authstore.KeyRecord {
	return authstore.KeyRecord{Generation: gen, ID: uuid.NewString(), Algorithm: "EdDSA", Sealed: []byte{0, 1, 0xff}, CreatedAt: now, ActiveAt: now.Add(time.Hour)}
}

// TestKeysHashTag adds and deletes signing keys, then checks with SCAN
// that they are the two hashes PREFIX{keys}:signing and PREFIX{keys}:kids,
// both in the slot of the hash tag keys, and that neither expires; on a
// cluster it also asks the server for each key's slot. Once every key is
// deleted, no key is left.
func TestKeysHashTag(t *testing.T) {
	t.Run("single", func(t *testing.T) { testKeysHashTag(t, newClient(t)) })
	t.Run("cluster", func(t *testing.T) { testKeysHashTag(t, newClusterClient(t)) })
}

func testKeysHashTag(t *testing.T, c redis.UniversalClient) {
	ctx := t.Context()
	prefix := newPrefix(t, c)
	s, err := redisstore.New(c, redisstore.WithKeyPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	for gen := int64(1); gen <= 3; gen++ {
		if added, err := s.AddKey(ctx, signingKey(gen, now)); !added || err != nil {
			t.Fatalf("AddKey(%d) = %v, %v; want true, nil", gen, added, err)
		}
	}
	if n, err := s.DeleteKeys(ctx, 2); n != 1 || err != nil {
		t.Fatalf("DeleteKeys(2) = %d, %v; want 1, nil", n, err)
	}
	keys, err := scanKeys(ctx, c, prefix)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	if want := []string{prefix + "{keys}:kids", prefix + "{keys}:signing"}; !slices.Equal(keys, want) {
		t.Fatalf("keys = %q; want %q", keys, want)
	}
	cc, _ := c.(*redis.ClusterClient)
	for _, key := range keys {
		if got, want := keySlot(key), keySlot("keys"); got != want {
			t.Errorf("keySlot(%q) = %d; want %d, the slot of the tag keys", key, got, want)
		}
		if cc != nil {
			got, err := cc.ClusterKeySlot(ctx, key).Result()
			if err != nil {
				t.Fatalf("CLUSTER KEYSLOT %q: %v", key, err)
			}
			if int(got) != keySlot("keys") {
				t.Errorf("CLUSTER KEYSLOT %q = %d; want %d", key, got, keySlot("keys"))
			}
		}
		if ttl, err := c.PTTL(ctx, key).Result(); err != nil || ttl != -1 {
			t.Errorf("PTTL %s = %v, %v; want -1 (no expiry)", strings.TrimPrefix(key, prefix), ttl, err)
		}
		if n, err := c.HLen(ctx, key).Result(); err != nil || n != 2 {
			t.Errorf("HLEN %s = %d, %v; want 2", strings.TrimPrefix(key, prefix), n, err)
		}
	}
	if n, err := s.DeleteKeys(ctx, math.MaxInt64); n != 2 || err != nil {
		t.Fatalf("DeleteKeys(MaxInt64) = %d, %v; want 2, nil", n, err)
	}
	if keys, err := scanKeys(ctx, c, prefix); err != nil || len(keys) != 0 {
		t.Errorf("keys left after deleting every key: %q, %v; want none", keys, err)
	}
}

// TestAddKeyStoredID checks the cases of a stored kid that the suite
// leaves out: a kid stored already is an error whether or not the
// generation is taken, and nothing changes; a new kid on a taken
// generation is refused with false, and a deleted key's kid is free again.
func TestAddKeyStoredID(t *testing.T) {
	ctx := t.Context()
	s := newStore(t, newClient(t))
	now := time.Now().UTC().Truncate(time.Microsecond)
	k1, k2 := signingKey(1, now), signingKey(2, now)
	for _, k := range []authstore.KeyRecord{k1, k2} {
		if added, err := s.AddKey(ctx, k); !added || err != nil {
			t.Fatalf("AddKey(generation %d) = %v, %v; want true, nil", k.Generation, added, err)
		}
	}
	withID := func(gen int64, id string) authstore.KeyRecord { k := signingKey(gen, now); k.ID = id; return k }
	for name, rec := range map[string]authstore.KeyRecord{
		"the same key again":                   k1,
		"a taken generation, another key's id": withID(1, k2.ID),
		"a free generation, a stored id":       withID(3, k1.ID),
	} {
		added, err := s.AddKey(ctx, rec)
		if added || err == nil || !strings.HasPrefix(err.Error(), "redisstore: ") {
			t.Errorf("AddKey(%s) = %v, %v; want false, an error", name, added, err)
		}
	}
	if added, err := s.AddKey(ctx, signingKey(2, now)); added || err != nil {
		t.Errorf("AddKey(a taken generation, a new id) = %v, %v; want false, nil", added, err)
	}
	got, err := s.Keys(ctx)
	if err != nil || len(got) != 2 || got[0].ID != k1.ID || got[1].ID != k2.ID {
		t.Errorf("Keys = %+v, %v; want the two keys added first", got, err)
	}
	if n, err := s.DeleteKeys(ctx, 2); n != 1 || err != nil {
		t.Fatalf("DeleteKeys(2) = %d, %v; want 1, nil", n, err)
	}
	if added, err := s.AddKey(ctx, withID(3, k1.ID)); !added || err != nil {
		t.Errorf("AddKey(the id of a deleted key) = %v, %v; want true, nil", added, err)
	}
}

// TestKeysLargeGenerations checks that generations beyond 2^53, which a
// Lua number cannot tell apart, are stored, ordered and deleted exactly,
// and that DeleteKeys takes any bound, negative ones included.
func TestKeysLargeGenerations(t *testing.T) {
	ctx := t.Context()
	s := newStore(t, newClient(t))
	now := time.Now().UTC().Truncate(time.Microsecond)
	gens := []int64{1 << 53, 1<<53 + 1, 1<<53 + 2, math.MaxInt64 - 1, math.MaxInt64}
	for _, gen := range slices.Backward(gens) {
		if added, err := s.AddKey(ctx, signingKey(gen, now)); !added || err != nil {
			t.Fatalf("AddKey(%d) = %v, %v; want true, nil", gen, added, err)
		}
	}
	wantGens := func(want ...int64) {
		t.Helper()
		keys, err := s.Keys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, k := range keys {
			got = append(got, k.Generation)
		}
		if !slices.Equal(got, want) {
			t.Errorf("Keys generations = %v; want %v", got, want)
		}
	}
	wantGens(gens...)
	for _, tt := range []struct {
		below int64
		n     int
	}{
		{math.MinInt64, 0}, {-1, 0}, {0, 0}, {1 << 53, 0}, {1<<53 + 2, 2}, {1<<53 + 3, 1},
		{math.MaxInt64 - 1, 0}, {math.MaxInt64, 1},
	} {
		if n, err := s.DeleteKeys(ctx, tt.below); n != tt.n || err != nil {
			t.Errorf("DeleteKeys(%d) = %d, %v; want %d, nil", tt.below, n, err, tt.n)
		}
	}
	wantGens(math.MaxInt64)
}

// TestKeysCorruptRecord checks that a record that is not AddKey's makes
// Keys fail rather than return a key of made-up bytes.
func TestKeysCorruptRecord(t *testing.T) {
	ctx := t.Context()
	c := newClient(t)
	prefix := newPrefix(t, c)
	s, err := redisstore.New(c, redisstore.WithKeyPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddKey(ctx, signingKey(1, time.Now())); err != nil {
		t.Fatal(err)
	}
	for _, field := range [][2]string{{"2", "not json"}, {"x", `{"kid":"k","alg":"EdDSA","sealed":"AA==","created":"","active":""}`}, {"3", `{"kid":"k","alg":"EdDSA","sealed":""}`}} {
		if err := c.HSet(ctx, prefix+"{keys}:signing", field[0], field[1]).Err(); err != nil {
			t.Fatal(err)
		}
		if keys, err := s.Keys(ctx); err == nil || !strings.HasPrefix(err.Error(), "redisstore: ") {
			t.Errorf("Keys with a field %q = %q = %v, %v; want an error", field[0], field[1], keys, err)
		}
		if err := c.HDel(ctx, prefix+"{keys}:signing", field[0]).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if keys, err := s.Keys(ctx); err != nil || len(keys) != 1 {
		t.Errorf("Keys = %v, %v; want the one key", keys, err)
	}
}
