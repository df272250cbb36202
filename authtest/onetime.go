package authtest

import (
	"context"
	"crypto/rand"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/jwtkit/auth/authstore"
)

// Purposes the one-time suite stores tokens for.
const (
	purposeReset  = "password_reset"
	purposeVerify = "email_verify"
)

// TestOneTimeStore checks that the stores newStore returns follow the
// [authstore.OneTimeStore] contract. It runs one subtest per clause, each
// on a fresh, empty store from newStore, one after another: a saved token
// is consumed once and then gone; of 50 concurrent consumers exactly one
// wins; a token of another purpose, another partition, or past its
// ExpiresAt is not consumed, and the first two stay usable; RevokeOneTime
// deletes one user's tokens of one purpose only; a duplicate hash and an
// empty purpose or user are refused; a cancelled context fails.
//
// The suite builds every time around the current time, and its tokens
// live for minutes, so a store whose database expires keys by itself keeps
// them for the whole test.
func TestOneTimeStore(t *testing.T, newStore func(t *testing.T) authstore.OneTimeStore) {
	for _, tt := range []struct {
		name string
		run  func(*testing.T, authstore.OneTimeStore)
	}{
		{"ConsumeOnce", testConsumeOnce},
		{"ConsumeConcurrent", testConsumeConcurrent},
		{"OtherPurpose", testConsumeOtherPurpose},
		{"OtherRoute", testConsumeOtherRoute},
		{"Expired", testConsumeExpired},
		{"Unknown", testConsumeUnknown},
		{"Revoke", testRevokeOneTime},
		{"DuplicateHash", testSaveDuplicateHash},
		{"Incomplete", testSaveIncomplete},
		{"CancelledContext", testOneTimeCancelledContext},
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

// oneTimeHarness saves and consumes tokens around one instant.
type oneTimeHarness struct {
	t   *testing.T
	s   authstore.OneTimeStore
	now time.Time
}

func newOneTimeHarness(t *testing.T, s authstore.OneTimeStore) *oneTimeHarness {
	return &oneTimeHarness{t: t, s: s, now: time.Now().UTC().Truncate(time.Microsecond)}
}

// save stores a token of userID for purpose that expires ttl after now.
func (h *oneTimeHarness) save(userID, purpose string, ttl time.Duration) authstore.OneTimeToken {
	h.t.Helper()
	var b [32]byte
	_, _ = rand.Read(b[:])
	tok := authstore.OneTimeToken{Hash: b, UserID: userID, Purpose: purpose, ExpiresAt: h.now.Add(ttl)}
	if err := h.s.SaveOneTime(context.Background(), tok); err != nil {
		h.t.Fatalf("SaveOneTime = %v", err)
	}
	return tok
}

// consume consumes tok for purpose at now+at and reports whether it was
// found; a found record must equal tok.
func (h *oneTimeHarness) consume(tok authstore.OneTimeToken, purpose string, at time.Duration) bool {
	h.t.Helper()
	got, found, err := h.s.ConsumeOneTime(context.Background(), authstore.RouteFor(tok.UserID), tok.Hash, purpose, h.now.Add(at))
	if err != nil {
		h.t.Fatalf("ConsumeOneTime = %v", err)
	}
	if found && (got.Hash != tok.Hash || got.UserID != tok.UserID || got.Purpose != tok.Purpose || !got.ExpiresAt.Equal(tok.ExpiresAt)) {
		h.t.Errorf("ConsumeOneTime = %+v; want %+v", got, tok)
	}
	return found
}

// ConsumeOnce: a saved token is consumed once, with its record as saved,
// and is unknown from then on.
func testConsumeOnce(t *testing.T, s authstore.OneTimeStore) {
	h := newOneTimeHarness(t, s)
	tok := h.save(uuid.NewString(), purposeReset, 30*time.Minute)
	if !h.consume(tok, purposeReset, time.Minute) {
		t.Fatal("first ConsumeOneTime: not found; want found")
	}
	if h.consume(tok, purposeReset, time.Minute) {
		t.Error("second ConsumeOneTime: found; want not found (single use)")
	}
}

// ConsumeConcurrent: of 50 concurrent consumers of one token, exactly one
// wins.
func testConsumeConcurrent(t *testing.T, s authstore.OneTimeStore) {
	h := newOneTimeHarness(t, s)
	tok := h.save(uuid.NewString(), purposeReset, 30*time.Minute)
	const n = 50
	var wins, fails atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, found, err := s.ConsumeOneTime(context.Background(), authstore.RouteFor(tok.UserID), tok.Hash, purposeReset, h.now)
			switch {
			case err != nil:
				fails.Add(1)
			case found:
				wins.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	if wins.Load() != 1 || fails.Load() != 0 {
		t.Errorf("%d concurrent ConsumeOneTime: %d found, %d errors; want exactly 1 found, no error", n, wins.Load(), fails.Load())
	}
}

// OtherPurpose: a token is not consumed for another purpose, and stays
// usable for its own.
func testConsumeOtherPurpose(t *testing.T, s authstore.OneTimeStore) {
	h := newOneTimeHarness(t, s)
	tok := h.save(uuid.NewString(), purposeVerify, 30*time.Minute)
	if h.consume(tok, purposeReset, 0) {
		t.Error("ConsumeOneTime(another purpose): found; want not found")
	}
	if !h.consume(tok, purposeVerify, 0) {
		t.Error("ConsumeOneTime(own purpose) after another purpose's attempt: not found; want found")
	}
}

// OtherRoute: a token is found under its own routing key only, and stays
// usable there.
func testConsumeOtherRoute(t *testing.T, s authstore.OneTimeStore) {
	h := newOneTimeHarness(t, s)
	tok := h.save(uuid.NewString(), purposeReset, 30*time.Minute)
	_, found, err := s.ConsumeOneTime(context.Background(), authstore.RouteFor(uuid.NewString()), tok.Hash, purposeReset, h.now)
	if err != nil || found {
		t.Errorf("ConsumeOneTime(another route) = %v, %v; want not found, nil", found, err)
	}
	if !h.consume(tok, purposeReset, 0) {
		t.Error("ConsumeOneTime(own route): not found; want found")
	}
}

// Expired: a token is not consumed at or after its ExpiresAt, and is
// consumed just before it.
func testConsumeExpired(t *testing.T, s authstore.OneTimeStore) {
	h := newOneTimeHarness(t, s)
	user := uuid.NewString()
	tok := h.save(user, purposeReset, 10*time.Minute)
	if h.consume(tok, purposeReset, 10*time.Minute) {
		t.Error("ConsumeOneTime at ExpiresAt: found; want not found")
	}
	if h.consume(tok, purposeReset, 11*time.Minute) {
		t.Error("ConsumeOneTime after ExpiresAt: found; want not found")
	}
	early := h.save(user, purposeReset, 10*time.Minute)
	if !h.consume(early, purposeReset, 10*time.Minute-time.Microsecond) {
		t.Error("ConsumeOneTime a microsecond before ExpiresAt: not found; want found")
	}
}

// Unknown: a hash never saved is not found, without error.
func testConsumeUnknown(t *testing.T, s authstore.OneTimeStore) {
	h := newOneTimeHarness(t, s)
	user := uuid.NewString()
	h.save(user, purposeReset, 30*time.Minute)
	var other authstore.TokenHash
	_, _ = rand.Read(other[:])
	_, found, err := s.ConsumeOneTime(context.Background(), authstore.RouteFor(user), other, purposeReset, h.now)
	if err != nil || found {
		t.Errorf("ConsumeOneTime(unknown) = %v, %v; want not found, nil", found, err)
	}
}

// Revoke: RevokeOneTime deletes one user's tokens of one purpose, counts
// them, and leaves the rest usable.
func testRevokeOneTime(t *testing.T, s authstore.OneTimeStore) {
	h := newOneTimeHarness(t, s)
	alice, bob := uuid.NewString(), uuid.NewString()
	r1, r2 := h.save(alice, purposeReset, 30*time.Minute), h.save(alice, purposeReset, 30*time.Minute)
	verify := h.save(alice, purposeVerify, 30*time.Minute)
	bobs := h.save(bob, purposeReset, 30*time.Minute)
	n, err := s.RevokeOneTime(context.Background(), alice, purposeReset)
	if err != nil || n != 2 {
		t.Errorf("RevokeOneTime = %d, %v; want 2, nil", n, err)
	}
	if h.consume(r1, purposeReset, 0) || h.consume(r2, purposeReset, 0) {
		t.Error("revoked token consumed; want not found")
	}
	if !h.consume(verify, purposeVerify, 0) {
		t.Error("token of another purpose: not found after RevokeOneTime; want found")
	}
	if !h.consume(bobs, purposeReset, 0) {
		t.Error("another user's token: not found after RevokeOneTime; want found")
	}
	if n, err := s.RevokeOneTime(context.Background(), alice, purposeReset); err != nil || n != 0 {
		t.Errorf("RevokeOneTime again = %d, %v; want 0, nil", n, err)
	}
}

// DuplicateHash: saving a hash the user's partition holds is refused and
// leaves the first record as it was.
func testSaveDuplicateHash(t *testing.T, s authstore.OneTimeStore) {
	h := newOneTimeHarness(t, s)
	tok := h.save(uuid.NewString(), purposeReset, 30*time.Minute)
	dup := tok
	dup.Purpose, dup.ExpiresAt = purposeVerify, h.now.Add(time.Hour)
	if err := s.SaveOneTime(context.Background(), dup); err == nil {
		t.Error("SaveOneTime(duplicate hash) = nil; want an error")
	}
	if h.consume(tok, purposeVerify, 0) {
		t.Error("duplicate's purpose consumed; want the first record unchanged")
	}
	if !h.consume(tok, purposeReset, 0) {
		t.Error("first record: not found after a refused duplicate; want found")
	}
}

// Incomplete: a record without a purpose or a user is refused.
func testSaveIncomplete(t *testing.T, s authstore.OneTimeStore) {
	h := newOneTimeHarness(t, s)
	for _, tok := range []authstore.OneTimeToken{
		{Hash: authstore.HashToken("a"), UserID: uuid.NewString(), ExpiresAt: h.now.Add(time.Hour)},
		{Hash: authstore.HashToken("b"), Purpose: purposeReset, ExpiresAt: h.now.Add(time.Hour)},
	} {
		if err := s.SaveOneTime(context.Background(), tok); err == nil {
			t.Errorf("SaveOneTime(%+v) = nil; want an error", tok)
		}
	}
}

// CancelledContext: every method fails on a cancelled context.
func testOneTimeCancelledContext(t *testing.T, s authstore.OneTimeStore) {
	h := newOneTimeHarness(t, s)
	tok := h.save(uuid.NewString(), purposeReset, 30*time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	next := tok
	next.Hash = authstore.HashToken(uuid.NewString())
	if err := s.SaveOneTime(ctx, next); err == nil {
		t.Error("SaveOneTime(cancelled) = nil; want an error")
	}
	if _, _, err := s.ConsumeOneTime(ctx, authstore.RouteFor(tok.UserID), tok.Hash, purposeReset, h.now); err == nil {
		t.Error("ConsumeOneTime(cancelled) = nil error; want an error")
	}
	if _, err := s.RevokeOneTime(ctx, tok.UserID, purposeReset); err == nil {
		t.Error("RevokeOneTime(cancelled) = nil error; want an error")
	}
	if !h.consume(tok, purposeReset, 0) {
		t.Error("token: not found after cancelled calls; want found")
	}
}
