package sqlstore_test

import (
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
