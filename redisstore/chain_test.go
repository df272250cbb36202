package redisstore_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/jwtkit/auth/authstore"
	"github.com/jwtkit/auth/redisstore"
)

// Bounds of a session's data once its older tokens are trimmed: its newest
// 17 tokens, each a t: field and an s: field of the session hash, and at
// most eight fields of the session itself.
const (
	keptTokens        = authstore.MinKeptTokens + 1
	maxSessionFields  = 2*keptTokens + 8
	chainRotations    = 2000
	revokedUserLogins = 1000
)

// TestBoundedChain checks that a session that rotates 2,000 times keeps
// its newest 17 tokens and no more: in its hash (which used to grow by a
// field per rotation), as token keys and in the due index; that each of
// its newest authstore.MinKeptTokens used tokens is still found as used;
// and that deleting the revoked session (by Purge) is one script over
// that bounded hash.
func TestBoundedChain(t *testing.T) {
	ctx := t.Context()
	c := newClient(t)
	prefix := newPrefix(t, c)
	s, err := redisstore.New(c, redisstore.WithKeyPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	user := uuid.NewString()
	route := authstore.RouteFor(user)
	pre := prefix + "{" + route + "}:"
	sess := authstore.Session{ID: uuid.NewString(), UserID: user, CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour), RefreshedAt: now}
	rec := authstore.RefreshRecord{Hash: randomHash(), SessionID: sess.ID, UserID: user, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateSession(ctx, sess, rec); err != nil {
		t.Fatal(err)
	}
	chain := []authstore.RefreshRecord{rec}
	for i := range chainRotations {
		next := authstore.RefreshRecord{Hash: randomHash(), SessionID: sess.ID, UserID: user,
			IssuedAt: now.Add(time.Duration(i+1) * time.Millisecond), ExpiresAt: now.Add(time.Hour + time.Duration(i+1)*time.Millisecond)}
		if ok, err := s.Rotate(ctx, route, rec.Hash, authstore.TokenHash{}, next); !ok || err != nil {
			t.Fatalf("Rotate %d = %v, %v; want true, nil", i+1, ok, err)
		}
		rec = next
		chain = append(chain, next)
	}

	fields, err := c.HKeys(ctx, pre+"f:"+sess.ID).Result()
	if err != nil {
		t.Fatal(err)
	}
	tokens := 0
	for _, f := range fields {
		if strings.HasPrefix(f, "t:") {
			tokens++
		}
	}
	size, err := c.MemoryUsage(ctx, pre+"f:"+sess.ID).Result()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d rotations: session hash of %d fields, %d of them tokens (%d before the bound), %d bytes", chainRotations, len(fields), tokens, chainRotations+1, size)
	if len(fields) > maxSessionFields || tokens != keptTokens {
		t.Errorf("after %d rotations the session hash has %d fields, %d tokens; want at most %d fields, %d tokens", chainRotations, len(fields), tokens, maxSessionFields, keptTokens)
	}
	keys, err := scanKeys(ctx, c, pre+"t:")
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != keptTokens {
		t.Errorf("after %d rotations %d token keys; want %d", chainRotations, len(keys), keptTokens)
	}
	if n, err := c.ZCard(ctx, pre+"due").Result(); err != nil || n != keptTokens+1 {
		t.Errorf("ZCARD due = %d, %v; want %d (the session and its tokens)", n, err, keptTokens+1)
	}
	for i, r := range chain {
		got, _, found, err := s.Lookup(ctx, route, r.Hash)
		kept := i >= chainRotations-authstore.MinKeptTokens
		if err != nil || found != kept || (kept && i < chainRotations && !got.Used()) {
			t.Errorf("Lookup(token %d of %d) = found %v, used %v, %v; want found %v", i, chainRotations, found, got.Used(), err, kept)
		}
	}

	if found, err := s.RevokeSession(ctx, user, sess.ID, now.Add(time.Second)); !found || err != nil {
		t.Fatalf("RevokeSession = %v, %v", found, err)
	}
	if n, err := s.Purge(ctx, now.Add(time.Second), 100); n != 1 || err != nil {
		t.Errorf("Purge = %d, %v; want 1 (the revoked session with its %d tokens), nil", n, err, keptTokens)
	}
	if keys, err := scanKeys(ctx, c, pre); err != nil || len(keys) != 0 {
		t.Errorf("keys of the route after Purge = %v, %v; want none", keys, err)
	}
}

// scriptArgs records the number of arguments of every script call.
type scriptArgs struct {
	mu   sync.Mutex
	args []int
}

func (h *scriptArgs) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *scriptArgs) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if name := cmd.Name(); name == "evalsha" || name == "eval" {
			h.mu.Lock()
			h.args = append(h.args, len(cmd.Args()))
			h.mu.Unlock()
		}
		return next(ctx, cmd)
	}
}

func (h *scriptArgs) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// TestRevokeUserBatches checks that RevokeUser revokes and counts all of
// a user's 1,000 sessions, in scripts that each carry at most 100 of them
// (it used to be one script over all the sessions).
func TestRevokeUserBatches(t *testing.T) {
	ctx := t.Context()
	c := newClient(t)
	s, err := redisstore.New(c, redisstore.WithKeyPrefix(newPrefix(t, c)), redisstore.WithMaxSessionsPerUser(10000))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	user := uuid.NewString()
	for i := range revokedUserLogins {
		at := now.Add(time.Duration(i) * time.Millisecond)
		sess := authstore.Session{ID: uuid.NewString(), UserID: user, CreatedAt: at, ExpiresAt: at.Add(time.Hour), RefreshedAt: at}
		r := authstore.RefreshRecord{Hash: randomHash(), SessionID: sess.ID, UserID: user, IssuedAt: at, ExpiresAt: at.Add(time.Hour)}
		if err := s.CreateSession(ctx, sess, r); err != nil {
			t.Fatal(err)
		}
	}
	hook := &scriptArgs{}
	c.(*redis.Client).AddHook(hook)
	at := now.Add(time.Minute)
	if n, err := s.RevokeUser(ctx, user, at); n != revokedUserLogins || err != nil {
		t.Errorf("RevokeUser = %d, %v; want %d, nil", n, err, revokedUserLogins)
	}
	hook.mu.Lock()
	calls := append([]int(nil), hook.args...)
	hook.mu.Unlock()
	// EVALSHA sha numkeys, three keys, three arguments, then the ids.
	const fixed = 3 + 3 + 3
	ids := 0
	for i, n := range calls {
		if n-fixed > 100 {
			t.Errorf("script %d of RevokeUser carries %d sessions; want at most 100", i, n-fixed)
		}
		ids += n - fixed
	}
	t.Logf("RevokeUser of %d sessions: %d scripts", revokedUserLogins, len(calls))
	if len(calls) < revokedUserLogins/100 || ids < revokedUserLogins {
		t.Errorf("RevokeUser ran %d scripts over %d sessions; want at least %d over %d", len(calls), ids, revokedUserLogins/100, revokedUserLogins)
	}
	if list, err := s.Sessions(ctx, user, now); len(list) != 0 || err != nil {
		t.Errorf("Sessions after RevokeUser = %d sessions, %v; want none", len(list), err)
	}
}

// TestPurgeUnboundedSession checks that a session stored before chains
// were bounded, with thousands of tokens in its hash, is deleted a part at
// a time: each Purge script deletes a bounded part of it (the revoked
// session used to go in one script over all its tokens), the session is
// gone for lookups at once, and in the end nothing of it is left.
func TestPurgeUnboundedSession(t *testing.T) {
	const legacyTokens = 3000
	ctx := t.Context()
	c := newClient(t)
	prefix := newPrefix(t, c)
	s, err := redisstore.New(c, redisstore.WithKeyPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	user := uuid.NewString()
	route := authstore.RouteFor(user)
	pre := prefix + "{" + route + "}:"
	sess := authstore.Session{ID: uuid.NewString(), UserID: user, CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour), RefreshedAt: now}
	rec := authstore.RefreshRecord{Hash: randomHash(), SessionID: sess.ID, UserID: user, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateSession(ctx, sess, rec); err != nil {
		t.Fatal(err)
	}
	// The tokens of a long chain as an older release left them: a field of
	// the session hash, a key and a due entry each.
	exp := now.Add(time.Hour).UnixMicro()
	_, err = c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for range legacyTokens {
			id := tokenID(randomHash())
			p.HSet(ctx, pre+"f:"+sess.ID, "t:"+id, "1,2,3,")
			p.Set(ctx, pre+"t:"+id, sess.ID, time.Hour)
			p.ZAdd(ctx, pre+"due", redis.Z{Score: float64(exp), Member: "t:" + id + sess.ID})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found, err := s.RevokeSession(ctx, user, sess.ID, now); !found || err != nil {
		t.Fatalf("RevokeSession = %v, %v", found, err)
	}
	calls := 0
	for {
		n, err := s.Purge(ctx, now, 1)
		if err != nil {
			t.Fatalf("Purge = %v", err)
		}
		if n == 0 {
			break
		}
		calls++
		if calls == 1 {
			if _, _, found, err := s.Lookup(ctx, route, rec.Hash); found || err != nil {
				t.Errorf("Lookup after the first Purge = %v, %v; want false, nil", found, err)
			}
		}
		if calls > legacyTokens {
			t.Fatalf("Purge(limit 1) returned 1 %d times", calls)
		}
	}
	t.Logf("a session of %d tokens: deleted by %d Purge scripts", legacyTokens+1, calls)
	if calls < legacyTokens/512 {
		t.Errorf("a session of %d tokens deleted by %d Purge calls of limit 1; want it deleted in parts of at most about 256", legacyTokens, calls)
	}
	if keys, err := scanKeys(ctx, c, pre); err != nil || len(keys) != 0 {
		t.Errorf("keys of the route after Purge = %d keys, %v; want none", len(keys), err)
	}
}
