package main

import (
	"fmt"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

func newTestLimiter(t *testing.T, max int) (*limiter, *fakeClock) {
	t.Helper()
	clock := newFakeClock()
	// Two requests at once, then one every 2 seconds: a bucket is full
	// again 4 seconds after its last request.
	l, err := newLimiter(rate.Limit(0.5), 2, max, clock.Now)
	if err != nil {
		t.Fatalf("newLimiter = %v", err)
	}
	return l, clock
}

func TestLimiterBoundedUnderManySubjects(t *testing.T) {
	t.Parallel()
	const max = 64
	l, clock := newTestLimiter(t, max)
	for i := range 100 * max {
		if _, ok := l.Allow(fmt.Sprintf("user-%d", i)); !ok {
			t.Fatalf("Allow(user-%d) = false; want true for a new subject", i)
		}
		if n := l.Len(); n > max {
			t.Fatalf("after %d subjects Len() = %d; want at most %d", i+1, n, max)
		}
		if i%16 == 0 {
			clock.Advance(time.Millisecond)
		}
	}
	if n := l.Len(); n != max {
		t.Errorf("Len() = %d; want %d", n, max)
	}
	if n := len(l.byName); n != l.recent.Len() {
		t.Errorf("%d subjects by name, %d in recency order; want the same", n, l.recent.Len())
	}
}

func TestLimiterForgetsIdleSubjects(t *testing.T) {
	t.Parallel()
	l, clock := newTestLimiter(t, 100)
	for i := range 10 {
		l.Allow(fmt.Sprintf("user-%d", i))
	}
	clock.Advance(3 * time.Second)
	l.Allow("user-0") // seen again: remembered
	clock.Advance(time.Second)
	// The other nine are 4 seconds idle, their buckets full: forgotten.
	l.Allow("new")
	if n := l.Len(); n != 2 {
		t.Errorf("Len() = %d after nine subjects went idle; want 2 (user-0 and new)", n)
	}
	if _, ok := l.byName["user-0"]; !ok {
		t.Error("user-0, seen 1 second ago, was forgotten")
	}
}

func TestLimiterKeepsSpentBudgets(t *testing.T) {
	t.Parallel()
	l, clock := newTestLimiter(t, 2)
	l.Allow("ada")
	l.Allow("ada")
	if wait, ok := l.Allow("ada"); ok || wait != 2*time.Second {
		t.Fatalf("Allow(ada) past the burst = %v, %v; want 2s, false", wait, ok)
	}
	// ada keeps asking while others come and go: she is the most recent,
	// so the table's eviction takes the others, and her budget stays spent.
	for i := range 10 {
		clock.Advance(100 * time.Millisecond)
		l.Allow(fmt.Sprintf("user-%d", i))
		if _, ok := l.Allow("ada"); ok {
			t.Fatalf("Allow(ada) after %d other subjects = true; want false until her bucket refills", i+1)
		}
	}
}

func TestNewLimiterRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		limit      rate.Limit
		burst, max int
	}{
		{0, 1, 1}, {-1, 1, 1}, {rate.Inf, 1, 1}, {1, 0, 1}, {1, 1, 0},
	}
	for _, tt := range tests {
		if _, err := newLimiter(tt.limit, tt.burst, tt.max, time.Now); err == nil {
			t.Errorf("newLimiter(%v, %d, %d) = nil error; want one", tt.limit, tt.burst, tt.max)
		}
	}
}
