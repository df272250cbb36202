package redisstore_test

import (
	"context"
	"crypto/sha256"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/jwtkit/auth/authstore"
	"github.com/jwtkit/auth/redisstore"
)

// crc16 is the CRC-16/XMODEM checksum that Redis Cluster hashes keys with.
func crc16(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc ^= uint16(c) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// keySlot returns the Redis Cluster hash slot of key: that of its hash tag,
// the text between its first "{" and the next "}", when that is not empty,
// else that of the whole key.
func keySlot(key string) int {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	return int(crc16([]byte(key)) % 16384)
}

func TestKeySlot(t *testing.T) {
	if got := crc16([]byte("123456789")); got != 0x31c3 {
		t.Errorf("crc16(%q) = %#x; want 0x31c3", "123456789", got)
	}
	// The examples of the CLUSTER KEYSLOT documentation, and the tag rules
	// of the cluster specification.
	for _, tt := range []struct {
		key  string
		want int
	}{
		{"somekey", 11058},
		{"foo{hash_tag}", 2515},
		{"bar{hash_tag}", 2515},
		{"{hash_tag}", 2515},
	} {
		if got := keySlot(tt.key); got != tt.want {
			t.Errorf("keySlot(%q) = %d; want %d", tt.key, got, tt.want)
		}
	}
	if keySlot("{}x") == keySlot("x") || keySlot("a{}{b}") != int(crc16([]byte("a{}{b}"))%16384) {
		t.Errorf("keySlot: an empty tag must hash the whole key")
	}
}

// TestHashTags exercises every operation of a store and a throttle for two
// users, then checks with SCAN that each key of a user carries the user's
// hash tag, {RouteFor(user)}, and so lies in the slot of the route, and
// that the only other keys of the store are its purge index and the two
// hashes of the signing keys, in the slot of the tag {keys}. On a cluster
// it also asks the server for each key's slot.
func TestHashTags(t *testing.T) {
	t.Run("single", func(t *testing.T) { testHashTags(t, newClient(t)) })
	t.Run("cluster", func(t *testing.T) { testHashTags(t, newClusterClient(t)) })
}

func testHashTags(t *testing.T, c redis.UniversalClient) {
	ctx := t.Context()
	prefix := newPrefix(t, c)
	s, err := redisstore.New(c, redisstore.WithKeyPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	users := []string{uuid.NewString(), "alice@example.com", "{evil}user", ""}
	for _, user := range users {
		exercise(t, s, user, now)
	}
	if n, err := s.Purge(ctx, now.Add(time.Hour), 1000); err != nil || n == 0 {
		t.Fatalf("Purge = %d, %v; want some, nil", n, err)
	}
	// Leave something for every kind of key.
	for _, user := range users {
		exercise(t, s, user, now)
	}
	th, err := redisstore.NewThrottle(c, testRate, redisstore.WithKeyPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := th.Fail(ctx, "login:alice@example.com", now); err != nil {
		t.Fatal(err)
	}
	for gen := int64(1); gen <= 2; gen++ {
		key := authstore.KeyRecord{Generation: gen, ID: uuid.NewString(), Algorithm: "EdDSA", Sealed: []byte{1}, CreatedAt: now, ActiveAt: now}
		if _, err := s.AddKey(ctx, key); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Keys(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteKeys(ctx, 2); err != nil {
		t.Fatal(err)
	}

	keys, err := scanKeys(ctx, c, prefix)
	if err != nil {
		t.Fatal(err)
	}
	routes := map[string]bool{}
	for _, user := range users {
		routes[authstore.RouteFor(user)] = true
	}
	kinds := map[string]int{}
	for _, key := range keys {
		rest := strings.TrimPrefix(key, prefix)
		switch {
		case rest == "purge":
			kinds["purge"]++
			continue
		case strings.HasPrefix(rest, "throttle:"):
			kinds["throttle"]++
			continue
		case rest == "{keys}:signing" || rest == "{keys}:kids":
			kinds[rest]++
			if got, want := keySlot(key), keySlot("keys"); got != want {
				t.Errorf("keySlot(%q) = %d; want %d, the slot of the tag keys", key, got, want)
			}
			if cc, ok := c.(*redis.ClusterClient); ok {
				if got, err := cc.ClusterKeySlot(ctx, key).Result(); err != nil || int(got) != keySlot("keys") {
					t.Errorf("CLUSTER KEYSLOT %q = %d, %v; want %d", key, got, err, keySlot("keys"))
				}
			}
			continue
		}
		if len(rest) < authstore.RouteLen+3 || rest[0] != '{' || rest[authstore.RouteLen+1:authstore.RouteLen+3] != "}:" {
			t.Errorf("key %q does not begin with %s{ROUTE}:", key, prefix)
			continue
		}
		route := rest[1 : authstore.RouteLen+1]
		if !routes[route] {
			t.Errorf("key %q: route %q is none of the users'", key, route)
		}
		if got, want := keySlot(key), keySlot(route); got != want {
			t.Errorf("keySlot(%q) = %d; want %d, the slot of route %q", key, got, want, route)
		}
		kind := rest[authstore.RouteLen+3:]
		if i := strings.IndexByte(kind, ':'); i >= 0 {
			kind = kind[:i]
		}
		kinds[kind]++
		if cc, ok := c.(*redis.ClusterClient); ok {
			got, err := cc.ClusterKeySlot(ctx, key).Result()
			if err != nil {
				t.Fatalf("CLUSTER KEYSLOT %q: %v", key, err)
			}
			if int(got) != keySlot(route) {
				t.Errorf("CLUSTER KEYSLOT %q = %d; want %d", key, got, keySlot(route))
			}
		}
	}
	for _, kind := range []string{"t", "f", "fams", "due", "pb", "d", "cut", "o", "op", "purge", "throttle", "{keys}:signing", "{keys}:kids"} {
		if kinds[kind] == 0 {
			t.Errorf("no key of kind %q among %d keys; the test does not cover it", kind, len(keys))
		}
	}
	if kinds["purge"] != 1 {
		t.Errorf("%d purge index keys; want 1", kinds["purge"])
	}
}

// exercise runs every operation of s for user.
func exercise(t *testing.T, s *redisstore.Store, user string, now time.Time) {
	t.Helper()
	ctx := t.Context()
	route := authstore.RouteFor(user)
	hash := func() authstore.TokenHash { return sha256.Sum256([]byte(uuid.NewString())) }
	newSess := func(ttl time.Duration) (authstore.Session, authstore.RefreshRecord) {
		sess := authstore.Session{ID: uuid.NewString(), UserID: user, CreatedAt: now, ExpiresAt: now.Add(ttl), RefreshedAt: now}
		return sess, authstore.RefreshRecord{Hash: hash(), SessionID: sess.ID, UserID: user, IssuedAt: now, ExpiresAt: now.Add(ttl)}
	}
	s1, a := newSess(24 * time.Hour)
	s2, x := newSess(time.Minute)
	s3, _ := newSess(24 * time.Hour)
	for _, p := range []struct {
		sess authstore.Session
		r    authstore.RefreshRecord
	}{{s1, a}, {s2, x}, {s3, authstore.RefreshRecord{Hash: hash(), SessionID: s3.ID, UserID: user, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}}} {
		if err := s.CreateSession(ctx, p.sess, p.r); err != nil {
			t.Fatalf("CreateSession = %v", err)
		}
	}
	next := func(prev authstore.RefreshRecord, d time.Duration) authstore.RefreshRecord {
		return authstore.RefreshRecord{Hash: hash(), SessionID: prev.SessionID, UserID: user, IssuedAt: now.Add(d), ExpiresAt: now.Add(d + time.Hour)}
	}
	b := next(a, time.Second)
	c := next(a, 2*time.Second)
	for _, r := range []struct {
		old, expect authstore.TokenHash
		next        authstore.RefreshRecord
	}{{a.Hash, authstore.TokenHash{}, b}, {a.Hash, b.Hash, c}} {
		if ok, err := s.Rotate(ctx, route, r.old, r.expect, r.next); !ok || err != nil {
			t.Fatalf("Rotate = %v, %v; want true, nil", ok, err)
		}
	}
	if _, _, found, err := s.Lookup(ctx, route, c.Hash); !found || err != nil {
		t.Fatalf("Lookup = %v, %v; want true, nil", found, err)
	}
	if _, err := s.Sessions(ctx, user, now); err != nil {
		t.Fatal(err)
	}
	if found, err := s.RevokeSession(ctx, user, s2.ID, now); !found || err != nil {
		t.Fatalf("RevokeSession = %v, %v; want true, nil", found, err)
	}
	// s1 and s3 are live; s2 is revoked already.
	if n, err := s.RevokeUser(ctx, user, now.Add(time.Minute)); n != 2 || err != nil {
		t.Fatalf("RevokeUser = %d, %v; want 2, nil", n, err)
	}
	if err := s.Deny(ctx, user, uuid.NewString(), now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.CutOff(ctx, user, now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Revoked(context.WithoutCancel(ctx), user, "s", "j", now); err != nil {
		t.Fatal(err)
	}
	// One-time tokens, which need a user: two of one purpose, one consumed,
	// and one of another purpose, revoked; one is left.
	var once []authstore.OneTimeToken
	for _, purpose := range []string{"password_reset", "password_reset", "email_verify"} {
		tok := authstore.OneTimeToken{Hash: hash(), UserID: user, Purpose: purpose, ExpiresAt: now.Add(time.Hour)}
		err := s.SaveOneTime(ctx, tok)
		if user == "" {
			if err == nil {
				t.Fatal("SaveOneTime(no user) = nil; want an error")
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		once = append(once, tok)
	}
	if _, found, err := s.ConsumeOneTime(ctx, route, once[0].Hash, "password_reset", now); !found || err != nil {
		t.Fatalf("ConsumeOneTime = %v, %v; want true, nil", found, err)
	}
	if n, err := s.RevokeOneTime(ctx, user, "email_verify"); n != 1 || err != nil {
		t.Fatalf("RevokeOneTime = %d, %v; want 1, nil", n, err)
	}
}
