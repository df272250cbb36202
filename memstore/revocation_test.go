package memstore

import (
	"testing"
	"time"

	"github.com/jwtkit/auth/authstore"
)

// The conformance suite runs on Store in package authtest; these tests
// cover how the memory store drops revocation entries that can no longer
// matter.

// revCounts returns how many denied tokens and cutoffs s holds.
func revCounts(s *Store) (denied, cutoffs int) {
	s.rev.mu.RLock()
	defer s.rev.mu.RUnlock()
	return len(s.rev.denied), len(s.rev.cutoffs)
}

// wantRevoked checks that Revoked(userID, tokenID, issuedAt) is want.
func wantRevoked(t *testing.T, s *Store, userID, tokenID string, issuedAt time.Time, want bool) {
	t.Helper()
	got, err := s.Revoked(t.Context(), userID, "", tokenID, issuedAt)
	if err != nil || got != want {
		t.Errorf("Revoked(%s, %s, %v) = %v, %v; want %v, nil", userID, tokenID, issuedAt, got, err, want)
	}
}

// Writes drop stale entries by the clock of WithClock, at most once per
// sweepEvery, and keep the entries that still matter.
func TestStoreSweepsRevocations(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	clock := newFakeClock()
	s := newStore(t, WithClock(clock.Now))
	t0 := clock.Now()
	if err := s.Deny(ctx, "alice", "j1", t0.Add(15*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.CutOff(ctx, "alice", t0); err != nil {
		t.Fatal(err)
	}

	// A day later both entries are stale; the next write drops them.
	clock.Advance(authstore.MaxAccessTTL + authstore.MaxLeeway + 2*time.Minute)
	if err := s.Deny(ctx, "carol", "j9", clock.Now().Add(15*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if d, c := revCounts(s); d != 1 || c != 0 {
		t.Errorf("after a day: %d denied, %d cutoffs kept; want 1, 0", d, c)
	}
	wantRevoked(t, s, "carol", "j9", clock.Now(), true)

	// A stale entry written now waits for the next sweep, a minute on.
	if err := s.Deny(ctx, "dave", "j0", clock.Now().Add(-authstore.MaxLeeway-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.CutOff(ctx, "erin", clock.Now()); err != nil {
		t.Fatal(err)
	}
	if d, c := revCounts(s); d != 2 || c != 1 {
		t.Errorf("within a minute of a sweep: %d denied, %d cutoffs kept; want 2, 1", d, c)
	}
	clock.Advance(sweepEvery)
	if err := s.CutOff(ctx, "erin", clock.Now()); err != nil {
		t.Fatal(err)
	}
	if d, c := revCounts(s); d != 1 || c != 1 {
		t.Errorf("a minute after a sweep: %d denied, %d cutoffs kept; want 1, 1", d, c)
	}
	wantRevoked(t, s, "carol", "j9", clock.Now(), true)
	wantRevoked(t, s, "erin", "j", clock.Now().Add(-time.Microsecond), true)
}

// Purge goes by its now argument, not by the clock, and deletes refresh
// items before revocation entries.
func TestStorePurgeRevocations(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newStore(t, WithClock(func() time.Time { return memNow }))
	var q seq
	sess, rec := q.session("alice", memNow, memNow.Add(time.Hour))
	create(t, s, sess, rec)
	for _, jti := range []string{"j1", "j2"} {
		if err := s.Deny(ctx, "bob", jti, memNow.Add(15*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CutOff(ctx, "bob", memNow); err != nil {
		t.Fatal(err)
	}
	later := memNow.Add(authstore.MaxAccessTTL + authstore.MaxLeeway + time.Minute)

	if n, err := s.Purge(ctx, later, 1); n != 1 || err != nil {
		t.Fatalf("Purge(later, 1) = %d, %v; want 1, nil", n, err)
	}
	if found(t, s, rec) {
		t.Errorf("Lookup(expired token) after Purge(later, 1) found = true; want false (refresh items go first)")
	}
	if d, c := revCounts(s); d != 2 || c != 1 {
		t.Errorf("after Purge(later, 1): %d denied, %d cutoffs; want 2, 1", d, c)
	}
	if n, err := s.Purge(ctx, later, 2); n != 2 || err != nil {
		t.Errorf("Purge(later, 2) = %d, %v; want 2, nil", n, err)
	}
	if n, err := s.Purge(ctx, later, 2); n != 1 || err != nil {
		t.Errorf("Purge(later, 2) again = %d, %v; want 1, nil", n, err)
	}
	if d, c := revCounts(s); d != 0 || c != 0 {
		t.Errorf("after the purges: %d denied, %d cutoffs; want 0, 0", d, c)
	}
}
