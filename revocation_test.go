package auth

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestMemoryRevocationStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := &fakeClock{now: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)}
	m := NewMemoryRevocationStore(clock.Now)
	t0 := clock.Now()
	tok := func(sub, jti string, iat time.Time) *Claims {
		return &Claims{Subject: sub, ID: jti, IssuedAt: iat, ExpiresAt: iat.Add(15 * time.Minute)}
	}
	check := func(c *Claims, want bool) {
		t.Helper()
		got, err := m.Revoked(ctx, c)
		if err != nil || got != want {
			t.Errorf("Revoked(%s/%s @%v) = %v, %v; want %v", c.Subject, c.ID, c.IssuedAt.Sub(t0), got, err, want)
		}
	}
	a1 := tok("alice", "j1", t0)
	check(a1, false)
	if err := m.DenyToken(ctx, "alice", "j1", a1.ExpiresAt); err != nil {
		t.Fatal(err)
	}
	check(a1, true)
	check(tok("bob", "j1", t0), false) // same jti, another user
	check(tok("alice", "j2", t0), false)

	cut := t0.Add(500 * time.Microsecond)
	if err := m.CutOff(ctx, "alice", cut); err != nil {
		t.Fatal(err)
	}
	check(tok("alice", "j3", cut.Add(-time.Microsecond)), true)
	check(tok("alice", "j4", cut), false)
	check(tok("bob", "j5", t0), false)
	// A cutoff never moves back.
	if err := m.CutOff(ctx, "alice", t0); err != nil {
		t.Fatal(err)
	}
	check(tok("alice", "j3", cut.Add(-time.Microsecond)), true)

	// Stale entries go once they cannot matter.
	clock.Advance(MaxAccessTTL + MaxLeeway + 2*time.Minute)
	if err := m.DenyToken(ctx, "carol", "j9", clock.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	m.mu.RLock()
	nd, nc := len(m.denied), len(m.cutoffs)
	m.mu.RUnlock()
	if nd != 1 || nc != 0 {
		t.Errorf("after a day: %d denied, %d cutoffs kept; want 1, 0", nd, nc)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.Revoked(cancelled, a1); !errors.Is(err, context.Canceled) {
		t.Errorf("Revoked(cancelled) = %v; want context.Canceled", err)
	}
}

func TestRevocationNeedsStore(t *testing.T) {
	t.Parallel()
	now := mwNow
	a := newMWAuth(t, &now, WithRevocation(RevocationFunc(func(context.Context, *Claims) (bool, error) { return false, nil })))
	at, _ := a.Issue(context.Background(), Claims{Subject: "u"})
	if err := a.RevokeAccessToken(context.Background(), at.Claims); !errors.Is(err, ErrConfig) {
		t.Errorf("RevokeAccessToken with a read-only checker = %v; want ErrConfig", err)
	}
}
