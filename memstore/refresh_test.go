package memstore

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/jwtkit/auth/authstore"
)

// The conformance suites run on Store in package authtest (which imports
// this package); these tests cover what only the memory store promises:
// the per-user cap, bounded memory, copies, and its internal consistency.

// seq makes distinct hashes and ids without randomness.
type seq struct{ n int }

func (q *seq) next() int { q.n++; return q.n }

// session returns a session of userID created at created, ending at
// expires, and its first token, which expires with it.
func (q *seq) session(userID string, created, expires time.Time) (authstore.Session, authstore.RefreshRecord) {
	sess := authstore.Session{
		ID:          fmt.Sprintf("sess-%d", q.next()),
		UserID:      userID,
		CreatedAt:   created,
		ExpiresAt:   expires,
		RefreshedAt: created,
		UserAgent:   "test",
		Address:     "192.0.2.1",
	}
	return sess, q.token(sess.ID, userID, created, expires)
}

// token returns a new token of the session sessionID of userID.
func (q *seq) token(sessionID, userID string, issued, expires time.Time) authstore.RefreshRecord {
	return authstore.RefreshRecord{
		Hash:      authstore.HashToken(fmt.Sprintf("%s-token-%d", authstore.RouteFor(userID), q.next())),
		SessionID: sessionID,
		UserID:    userID,
		IssuedAt:  issued,
		ExpiresAt: expires,
	}
}

// newStore returns a new Store configured by opts, failing the test on an
// error.
func newStore(t *testing.T, opts ...Option) *Store {
	t.Helper()
	s, err := New(opts...)
	if err != nil {
		t.Fatalf("New() = %v; want nil", err)
	}
	return s
}

// create stores sess and rec, failing the test on an error.
func create(t *testing.T, s *Store, sess authstore.Session, rec authstore.RefreshRecord) {
	t.Helper()
	if err := s.CreateSession(t.Context(), sess, rec); err != nil {
		t.Fatalf("CreateSession(%s) = %v; want nil", sess.ID, err)
	}
}

// sessionIDs returns the ids of the sessions of userID live at now, in the
// order of Sessions.
func sessionIDs(t *testing.T, s *Store, userID string, now time.Time) []string {
	t.Helper()
	sessions, err := s.Sessions(t.Context(), userID, now)
	if err != nil {
		t.Fatalf("Sessions(%s) = %v; want nil", userID, err)
	}
	ids := make([]string, len(sessions))
	for i, sess := range sessions {
		ids[i] = sess.ID
	}
	return ids
}

// found reports whether Lookup finds rec under its user's routing key.
func found(t *testing.T, s *Store, rec authstore.RefreshRecord) bool {
	t.Helper()
	_, _, ok, err := s.Lookup(t.Context(), authstore.RouteFor(rec.UserID), rec.Hash)
	if err != nil {
		t.Fatalf("Lookup(%s) = %v; want nil", rec.SessionID, err)
	}
	return ok
}

// The cap of WithMaxSessionsPerUser goes by CreatedAt, not by insertion,
// evicts the oldest live sessions with their tokens, and counts each user
// alone.
func TestStoreCapEvictsOldestLive(t *testing.T) {
	t.Parallel()
	const limit = 10
	s := newStore(t, WithMaxSessionsPerUser(limit))
	var q seq
	end := memNow.Add(30 * 24 * time.Hour)
	other, otherRec := q.session("bob", memNow, end)
	create(t, s, other, otherRec)

	// Created out of order: minutes 0 and 1 are the oldest.
	ids := map[int]string{}
	recs := map[int]authstore.RefreshRecord{}
	for _, minute := range []int{2, 0, 5, 1, 4, 11, 3, 7, 6, 10, 9, 8} {
		sess, rec := q.session("alice", memNow.Add(time.Duration(minute)*time.Minute), end)
		create(t, s, sess, rec)
		ids[minute], recs[minute] = sess.ID, rec
	}
	var want []string
	for minute := 11; minute >= 2; minute-- {
		want = append(want, ids[minute])
	}
	if got := sessionIDs(t, s, "alice", memNow); !slices.Equal(got, want) {
		t.Errorf("Sessions(alice) = %v; want %v (the two oldest evicted)", got, want)
	}
	for _, minute := range []int{0, 1} {
		if found(t, s, recs[minute]) {
			t.Errorf("Lookup(token of evicted session %s) found = true; want false", ids[minute])
		}
	}
	if got := sessionIDs(t, s, "bob", memNow); !slices.Equal(got, []string{other.ID}) {
		t.Errorf("Sessions(bob) = %v; want [%s]", got, other.ID)
	}
	if len(s.sessions) != limit+1 || len(s.tokens) != limit+1 {
		t.Errorf("stored sessions, tokens = %d, %d; want %d, %d", len(s.sessions), len(s.tokens), limit+1, limit+1)
	}
	checkInvariants(t, s)
}

// At the cap, a revoked session goes before any live one.
func TestStoreCapEvictsRevokedFirst(t *testing.T) {
	t.Parallel()
	const limit = 10
	s := newStore(t, WithMaxSessionsPerUser(limit))
	var q seq
	end := memNow.Add(30 * 24 * time.Hour)
	var ids []string // by minute of creation
	for i := range limit {
		sess, rec := q.session("alice", memNow.Add(time.Duration(i)*time.Minute), end)
		create(t, s, sess, rec)
		ids = append(ids, sess.ID)
	}
	const revoked = 5
	if ok, err := s.RevokeSession(t.Context(), "alice", ids[revoked], memNow.Add(20*time.Minute)); !ok || err != nil {
		t.Fatalf("RevokeSession = %v, %v; want true, nil", ok, err)
	}
	newestFirst := func(ids []string) []string {
		out := slices.Clone(ids)
		slices.Reverse(out)
		return out
	}

	// One more: the revoked session goes, every live one stays.
	s11, rec11 := q.session("alice", memNow.Add(21*time.Minute), end)
	create(t, s, s11, rec11)
	if _, ok := s.sessions[ids[revoked]]; ok {
		t.Errorf("revoked session %s still stored; want it evicted first", ids[revoked])
	}
	live := append(slices.Delete(slices.Clone(ids), revoked, revoked+1), s11.ID)
	if got := sessionIDs(t, s, "alice", memNow.Add(21*time.Minute)); !slices.Equal(got, newestFirst(live)) {
		t.Errorf("Sessions(alice) = %v; want %v", got, newestFirst(live))
	}

	// Another: no dead session left, so the oldest live one goes.
	s12, rec12 := q.session("alice", memNow.Add(22*time.Minute), end)
	create(t, s, s12, rec12)
	live = append(live[1:], s12.ID)
	if got := sessionIDs(t, s, "alice", memNow.Add(22*time.Minute)); !slices.Equal(got, newestFirst(live)) {
		t.Errorf("Sessions(alice) = %v; want %v", got, newestFirst(live))
	}
	checkInvariants(t, s)
}

// Sign-ins alone keep memory bounded: every CreateSession deletes a few
// expired sessions and tokens.
func TestStoreBoundedMemory(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	var q seq
	const lifetime = 10 // seconds; at most this many sessions are live at once
	for i := range 5000 {
		created := memNow.Add(time.Duration(i) * time.Second)
		sess, rec := q.session(fmt.Sprintf("user-%d", i), created, created.Add(lifetime*time.Second))
		create(t, s, sess, rec)
		if n := len(s.sessions); n > lifetime {
			t.Fatalf("after %d sign-ins: %d sessions stored; want at most %d", i+1, n, lifetime)
		}
	}
	checkInvariants(t, s)
}

// Rotations alone keep memory bounded too: a long session rotated every
// second holds only the tokens that have not expired yet.
func TestStoreBoundedByRotation(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	var q seq
	const ttl = 10 // seconds of each token
	sess, rec := q.session("alice", memNow, memNow.Add(24*time.Hour))
	rec.ExpiresAt = memNow.Add(ttl * time.Second)
	create(t, s, sess, rec)
	for i := 1; i <= 5000; i++ {
		issued := memNow.Add(time.Duration(i) * time.Second)
		next := q.token(sess.ID, "alice", issued, issued.Add(ttl*time.Second))
		if ok, err := s.Rotate(t.Context(), authstore.RouteFor("alice"), rec.Hash, authstore.TokenHash{}, next); !ok || err != nil {
			t.Fatalf("Rotate %d = %v, %v; want true, nil", i, ok, err)
		}
		rec = next
		if n := len(s.tokens); n > ttl {
			t.Fatalf("after %d rotations: %d tokens stored; want at most %d", i, n, ttl)
		}
	}
	if !found(t, s, rec) {
		t.Error("Lookup(newest token) found = false; want true")
	}
	checkInvariants(t, s)
}

// A session refreshing in a loop, with tokens that never expire while it
// runs, keeps at most maxTokensPerSession tokens (and the new one): the
// oldest used ones go, so presenting one of them finds nothing, while the
// newest still rotates.
func TestStoreBoundsOneSession(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	var q seq
	end := memNow.Add(30 * 24 * time.Hour)
	sess, rec := q.session("alice", memNow, end)
	create(t, s, sess, rec)
	first := rec
	route := authstore.RouteFor("alice")
	const rotations = 3 * maxTokensPerSession
	for i := 1; i <= rotations+1; i++ {
		next := q.token(sess.ID, "alice", memNow.Add(time.Duration(i)*time.Millisecond), end)
		if ok, err := s.Rotate(t.Context(), route, rec.Hash, authstore.TokenHash{}, next); !ok || err != nil {
			t.Fatalf("Rotate %d = %v, %v; want true, nil", i, ok, err)
		}
		rec = next
		if i == rotations {
			if n := len(s.tokens); n > maxTokensPerSession+1 {
				t.Errorf("after %d rotations of one session the store holds %d tokens; want at most %d", rotations, n, maxTokensPerSession+1)
			}
		}
	}
	if found(t, s, first) {
		t.Errorf("Lookup(first token, %d rotations ago) found = true; want false", rotations+1)
	}
	checkInvariants(t, s)
}

// TestStoreTrimsOldestInOneInstant: a session rotated many times within
// one clock tick (every token has the same IssuedAt and UsedAt) still drops
// its oldest used tokens first, in the order they were stored, and keeps
// the newest ones, so that replaying a recent token is still recognised.
func TestStoreTrimsOldestInOneInstant(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	var q seq
	end := memNow.Add(30 * 24 * time.Hour)
	sess, rec := q.session("alice", memNow, end)
	create(t, s, sess, rec)
	route := authstore.RouteFor("alice")
	all := []authstore.RefreshRecord{rec}
	const rotations = 3 * maxTokensPerSession
	for i := 1; i <= rotations; i++ {
		next := q.token(sess.ID, "alice", memNow, end) // the same instant every time
		if ok, err := s.Rotate(t.Context(), route, rec.Hash, authstore.TokenHash{}, next); !ok || err != nil {
			t.Fatalf("Rotate %d = %v, %v; want true, nil", i, ok, err)
		}
		rec = next
		all = append(all, next)
	}
	kept := 0
	for i, r := range all {
		if found(t, s, r) {
			kept++
		} else if i >= len(all)-maxTokensPerSession/2 {
			t.Errorf("token %d of %d (one of the newest) was dropped; want the oldest used ones dropped first", i, len(all))
		}
	}
	if kept > maxTokensPerSession+1 {
		t.Errorf("the store keeps %d tokens of one session; want at most %d", kept, maxTokensPerSession+1)
	}
	if found(t, s, all[0]) {
		t.Errorf("Lookup(first token, %d rotations ago) found = true; want false", rotations)
	}
	checkInvariants(t, s)
}

// A burst of sessions that then expire leaves the store: the maps and the
// expiry heaps shrink back as later sign-ins purge a batch each.
func TestStoreShrinksAfterBurst(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	var q seq
	const burst, later = 1000, 200
	for i := range burst {
		sess, rec := q.session(fmt.Sprintf("burst-%d", i), memNow, memNow.Add(time.Minute))
		create(t, s, sess, rec)
		// Rotate once: a session holds two tokens.
		next := q.token(sess.ID, sess.UserID, memNow.Add(time.Second), memNow.Add(time.Minute))
		if ok, err := s.Rotate(t.Context(), authstore.RouteFor(sess.UserID), rec.Hash, authstore.TokenHash{}, next); !ok || err != nil {
			t.Fatalf("Rotate = %v, %v; want true, nil", ok, err)
		}
	}
	if len(s.sessions) != burst || len(s.tokens) != 2*burst || len(s.userSessions) != burst {
		t.Fatalf("after the burst: sessions, tokens, users = %d, %d, %d; want %d, %d, %d",
			len(s.sessions), len(s.tokens), len(s.userSessions), burst, 2*burst, burst)
	}
	peak := cap(s.tokenExpiry)
	for i := range later {
		created := memNow.Add(time.Hour + time.Duration(i)*time.Second)
		sess, rec := q.session(fmt.Sprintf("later-%d", i), created, created.Add(24*time.Hour))
		create(t, s, sess, rec)
	}
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"sessions", len(s.sessions), later},
		{"tokens", len(s.tokens), later},
		{"userSessions", len(s.userSessions), later},
		{"sessionTokens", len(s.sessionTokens), later},
		{"sessionExpiry", len(s.sessionExpiry), later},
		{"tokenExpiry", len(s.tokenExpiry), later},
	} {
		if c.got != c.want {
			t.Errorf("after %d later sign-ins: len(%s) = %d; want %d", later, c.name, c.got, c.want)
		}
	}
	if c := cap(s.tokenExpiry); c >= peak/2 {
		t.Errorf("cap(tokenExpiry) = %d after shrinking from %d; want less than %d", c, peak, peak/2)
	}
	checkInvariants(t, s)
}

// CreateSession purges expired items on the side, never revoked sessions:
// their tokens stay recognised until they expire or Purge runs.
func TestStoreKeepsRevokedSessions(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newStore(t)
	var q seq
	sess, rec := q.session("alice", memNow, memNow.Add(time.Hour))
	create(t, s, sess, rec)
	if ok, err := s.RevokeSession(ctx, "alice", sess.ID, memNow); !ok || err != nil {
		t.Fatalf("RevokeSession = %v, %v; want true, nil", ok, err)
	}
	for i := range 50 {
		other, orec := q.session("alice", memNow.Add(time.Duration(i)*time.Second), memNow.Add(2*time.Hour))
		create(t, s, other, orec)
	}
	_, got, ok, err := s.Lookup(ctx, authstore.RouteFor("alice"), rec.Hash)
	if err != nil || !ok || !got.RevokedAt.Equal(memNow) {
		t.Errorf("Lookup(token of revoked session) = %v, RevokedAt %v, %v; want found, %v", ok, got.RevokedAt, err, memNow)
	}
	// Once the session has expired, the next sign-in deletes it.
	other, orec := q.session("alice", memNow.Add(time.Hour), memNow.Add(2*time.Hour))
	create(t, s, other, orec)
	if found(t, s, rec) {
		t.Errorf("Lookup(token of expired revoked session) found = true; want false")
	}
	checkInvariants(t, s)
}

// Values returned by Lookup and Sessions are copies, and so are the values
// the store keeps of its arguments.
func TestStoreReturnsCopies(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newStore(t)
	var q seq
	sess, rec := q.session("alice", memNow, memNow.Add(time.Hour))
	create(t, s, sess, rec)
	sess.UserAgent, rec.UsedAt = "changed by the caller", memNow // the store kept its own copies

	gotRec, gotSess, _, _ := s.Lookup(ctx, authstore.RouteFor("alice"), rec.Hash)
	gotRec.UsedAt, gotRec.Successor[0] = memNow, 1
	gotSess.RevokedAt, gotSess.UserAgent = memNow, "changed"
	sessions, _ := s.Sessions(ctx, "alice", memNow)
	sessions[0].RevokedAt, sessions[0].ExpiresAt = memNow, memNow

	again, againSess, _, _ := s.Lookup(ctx, authstore.RouteFor("alice"), rec.Hash)
	if again.Used() || again.HasSuccessor() {
		t.Errorf("Lookup after changing a returned record = %+v; want it unused", again)
	}
	if !againSess.RevokedAt.IsZero() || againSess.UserAgent != "test" {
		t.Errorf("Lookup after changing a returned session = RevokedAt %v, UserAgent %q; want zero, %q", againSess.RevokedAt, againSess.UserAgent, "test")
	}
	if sessions, _ := s.Sessions(ctx, "alice", memNow); len(sessions) != 1 || !sessions[0].RevokedAt.IsZero() {
		t.Errorf("Sessions after changing a returned slice = %+v; want one live session", sessions)
	}
}

// Calls that break CreateSession's or Rotate's preconditions are errors and
// change nothing; so is a Purge limit below 1. (The conformance suite
// checks most of these too; the zero hash is the memory store's own.)
func TestStoreMisuse(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newStore(t)
	var q seq
	end := memNow.Add(time.Hour)
	sess, rec := q.session("alice", memNow, end)
	create(t, s, sess, rec)
	route := authstore.RouteFor("alice")

	other, otherRec := q.session("alice", memNow, end)
	sameID, sameIDRec := q.session("alice", memNow, end)
	sameID.ID, sameIDRec.SessionID = sess.ID, sess.ID
	sameHash, sameHashRec := q.session("alice", memNow, end)
	sameHashRec.Hash = rec.Hash
	zeroHash, zeroHashRec := q.session("alice", memNow, end)
	zeroHashRec.Hash = authstore.TokenHash{}
	wrongUser := otherRec
	wrongUser.UserID = "bob"
	for _, tt := range []struct {
		name string
		sess authstore.Session
		rec  authstore.RefreshRecord
	}{
		{"token of another session", other, rec},
		{"token of another user", other, wrongUser},
		{"existing session id", sameID, sameIDRec},
		{"existing token hash", sameHash, sameHashRec},
		{"zero token hash", zeroHash, zeroHashRec},
	} {
		if err := s.CreateSession(ctx, tt.sess, tt.rec); err == nil {
			t.Errorf("CreateSession(%s) = nil; want an error", tt.name)
		}
	}

	next := q.token(sess.ID, "alice", memNow.Add(time.Minute), end)
	foreign := next
	foreign.SessionID = "sess-elsewhere"
	existing := next
	existing.Hash = rec.Hash
	zeroNext := next
	zeroNext.Hash = authstore.TokenHash{}
	for _, tt := range []struct {
		name string
		next authstore.RefreshRecord
	}{
		{"next of another session", foreign},
		{"next with an existing hash", existing},
		{"next with the zero hash", zeroNext},
	} {
		if ok, err := s.Rotate(ctx, route, rec.Hash, authstore.TokenHash{}, tt.next); ok || err == nil {
			t.Errorf("Rotate(%s) = %v, %v; want false, an error", tt.name, ok, err)
		}
	}
	for _, limit := range []int{0, -1} {
		if n, err := s.Purge(ctx, end, limit); n != 0 || err == nil {
			t.Errorf("Purge(limit %d) = %d, %v; want 0, an error", limit, n, err)
		}
	}

	got, _, _, _ := s.Lookup(ctx, route, rec.Hash)
	if got != rec {
		t.Errorf("Lookup after refused calls = %+v; want %+v", got, rec)
	}
	if len(s.sessions) != 1 || len(s.tokens) != 1 {
		t.Errorf("stored sessions, tokens = %d, %d; want 1, 1", len(s.sessions), len(s.tokens))
	}
	checkInvariants(t, s)
}

// A long random mix of operations keeps every index consistent, every user
// within the cap and every session with at most one unused token; a Purge
// that returns less than its limit leaves nothing to purge.
func TestStoreRandomOperations(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	const maxPerUser = 10
	s := newStore(t, WithMaxSessionsPerUser(maxPerUser))
	r := rand.New(rand.NewPCG(1, 2))
	var q seq
	// Three users, each signing in every ten steps or so for up to four
	// hours: the cap is reached now and then.
	users := []string{"alice", "bob", "carol"}
	var hashes []authstore.TokenHash // every hash ever stored, some since deleted
	now := memNow
	for step := range 5000 {
		now = now.Add(time.Duration(r.IntN(120)) * time.Second)
		user := users[r.IntN(len(users))]
		switch op := r.IntN(10); {
		case op < 3:
			sess, rec := q.session(user, now, now.Add(time.Duration(5+r.IntN(240))*time.Minute))
			rec.ExpiresAt = now.Add(time.Duration(2+r.IntN(30)) * time.Minute)
			create(t, s, sess, rec)
			hashes = append(hashes, rec.Hash)
		case op < 7 && len(hashes) > 0:
			h := hashes[r.IntN(len(hashes))]
			tok := s.tokens[h]
			if tok == nil {
				break
			}
			old := tok.rec
			next := q.token(old.SessionID, old.UserID, now, now.Add(time.Duration(2+r.IntN(30))*time.Minute))
			if _, err := s.Rotate(ctx, authstore.RouteFor(old.UserID), h, old.Successor, next); err != nil {
				t.Fatalf("step %d: Rotate = %v", step, err)
			}
			hashes = append(hashes, next.Hash)
		case op < 8:
			for id := range s.userSessions[user] {
				if _, err := s.RevokeSession(ctx, user, id, now); err != nil {
					t.Fatalf("step %d: RevokeSession = %v", step, err)
				}
				break
			}
		case op < 9 && r.IntN(4) == 0:
			if _, err := s.RevokeUser(ctx, user, now); err != nil {
				t.Fatalf("step %d: RevokeUser = %v", step, err)
			}
		default:
			limit := 1 + r.IntN(5)
			n, err := s.Purge(ctx, now, limit)
			if err != nil {
				t.Fatalf("step %d: Purge = %v", step, err)
			}
			if n < limit {
				checkPurged(t, s, now)
			}
		}
		checkInvariants(t, s)
		if t.Failed() {
			t.Fatalf("step %d: inconsistent store", step)
		}
	}
}

// checkPurged checks that nothing purgeable at now is stored.
func checkPurged(t *testing.T, s *Store, now time.Time) {
	t.Helper()
	for id, ms := range s.sessions {
		if !ms.sess.Live(now) {
			t.Errorf("session %s (revoked %v, expires %v) still stored after a short Purge at %v", id, ms.sess.RevokedAt, ms.sess.ExpiresAt, now)
		}
	}
	for _, tok := range s.tokens {
		if !now.Before(tok.rec.ExpiresAt) {
			t.Errorf("token expiring %v still stored after a short Purge at %v", tok.rec.ExpiresAt, now)
		}
	}
}

// checkInvariants checks that the indexes of s agree with each other.
func checkInvariants(t *testing.T, s *Store) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for h, tok := range s.tokens {
		if tok.rec.Hash != h {
			t.Errorf("token stored under %x has hash %x", h[:4], tok.rec.Hash[:4])
		}
		if s.sessions[tok.rec.SessionID] == nil {
			t.Errorf("token %x of missing session %s", h[:4], tok.rec.SessionID)
		}
		if _, ok := s.sessionTokens[tok.rec.SessionID][h]; !ok {
			t.Errorf("token %x missing from sessionTokens[%s]", h[:4], tok.rec.SessionID)
		}
		if i := tok.expiry.index; i < 0 || i >= len(s.tokenExpiry) || s.tokenExpiry[i] != tok.expiry {
			t.Errorf("token %x has a stale expiry entry", h[:4])
		}
	}
	for id, hashes := range s.sessionTokens {
		if len(hashes) == 0 {
			t.Errorf("sessionTokens[%s] is empty; want no entry", id)
		}
		unused := 0
		for h := range hashes {
			tok := s.tokens[h]
			if tok == nil || tok.rec.SessionID != id {
				t.Errorf("sessionTokens[%s] holds %x, not a stored token of the session", id, h[:4])
				continue
			}
			if !tok.rec.Used() {
				unused++
			}
		}
		if unused > 1 {
			t.Errorf("session %s has %d unused tokens; want at most 1", id, unused)
		}
	}
	perUser := map[string]int{}
	for id, ms := range s.sessions {
		if ms.sess.ID != id || ms.route != authstore.RouteFor(ms.sess.UserID) {
			t.Errorf("session stored under %s: ID %s, route %q", id, ms.sess.ID, ms.route)
		}
		if _, ok := s.userSessions[ms.sess.UserID][id]; !ok {
			t.Errorf("session %s missing from userSessions[%s]", id, ms.sess.UserID)
		}
		if _, ok := s.revoked[id]; ok == ms.sess.RevokedAt.IsZero() {
			t.Errorf("session %s: in revoked set = %v, RevokedAt = %v", id, ok, ms.sess.RevokedAt)
		}
		if i := ms.expiry.index; i < 0 || i >= len(s.sessionExpiry) || s.sessionExpiry[i] != ms.expiry {
			t.Errorf("session %s has a stale expiry entry", id)
		}
		perUser[ms.sess.UserID]++
	}
	for user, n := range perUser {
		if n > s.maxPerUser {
			t.Errorf("user %s has %d sessions; want at most %d", user, n, s.maxPerUser)
		}
	}
	for user, ids := range s.userSessions {
		if len(ids) == 0 || len(ids) != perUser[user] {
			t.Errorf("userSessions[%s] has %d ids; want %d, not 0", user, len(ids), perUser[user])
		}
	}
	for id := range s.revoked {
		if s.sessions[id] == nil {
			t.Errorf("revoked set holds missing session %s", id)
		}
	}
	if len(s.sessionExpiry) != len(s.sessions) || len(s.tokenExpiry) != len(s.tokens) {
		t.Errorf("heap sizes %d, %d; want %d, %d", len(s.sessionExpiry), len(s.tokenExpiry), len(s.sessions), len(s.tokens))
	}
	checkHeap(t, "sessionExpiry", s.sessionExpiry)
	checkHeap(t, "tokenExpiry", s.tokenExpiry)
}

func checkHeap[K comparable](t *testing.T, name string, h expiryHeap[K]) {
	t.Helper()
	for i, it := range h {
		if it.index != i {
			t.Errorf("%s[%d].index = %d", name, i, it.index)
		}
		if p := (i - 1) / 2; i > 0 && it.at.Before(h[p].at) {
			t.Errorf("%s: item %d expires before its parent %d", name, i, p)
		}
	}
}
