package authtest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/jwtkit/auth/authstore"
)

// TestRevocationStore checks that the stores newStore returns follow the
// [authstore.RevocationStore] contract. It runs one subtest per clause,
// each on a fresh, empty store from newStore, one after another: a denied
// token id is revoked for its user only; a cutoff revokes the tokens issued
// before it, to the microsecond, and never moves back; Purge keeps every
// entry that still matters, honours its limit and stops once nothing
// purgeable is left; a cancelled context fails; concurrent writers and
// readers are safe.
//
// The suite builds every time around the current time, so a store whose
// database expires entries by itself (at until plus [authstore.MaxLeeway],
// or at a cutoff plus [authstore.MaxAccessTTL] plus [authstore.MaxLeeway])
// sees the entries live for minutes at least; such a store may delete
// nothing in Purge.
func TestRevocationStore(t *testing.T, newStore func(t *testing.T) authstore.RevocationStore) {
	for _, tt := range []struct {
		name string
		run  func(*testing.T, authstore.RevocationStore)
	}{
		{"DenyToken", testDenyToken},
		{"DenySession", testDenySession},
		{"CutOff", testCutOff},
		{"CutOffNeverMovesBack", testCutOffNeverMovesBack},
		{"PurgeKeepsLive", testRevocationPurgeKeepsLive},
		{"PurgeLimit", testRevocationPurgeLimit},
		{"CancelledContext", testRevocationCancelledContext},
		{"Concurrent", testRevocationConcurrent},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			if s == nil {
				t.Fatal("newStore returned nil")
			}
			tt.run(t, s)
		})
	}
}

// DenyToken: Deny of a token id revokes that token of that user only;
// denying it twice is no error.
func testDenyToken(t *testing.T, s authstore.RevocationStore) {
	r := newRevHarness(t, s)
	alice, bob := uuid.NewString(), uuid.NewString()
	jti := uuid.NewString()
	r.want(alice, jti, r.now, false)
	r.deny(alice, jti, r.now.Add(15*time.Minute))
	r.want(alice, jti, r.now, true)
	r.want(alice, uuid.NewString(), r.now, false) // another token of the user
	r.want(bob, jti, r.now, false)                // the same id, another user
	r.deny(alice, jti, r.now.Add(15*time.Minute))
	r.want(alice, jti, r.now, true)
}

// DenySession: Deny of a session id revokes every token of that session of
// that user, whatever its own id, and no token of another session, of no
// session, or of another user.
func testDenySession(t *testing.T, s authstore.RevocationStore) {
	r := newRevHarness(t, s)
	alice, bob := uuid.NewString(), uuid.NewString()
	sid, other := uuid.NewString(), uuid.NewString()
	r.wantSession(alice, sid, uuid.NewString(), r.now, false)
	r.deny(alice, sid, r.now.Add(15*time.Minute))
	for range 3 {
		r.wantSession(alice, sid, uuid.NewString(), r.now, true) // any token of the session
	}
	r.wantSession(alice, other, uuid.NewString(), r.now, false) // another session
	r.want(alice, uuid.NewString(), r.now, false)               // a token of no session
	r.wantSession(bob, sid, uuid.NewString(), r.now, false)     // the same id, another user
	// A denied token id is refused in any session; a live session does not
	// save it.
	jti := uuid.NewString()
	r.deny(alice, jti, r.now.Add(15*time.Minute))
	r.wantSession(alice, other, jti, r.now, true)
}

// CutOff revokes the tokens of the user issued before it, to the
// microsecond, and no token of another user.
func testCutOff(t *testing.T, s authstore.RevocationStore) {
	r := newRevHarness(t, s)
	alice, bob := uuid.NewString(), uuid.NewString()
	cut := r.now.Add(-time.Second + 300*time.Microsecond)
	r.cutOff(alice, cut)
	for _, tt := range []struct {
		user string
		iat  time.Time
		want bool
	}{
		{alice, cut.Add(-time.Microsecond), true},
		{alice, cut.Add(-time.Hour), true},
		{alice, cut, false},
		{alice, cut.Add(time.Microsecond), false},
		{bob, cut.Add(-time.Hour), false},
	} {
		r.want(tt.user, uuid.NewString(), tt.iat, tt.want)
	}
}

// A cutoff never moves back: an earlier one changes nothing, a later one
// moves it on.
func testCutOffNeverMovesBack(t *testing.T, s authstore.RevocationStore) {
	r := newRevHarness(t, s)
	alice := uuid.NewString()
	later := r.now.Add(-time.Minute)
	r.cutOff(alice, later)
	r.cutOff(alice, later.Add(-10*time.Minute))
	r.want(alice, uuid.NewString(), later.Add(-time.Second), true)
	r.cutOff(alice, later.Add(30*time.Second))
	r.want(alice, uuid.NewString(), later.Add(10*time.Second), true)
}

// revEntries are the revocation entries of one Purge subtest: live ones,
// which still matter at the harness's now, and stale ones, past the bounds
// of [authstore.MaxAccessTTL] and [authstore.MaxLeeway].
type revEntries struct {
	deniedUser, deniedLive, deniedInLeeway string // a user and two of its denied token ids
	cutUser                                string // a user with a live cutoff at cut
	cut                                    time.Time
	stale                                  int // the number of stale entries
}

// addEntries stores two live denied tokens, a live cutoff, and stale
// denied tokens and cutoffs (stale of them in all, stale >= 2), each of a
// user of its own but for the live denied tokens.
func (r *revHarness) addEntries(stale int) revEntries {
	r.t.Helper()
	e := revEntries{
		deniedUser:     uuid.NewString(),
		deniedLive:     uuid.NewString(),
		deniedInLeeway: uuid.NewString(),
		cutUser:        uuid.NewString(),
		// A cutoff of a day ago may still refuse a token that a verifier
		// accepts within its leeway.
		cut:   r.now.Add(-authstore.MaxAccessTTL),
		stale: stale,
	}
	r.deny(e.deniedUser, e.deniedLive, r.now.Add(15*time.Minute))
	// Expired a minute ago: a verifier may still accept it within its leeway.
	r.deny(e.deniedUser, e.deniedInLeeway, r.now.Add(-time.Minute))
	r.cutOff(e.cutUser, e.cut)
	for i := range stale {
		if i%2 == 0 {
			r.deny(uuid.NewString(), uuid.NewString(), r.now.Add(-authstore.MaxLeeway-time.Minute))
		} else {
			r.cutOff(uuid.NewString(), r.now.Add(-authstore.MaxAccessTTL-authstore.MaxLeeway-time.Minute))
		}
	}
	return e
}

// wantLive checks that the live entries of e still revoke what they
// revoked when stored.
func (r *revHarness) wantLive(e revEntries) {
	r.t.Helper()
	r.want(e.deniedUser, e.deniedLive, r.now.Add(-time.Minute), true)
	r.want(e.deniedUser, e.deniedInLeeway, r.now.Add(-16*time.Minute), true)
	r.want(e.cutUser, uuid.NewString(), e.cut.Add(-time.Microsecond), true)
	r.want(e.cutUser, uuid.NewString(), e.cut, false)
}

// Purge deletes only entries that can no longer matter: a denied token
// whose exp plus MaxLeeway is still ahead, and a cutoff younger than
// MaxAccessTTL plus MaxLeeway, revoke as before. It deletes at most the
// stale entries, and once a call has returned less than its limit the next
// finds nothing. (A store whose database expires entries by itself may
// delete nothing.)
func testRevocationPurgeKeepsLive(t *testing.T, s authstore.RevocationStore) {
	r := newRevHarness(t, s)
	e := r.addEntries(2)
	if n := r.purge(r.now, 100); n < 0 || n > e.stale {
		t.Errorf("Purge(%s, 100) = %d; want 0 to %d (the stale entries at most)", fmtTime(r.now), n, e.stale)
	}
	if n := r.purge(r.now, 100); n != 0 {
		t.Errorf("second Purge(%s, 100) = %d; want 0: the first returned less than its limit", fmtTime(r.now), n)
	}
	r.wantLive(e)
}

// Purge deletes at most limit entries per call, and returns less than
// limit only when nothing purgeable is left, so that a caller's loop ends;
// entries that still matter survive every call.
func testRevocationPurgeLimit(t *testing.T, s authstore.RevocationStore) {
	r := newRevHarness(t, s)
	for _, limit := range []int{1, 2, 3} {
		e := r.addEntries(5)
		total, calls := 0, 0
		for {
			n := r.purge(r.now, limit)
			calls++
			if n < 0 || n > limit {
				t.Fatalf("Purge(%s, %d) = %d; want 0 to %d", fmtTime(r.now), limit, n, limit)
			}
			total += n
			if n < limit {
				break
			}
			if calls > e.stale {
				t.Fatalf("Purge(%s, %d) returned %d %d times with %d stale entries; want less than %d once nothing is left",
					fmtTime(r.now), limit, limit, calls, e.stale, limit)
			}
		}
		if total > e.stale {
			t.Errorf("limit %d: Purge deleted %d entries in all; want at most the %d stale ones", limit, total, e.stale)
		}
		if n := r.purge(r.now, limit); n != 0 {
			t.Errorf("Purge(%s, %d) after the loop = %d; want 0", fmtTime(r.now), limit, n)
		}
		r.wantLive(e)
	}
}

// Every method called with a cancelled context returns an error matching
// context.Canceled and changes nothing.
func testRevocationCancelledContext(t *testing.T, s authstore.RevocationStore) {
	r := newRevHarness(t, s)
	user, other := uuid.NewString(), uuid.NewString()
	r.deny(other, "j", r.now.Add(15*time.Minute))
	ctx, cancel := context.WithCancel(r.ctx)
	cancel()
	check := func(call string, err error) {
		t.Helper()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: error = %v; want context.Canceled", call, err)
		}
	}
	_, err := s.Revoked(ctx, user, "s", "j", r.now)
	check("Revoked", err)
	check("Deny", s.Deny(ctx, user, "j", r.now.Add(time.Minute)))
	check("CutOff", s.CutOff(ctx, user, r.now))
	_, err = s.Purge(ctx, r.now.Add(48*time.Hour), 100)
	check("Purge", err)
	r.want(user, "j", r.now.Add(-time.Hour), false)
	r.want(other, "j", r.now.Add(-time.Hour), true)
}

// Concurrent writers and readers of many users are safe, and every write
// lands.
func testRevocationConcurrent(t *testing.T, s authstore.RevocationStore) {
	r := newRevHarness(t, s)
	ctx := r.ctx
	users := make([]string, 20)
	for i := range users {
		users[i] = uuid.NewString()
	}
	var wg sync.WaitGroup
	for _, u := range users {
		wg.Go(func() {
			for range 10 {
				if err := s.Deny(ctx, u, uuid.NewString(), r.now.Add(time.Minute)); err != nil {
					t.Errorf("Deny(%s) = %v; want nil", u, err)
					return
				}
			}
			if err := s.CutOff(ctx, u, r.now); err != nil {
				t.Errorf("CutOff(%s) = %v; want nil", u, err)
			}
		})
		wg.Go(func() {
			for range 10 {
				if _, err := s.Revoked(ctx, u, uuid.NewString(), uuid.NewString(), r.now); err != nil {
					t.Errorf("Revoked(%s) = %v; want nil", u, err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, u := range users {
		r.want(u, uuid.NewString(), r.now.Add(-time.Millisecond), true)
	}
}

// revHarness calls a revocation store on behalf of one subtest and checks
// the answers.
type revHarness struct {
	t   *testing.T
	s   authstore.RevocationStore
	ctx context.Context
	now time.Time // the subtest's start, in UTC, truncated to microseconds
}

func newRevHarness(t *testing.T, s authstore.RevocationStore) *revHarness {
	return &revHarness{t: t, s: s, ctx: t.Context(), now: time.Now().UTC().Truncate(time.Microsecond)}
}

// want checks that Revoked(userID, "", tokenID, issuedAt), for a token
// issued outside a session, is want.
func (r *revHarness) want(userID, tokenID string, issuedAt time.Time, want bool) {
	r.t.Helper()
	r.wantSession(userID, "", tokenID, issuedAt, want)
}

// wantSession checks that Revoked(userID, sessionID, tokenID, issuedAt) is
// want.
func (r *revHarness) wantSession(userID, sessionID, tokenID string, issuedAt time.Time, want bool) {
	r.t.Helper()
	got, err := r.s.Revoked(r.ctx, userID, sessionID, tokenID, issuedAt)
	if err != nil || got != want {
		r.t.Errorf("Revoked(%s, %q, %s, %s) = %v, %v; want %v, nil", userID, sessionID, tokenID, fmtTime(issuedAt), got, err, want)
	}
}

// deny calls Deny and fails the test on an error.
func (r *revHarness) deny(userID, id string, until time.Time) {
	r.t.Helper()
	if err := r.s.Deny(r.ctx, userID, id, until); err != nil {
		r.t.Fatalf("Deny(%s, %s, %s) = %v; want nil", userID, id, fmtTime(until), err)
	}
}

// cutOff calls CutOff and fails the test on an error.
func (r *revHarness) cutOff(userID string, at time.Time) {
	r.t.Helper()
	if err := r.s.CutOff(r.ctx, userID, at); err != nil {
		r.t.Fatalf("CutOff(%s, %s) = %v; want nil", userID, fmtTime(at), err)
	}
}

// purge calls Purge and returns its count, failing the test on an error.
func (r *revHarness) purge(now time.Time, limit int) int {
	r.t.Helper()
	n, err := r.s.Purge(r.ctx, now, limit)
	if err != nil {
		r.t.Fatalf("Purge(%s, %d) error = %v; want nil", fmtTime(now), limit, err)
	}
	return n
}
