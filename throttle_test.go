package auth

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestRateGCRA(t *testing.T) {
	t.Parallel()
	r := Rate{Limit: 5, Window: 15 * time.Minute}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var tat time.Time
	var wait time.Duration
	for i := 1; i <= 5; i++ {
		tat, wait = r.GCRA(tat, now)
		if want := time.Duration(0); i < 5 && wait != want {
			t.Fatalf("failure %d: wait %v; want 0", i, wait)
		}
	}
	if wait != 3*time.Minute || r.Wait(tat, now.Add(3*time.Minute)) != 0 {
		t.Errorf("after 5 failures: wait %v, after 3m %v; want 3m, 0", wait, r.Wait(tat, now.Add(3*time.Minute)))
	}
	for _, bad := range []Rate{{0, time.Minute}, {1, 0}, {-1, time.Minute}} {
		if _, err := NewMemoryThrottle(bad, 0); !errors.Is(err, ErrConfig) {
			t.Errorf("NewMemoryThrottle(%+v) = %v; want ErrConfig", bad, err)
		}
	}
}

func TestMemoryThrottleBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m, _ := NewMemoryThrottle(Rate{Limit: 5, Window: time.Minute}, 100)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 1000; i++ {
		if _, err := m.Fail(ctx, fmt.Sprint("k", i), now.Add(time.Duration(i)*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		m.mu.Lock()
		n := len(m.tat)
		m.mu.Unlock()
		if n > 100 {
			t.Fatalf("after %d keys the throttle holds %d; want at most 100", i+1, n)
		}
	}
	// Keys whose credit is back are the first to go.
	later := now.Add(time.Hour)
	if _, err := m.Fail(ctx, "fresh", later); err != nil {
		t.Fatal(err)
	}
	m.mu.Lock()
	n := len(m.tat)
	m.mu.Unlock()
	if n != 1 {
		t.Errorf("an hour later the throttle holds %d keys; want 1", n)
	}
}
