package memstore

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jwtkit/auth/authstore"
)

// The conformance suite runs on Throttle in package authtest; these tests
// cover what only the memory throttle promises: its validation and its
// bounded memory.

// NewThrottle refuses a rate that allows no failure, with an error that
// matches both its own configuration error and authstore.ErrInvalidRate.
func TestNewThrottleRate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		rate authstore.Rate
		ok   bool
	}{
		{testRate, true},
		{authstore.Rate{Limit: 1, Window: time.Nanosecond}, true},
		{authstore.Rate{}, false},
		{authstore.Rate{Limit: 0, Window: time.Minute}, false},
		{authstore.Rate{Limit: -1, Window: time.Minute}, false},
		{authstore.Rate{Limit: 1}, false},
		{authstore.Rate{Limit: 1, Window: -time.Minute}, false},
	} {
		th, err := NewThrottle(tt.rate)
		if tt.ok {
			if th == nil || err != nil {
				t.Errorf("NewThrottle(%+v) = %v, %v; want a throttle, nil", tt.rate, th, err)
			}
			continue
		}
		if th != nil || !errors.Is(err, authstore.ErrInvalidRate) || !errors.Is(err, errConfig) {
			t.Errorf("NewThrottle(%+v) = %v, %v; want nil, an error matching ErrInvalidRate and errConfig", tt.rate, th, err)
		}
	}
}

// The throttle follows the shared arithmetic of authstore.Rate.GCRA:
// five failures in a burst, then a wait of a fifth of the window.
func TestThrottleFollowsGCRA(t *testing.T) {
	t.Parallel()
	rate := testRate
	th, err := NewThrottle(rate)
	if err != nil {
		t.Fatal(err)
	}
	var tat time.Time
	for i := 1; i <= 2*rate.Limit; i++ {
		var want time.Duration
		tat, want = rate.GCRA(tat, memNow)
		got, err := th.Fail(t.Context(), "k", memNow)
		if err != nil || got != want {
			t.Fatalf("failure %d: Fail = %v, %v; want %v (Rate.GCRA), nil", i, got, err, want)
		}
		if i < rate.Limit && got != 0 {
			t.Errorf("failure %d: Fail = %v; want 0 within the burst", i, got)
		}
		if i == rate.Limit && got != 3*time.Minute {
			t.Errorf("failure %d: Fail = %v; want 3m", i, got)
		}
	}
	later := memNow.Add(time.Hour)
	if got, err := th.Check(t.Context(), "k", later); err != nil || got != rate.Wait(tat, later) {
		t.Errorf("Check an hour later = %v, %v; want %v (Rate.Wait), nil", got, err, rate.Wait(tat, later))
	}
}

// The throttle holds at most WithMaxKeys keys, and drops those whose
// credit is back first.
func TestThrottleBounded(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	const maxKeys = 100
	m, err := NewThrottle(authstore.Rate{Limit: 5, Window: time.Minute}, WithMaxKeys(maxKeys))
	if err != nil {
		t.Fatal(err)
	}
	keys := func() int {
		m.mu.Lock()
		defer m.mu.Unlock()
		return len(m.tat)
	}
	for i := range 1000 {
		if _, err := m.Fail(ctx, fmt.Sprint("k", i), memNow.Add(time.Duration(i)*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		if n := keys(); n > maxKeys {
			t.Fatalf("after %d keys the throttle holds %d; want at most %d", i+1, n, maxKeys)
		}
	}
	// An hour later every key's credit is back: a new key drops them all.
	if _, err := m.Fail(ctx, "fresh", memNow.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n := keys(); n != 1 {
		t.Errorf("an hour later the throttle holds %d keys; want 1", n)
	}
}
