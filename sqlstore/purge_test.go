package sqlstore_test

import (
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/jwtkit/auth/authstore"
)

// TestPurgeRevocations checks that Purge also deletes, in its batches,
// denied tokens that no verifier can accept any more and cutoffs that
// refuse nothing any more, and keeps the others.
func TestPurgeRevocations(t *testing.T) {
	for _, tt := range stores {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := tt.new(t)
			ctx := t.Context()
			now := time.Now().UTC().Truncate(time.Microsecond)
			user := uuid.NewString()
			deny := func(jti string, exp time.Time) {
				t.Helper()
				if err := s.Deny(ctx, user, jti, exp); err != nil {
					t.Fatalf("Deny(%s) = %v", jti, err)
				}
			}
			cut := func(user string, at time.Time) {
				t.Helper()
				if err := s.CutOff(ctx, user, at); err != nil {
					t.Fatalf("CutOff = %v", err)
				}
			}
			deny("stale-1", now.Add(-authstore.MaxLeeway-time.Second))
			deny("stale-2", now.Add(-authstore.MaxLeeway))
			deny("in-leeway", now.Add(-time.Second)) // expired, but a leeway may still accept it
			deny("live", now.Add(time.Minute))
			staleUser := uuid.NewString()
			cut(staleUser, now.Add(-authstore.MaxAccessTTL-authstore.MaxLeeway-time.Second))
			cut(user, now.Add(-authstore.MaxAccessTTL)) // may still refuse a token within the leeway

			total := 0
			for {
				n, err := s.Purge(ctx, now, 1)
				if err != nil {
					t.Fatalf("Purge(now, 1) = %v", err)
				}
				total += n
				if n < 1 {
					break
				}
				if total > 3 {
					t.Fatalf("Purge(now, 1) went on past %d items", total)
				}
			}
			if total != 3 {
				t.Errorf("Purge(now, 1) loop deleted %d items; want 3 (2 denied tokens, 1 cutoff)", total)
			}
			for _, tc := range []struct {
				user, jti string
				iat       time.Time
				want      bool
			}{
				{user, "stale-1", now.Add(-time.Hour), false},
				{user, "stale-2", now.Add(-time.Hour), false},
				{user, "in-leeway", now.Add(-time.Hour), true},
				{user, "live", now.Add(-time.Hour), true},
				{staleUser, "x", now.Add(-48 * time.Hour), false},
				{user, "other", now.Add(-authstore.MaxAccessTTL - time.Second), true},
			} {
				got, err := s.Revoked(ctx, tc.user, "", tc.jti, tc.iat)
				if err != nil || got != tc.want {
					t.Errorf("after Purge: Revoked(%s, %s, %v) = %v, %v; want %v, nil", tc.user, tc.jti, tc.iat, got, err, tc.want)
				}
			}
		})
	}
}

// TestPurgeOneTime checks that Purge deletes expired one-time tokens (at
// or before now) in batches of at most its limit, counting each, and
// keeps the unexpired ones usable.
func TestPurgeOneTime(t *testing.T) {
	for _, tt := range stores {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := tt.new(t)
			ctx := t.Context()
			now := time.Now().UTC().Truncate(time.Microsecond)
			save := func(user, purpose string, exp time.Time) authstore.OneTimeToken {
				t.Helper()
				tok := authstore.OneTimeToken{Hash: tokenHash(user), UserID: user, Purpose: purpose, ExpiresAt: exp}
				if err := s.SaveOneTime(ctx, tok); err != nil {
					t.Fatalf("SaveOneTime = %v", err)
				}
				return tok
			}
			alice, bob := uuid.NewString(), uuid.NewString()
			expired := []authstore.OneTimeToken{
				save(alice, "password_reset", now.Add(-time.Hour)),
				save(alice, "password_reset", now.Add(-time.Minute)),
				save(alice, "email_verify", now.Add(-time.Second)),
				save(bob, "password_reset", now.Add(-time.Microsecond)),
				save(bob, "email_verify", now), // at now: no longer consumable
			}
			live := []authstore.OneTimeToken{
				save(alice, "password_reset", now.Add(time.Microsecond)),
				save(bob, "email_verify", now.Add(time.Hour)),
			}

			// Batches of 2: 2, 2, then 1 < 2, which ends the loop.
			var batches []int
			for {
				n, err := s.Purge(ctx, now, 2)
				if err != nil {
					t.Fatalf("Purge(now, 2) = %v", err)
				}
				if n > 2 {
					t.Fatalf("Purge(now, 2) = %d; want at most 2", n)
				}
				batches = append(batches, n)
				if n < 2 || len(batches) > len(expired) {
					break
				}
			}
			if want := []int{2, 2, 1}; !slices.Equal(batches, want) {
				t.Errorf("Purge(now, 2) loop deleted %v; want %v", batches, want)
			}
			if n, err := s.Purge(ctx, now, 10); err != nil || n != 0 {
				t.Errorf("Purge(now, 10) after the loop = %d, %v; want 0, nil", n, err)
			}

			// A purged token is gone: it is not found even at a time when
			// it had not expired yet.
			for i, tok := range expired {
				if _, found, err := s.ConsumeOneTime(ctx, authstore.RouteFor(tok.UserID), tok.Hash, tok.Purpose, now.Add(-2*time.Hour)); err != nil || found {
					t.Errorf("after Purge: ConsumeOneTime(expired token %d, before its expiry) = %v, %v; want not found, nil", i, found, err)
				}
			}
			for i, tok := range live {
				got, found, err := s.ConsumeOneTime(ctx, authstore.RouteFor(tok.UserID), tok.Hash, tok.Purpose, now)
				if err != nil || !found || got != tok {
					t.Errorf("after Purge: ConsumeOneTime(live token %d) = %+v, %v, %v; want %+v, found, nil", i, got, found, err, tok)
				}
			}
		})
	}
}
