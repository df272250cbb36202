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

// TestThrottle runs the clauses of the [authstore.Throttle] contract against
// throttles of rate 5 per 15 minutes returned by newThrottle (each must
// start empty): five failures in a burst are allowed and the sixth attempt
// waits three minutes; credit returns at one failure per three minutes;
// Reset forgets a key; Refund gives back one reserved attempt and never
// more than the rate; keys are isolated; concurrent failures of one key are
// all counted; a cancelled context fails.
func TestThrottle(t *testing.T, newThrottle func(t *testing.T, rate authstore.Rate) authstore.Throttle) {
	t.Helper()
	rate := authstore.Rate{Limit: 5, Window: 15 * time.Minute}
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	wait := func(t *testing.T, th authstore.Throttle, key string, at time.Time, want time.Duration) {
		t.Helper()
		got, err := th.Check(ctx, key, at)
		if err != nil || !near(got, want) {
			t.Errorf("Check(%s, +%v) = %v, %v; want %v", key[:8], at.Sub(now), got, err, want)
		}
	}
	fail := func(t *testing.T, th authstore.Throttle, key string, at time.Time) time.Duration {
		t.Helper()
		d, err := th.Fail(ctx, key, at)
		if err != nil {
			t.Fatalf("Fail = %v", err)
		}
		return d
	}
	t.Run("Burst", func(t *testing.T) {
		th := newThrottle(t, rate)
		key := uuid.NewString()
		wait(t, th, key, now, 0)
		for i := 1; i <= 4; i++ {
			if d := fail(t, th, key, now); d != 0 {
				t.Fatalf("failure %d: wait %v; want 0", i, d)
			}
		}
		if d := fail(t, th, key, now); !near(d, 3*time.Minute) {
			t.Errorf("fifth failure: wait %v; want 3m", d)
		}
		wait(t, th, key, now, 3*time.Minute)
		wait(t, th, key, now.Add(time.Minute), 2*time.Minute)
		wait(t, th, key, now.Add(3*time.Minute), 0)
		if d := fail(t, th, key, now.Add(3*time.Minute)); !near(d, 3*time.Minute) {
			t.Errorf("failure after the wait: wait %v; want 3m", d)
		}
		wait(t, th, key, now.Add(16*time.Minute), 0)
	})
	t.Run("Take", func(t *testing.T) {
		th := newThrottle(t, rate)
		key := uuid.NewString()
		for i := 1; i <= 5; i++ {
			d, err := th.Take(ctx, key, now)
			if err != nil || d != 0 {
				t.Fatalf("Take %d = %v, %v; want 0", i, d, err)
			}
		}
		if d, err := th.Take(ctx, key, now); err != nil || !near(d, 3*time.Minute) {
			t.Errorf("sixth Take = %v, %v; want 3m and nothing recorded", d, err)
		}
		// The refused Take recorded nothing: the wait is still 3 minutes.
		wait(t, th, key, now, 3*time.Minute)
		if d, _ := th.Take(ctx, key, now.Add(3*time.Minute)); d != 0 {
			t.Errorf("Take after the wait = %v; want 0", d)
		}
	})
	t.Run("TakeConcurrent", func(t *testing.T) {
		th := newThrottle(t, rate)
		key := uuid.NewString()
		var wg sync.WaitGroup
		var mu sync.Mutex
		passed := 0
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d, err := th.Take(ctx, key, now)
				if err != nil {
					t.Errorf("Take = %v", err)
					return
				}
				if d == 0 {
					mu.Lock()
					passed++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if passed != 5 {
			t.Errorf("20 concurrent Takes at rate 5/15m: %d passed; want exactly 5", passed)
		}
	})
	t.Run("Reset", func(t *testing.T) {
		th := newThrottle(t, rate)
		key := uuid.NewString()
		for i := 0; i < 5; i++ {
			fail(t, th, key, now)
		}
		if err := th.Reset(ctx, key); err != nil {
			t.Fatal(err)
		}
		wait(t, th, key, now, 0)
		if err := th.Reset(ctx, uuid.NewString()); err != nil {
			t.Errorf("Reset(unknown) = %v; want nil", err)
		}
	})
	t.Run("Refund", func(t *testing.T) {
		th := newThrottle(t, rate)
		key := uuid.NewString()
		take := func(at time.Time) time.Duration {
			t.Helper()
			d, err := th.Take(ctx, key, at)
			if err != nil {
				t.Fatalf("Take = %v", err)
			}
			return d
		}
		refund := func(k string, at time.Time) {
			t.Helper()
			if err := th.Refund(ctx, k, at); err != nil {
				t.Fatalf("Refund = %v", err)
			}
		}
		// Five reserved attempts use the burst; refunding one lets one more in.
		for i := 0; i < 5; i++ {
			if d := take(now); d != 0 {
				t.Fatalf("Take %d: wait %v; want 0", i+1, d)
			}
		}
		if d := take(now); d == 0 {
			t.Fatal("sixth Take passed; want a wait")
		}
		refund(key, now)
		wait(t, th, key, now, 0)
		if d := take(now); d != 0 {
			t.Errorf("Take after a refund: wait %v; want 0", d)
		}
		if d := take(now); d == 0 {
			t.Error("second Take after one refund passed; want a wait")
		}
		// Refunding more than was taken grants nothing beyond the rate.
		other := uuid.NewString()
		refund(other, now) // no record: nothing happens
		for i := 0; i < 3; i++ {
			if _, err := th.Take(ctx, other, now); err != nil {
				t.Fatal(err)
			}
		}
		for i := 0; i < 6; i++ {
			refund(other, now)
		}
		passed := 0
		for i := 0; i < 8; i++ {
			if d, err := th.Take(ctx, other, now); err != nil {
				t.Fatal(err)
			} else if d == 0 {
				passed++
			}
		}
		if passed != 5 {
			t.Errorf("after 3 Takes and 6 refunds: %d of 8 Takes passed; want the rate's 5", passed)
		}
	})
	t.Run("Isolation", func(t *testing.T) {
		th := newThrottle(t, rate)
		a, b := uuid.NewString(), uuid.NewString()
		for i := 0; i < 5; i++ {
			fail(t, th, a, now)
		}
		wait(t, th, b, now, 0)
	})
	t.Run("Concurrent", func(t *testing.T) {
		th := newThrottle(t, rate)
		key := uuid.NewString()
		var wg sync.WaitGroup
		for i := 0; i < 10; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := th.Fail(ctx, key, now); err != nil {
					t.Errorf("Fail = %v", err)
				}
			}()
		}
		wg.Wait()
		// Ten failures at once: tat is now + 30m, so the wait is 18 minutes.
		wait(t, th, key, now, 18*time.Minute)
	})
	t.Run("CancelledContext", func(t *testing.T) {
		th := newThrottle(t, rate)
		c, cancel := context.WithCancel(ctx)
		cancel()
		key := uuid.NewString()
		if _, err := th.Fail(c, key, now); !errors.Is(err, context.Canceled) {
			t.Errorf("Fail(cancelled) = %v; want context.Canceled", err)
		}
		if _, err := th.Take(c, key, now); !errors.Is(err, context.Canceled) {
			t.Errorf("Take(cancelled) = %v; want context.Canceled", err)
		}
		if _, err := th.Check(c, key, now); !errors.Is(err, context.Canceled) {
			t.Errorf("Check(cancelled) = %v; want context.Canceled", err)
		}
		if err := th.Refund(c, key, now); !errors.Is(err, context.Canceled) {
			t.Errorf("Refund(cancelled) = %v; want context.Canceled", err)
		}
		if err := th.Reset(c, key); !errors.Is(err, context.Canceled) {
			t.Errorf("Reset(cancelled) = %v; want context.Canceled", err)
		}
	})
}

// near reports whether got is want to the millisecond (stores may keep
// milliseconds only).
func near(got, want time.Duration) bool {
	d := got - want
	return d > -2*time.Millisecond && d < 2*time.Millisecond
}
