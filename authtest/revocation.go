package authtest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jwtkit/auth"
)

// TestRevocationStore runs every clause of the [auth.RevocationStore]
// contract against stores returned by newStore, one subtest per clause, each
// on a fresh empty store: a denied jti is revoked for its user only; a
// cutoff revokes tokens issued before it, to the microsecond, and never
// moves back; users are isolated; a cancelled context fails; concurrent
// writers and readers are safe.
func TestRevocationStore(t *testing.T, newStore func(t *testing.T) auth.RevocationStore) {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	claims := func(user, jti string, iat time.Time) *auth.Claims {
		return &auth.Claims{Subject: user, ID: jti, IssuedAt: iat, ExpiresAt: iat.Add(15 * time.Minute)}
	}
	check := func(t *testing.T, s auth.RevocationStore, c *auth.Claims, want bool) {
		t.Helper()
		got, err := s.Revoked(context.Background(), c)
		if err != nil || got != want {
			t.Errorf("Revoked(%s, %s, iat %s) = %v, %v; want %v, nil", c.Subject, c.ID, c.IssuedAt.Format(time.RFC3339Nano), got, err, want)
		}
	}
	t.Run("DenyToken", func(t *testing.T) {
		s := newStore(t)
		alice, bob := uuid.NewString(), uuid.NewString()
		c := claims(alice, uuid.NewString(), now)
		check(t, s, c, false)
		if err := s.DenyToken(context.Background(), alice, c.ID, c.ExpiresAt); err != nil {
			t.Fatalf("DenyToken = %v", err)
		}
		check(t, s, c, true)
		check(t, s, claims(alice, uuid.NewString(), now), false)
		check(t, s, claims(bob, c.ID, now), false)
		if err := s.DenyToken(context.Background(), alice, c.ID, c.ExpiresAt); err != nil {
			t.Errorf("DenyToken twice = %v; want nil", err)
		}
		check(t, s, c, true)
	})
	t.Run("CutOff", func(t *testing.T) {
		s := newStore(t)
		alice, bob := uuid.NewString(), uuid.NewString()
		cut := now.Add(-time.Second + 300*time.Microsecond)
		if err := s.CutOff(context.Background(), alice, cut); err != nil {
			t.Fatalf("CutOff = %v", err)
		}
		check(t, s, claims(alice, uuid.NewString(), cut.Add(-time.Microsecond)), true)
		check(t, s, claims(alice, uuid.NewString(), cut.Add(-time.Hour)), true)
		check(t, s, claims(alice, uuid.NewString(), cut), false)
		check(t, s, claims(alice, uuid.NewString(), cut.Add(time.Microsecond)), false)
		check(t, s, claims(bob, uuid.NewString(), cut.Add(-time.Hour)), false)
	})
	t.Run("CutOffNeverMovesBack", func(t *testing.T) {
		s := newStore(t)
		alice := uuid.NewString()
		later := now.Add(-time.Minute)
		if err := s.CutOff(context.Background(), alice, later); err != nil {
			t.Fatal(err)
		}
		if err := s.CutOff(context.Background(), alice, later.Add(-10*time.Minute)); err != nil {
			t.Fatal(err)
		}
		check(t, s, claims(alice, uuid.NewString(), later.Add(-time.Second)), true)
		if err := s.CutOff(context.Background(), alice, later.Add(30*time.Second)); err != nil {
			t.Fatal(err)
		}
		check(t, s, claims(alice, uuid.NewString(), later.Add(10*time.Second)), true)
	})
	t.Run("CancelledContext", func(t *testing.T) {
		s := newStore(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		user := uuid.NewString()
		if _, err := s.Revoked(ctx, claims(user, "j", now)); !errors.Is(err, context.Canceled) {
			t.Errorf("Revoked(cancelled) = %v; want context.Canceled", err)
		}
		if err := s.DenyToken(ctx, user, "j", now.Add(time.Minute)); !errors.Is(err, context.Canceled) {
			t.Errorf("DenyToken(cancelled) = %v; want context.Canceled", err)
		}
		if err := s.CutOff(ctx, user, now); !errors.Is(err, context.Canceled) {
			t.Errorf("CutOff(cancelled) = %v; want context.Canceled", err)
		}
		check(t, s, claims(user, "j", now.Add(-time.Hour)), false)
	})
	t.Run("Concurrent", func(t *testing.T) {
		s := newStore(t)
		var wg sync.WaitGroup
		users := make([]string, 20)
		for i := range users {
			users[i] = uuid.NewString()
		}
		for _, u := range users {
			wg.Add(2)
			go func() {
				defer wg.Done()
				for i := 0; i < 10; i++ {
					if err := s.DenyToken(context.Background(), u, uuid.NewString(), now.Add(time.Minute)); err != nil {
						t.Errorf("DenyToken = %v", err)
						return
					}
				}
				if err := s.CutOff(context.Background(), u, now); err != nil {
					t.Errorf("CutOff = %v", err)
				}
			}()
			go func() {
				defer wg.Done()
				for i := 0; i < 10; i++ {
					if _, err := s.Revoked(context.Background(), claims(u, uuid.NewString(), now)); err != nil {
						t.Errorf("Revoked = %v", err)
						return
					}
				}
			}()
		}
		wg.Wait()
		for _, u := range users {
			check(t, s, claims(u, uuid.NewString(), now.Add(-time.Millisecond)), true)
		}
	})
}
