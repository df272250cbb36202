package authstore_test

import (
	"errors"
	"testing"
	"time"

	"github.com/jwtkit/auth/authstore"
)

func TestRateValidate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		rate authstore.Rate
		want error
	}{
		{authstore.Rate{Limit: 1, Window: time.Nanosecond}, nil},
		{authstore.Rate{Limit: 5, Window: 15 * time.Minute}, nil},
		{authstore.Rate{Limit: 0, Window: time.Minute}, authstore.ErrInvalidRate},
		{authstore.Rate{Limit: -1, Window: time.Minute}, authstore.ErrInvalidRate},
		{authstore.Rate{Limit: 1, Window: 0}, authstore.ErrInvalidRate},
		{authstore.Rate{Limit: 1, Window: -time.Second}, authstore.ErrInvalidRate},
	} {
		if err := tt.rate.Validate(); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("%+v.Validate() = %v; want %v", tt.rate, err, tt.want)
		}
	}
}

// TestRateGCRA: 5 failures per 15 minutes allow a burst of 5, then one more
// every 3 minutes, and a key that waits a whole window is whole again.
func TestRateGCRA(t *testing.T) {
	t.Parallel()
	r := authstore.Rate{Limit: 5, Window: 15 * time.Minute}
	if got := r.Interval(); got != 3*time.Minute {
		t.Fatalf("Interval() = %v; want 3m", got)
	}
	now := time.Date(2030, 6, 15, 10, 30, 0, 0, time.UTC)
	var tat time.Time
	var wait time.Duration
	for i := 1; i <= 5; i++ {
		tat, wait = r.GCRA(tat, now)
		if i < 5 && wait != 0 {
			t.Fatalf("failure %d: GCRA wait = %v; want 0", i, wait)
		}
	}
	if wait != 3*time.Minute {
		t.Errorf("after 5 failures: GCRA wait = %v; want 3m", wait)
	}
	if got := r.Wait(tat, now.Add(3*time.Minute-time.Second)); got != time.Second {
		t.Errorf("Wait 1s before the next credit = %v; want 1s", got)
	}
	if got := r.Wait(tat, now.Add(3*time.Minute)); got != 0 {
		t.Errorf("Wait when the next credit is back = %v; want 0", got)
	}
	// A tat in the past counts from now: after a whole window of quiet,
	// a failure leaves the full burst less one.
	tat, wait = r.GCRA(tat, now.Add(time.Hour))
	if wait != 0 || !tat.Equal(now.Add(time.Hour+3*time.Minute)) {
		t.Errorf("GCRA after a quiet hour = %v, %v; want %v, 0", tat, wait, now.Add(time.Hour+3*time.Minute))
	}
}
