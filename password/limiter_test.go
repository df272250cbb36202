package password

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestLimiterCap shows that no more computations than the cap run at once
// (for Argon2id, memory peaks at m × cap), and that a waiting caller gives
// up with its context.
func TestLimiterCap(t *testing.T) {
	t.Parallel()
	l := newLimiter(2, 8)
	var running, peak atomic.Int32
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			if err := l.acquire(context.Background()); err != nil {
				t.Error(err)
				return
			}
			n := running.Add(1)
			for {
				m := peak.Load()
				if n <= m || peak.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(5 * time.Millisecond)
			running.Add(-1)
			l.release()
		})
	}
	wg.Wait()
	// More than the cap at once is the failure; fewer is only scheduling
	// (that both slots can be held at once is checked just below).
	if got := peak.Load(); got > 2 || got < 1 {
		t.Errorf("peak concurrent computations = %d; want 1 or 2 (the cap)", got)
	}
	// Fill the slots, then a caller with a short deadline must give up.
	_ = l.acquire(context.Background())
	_ = l.acquire(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := l.acquire(ctx); !errors.Is(err, ErrBusy) {
		t.Errorf("acquire with every slot busy = %v; want ErrBusy", err)
	}
	l.release()
	l.release()
}

// limited is a hasher that runs its work in a limiter's slots.
type limited interface {
	Hasher
	acquire(ctx context.Context) error
	release()
	waiting() int64
}

func (l *limiter) waiting() int64 { return l.queued.Load() }

// TestHashersQueueCap: both hashers run Hash and Verify in their slots, and
// past the queue cap they answer ErrBusy at once; once the queue drains
// they work again.
func TestHashersQueueCap(t *testing.T) {
	t.Parallel()
	for name, h := range map[string]limited{
		"bcrypt":   newTestBcrypt(t, WithConcurrency(1), WithQueue(2)),
		"argon2id": newTestArgon2id(t, config{concurrency: 1, queue: 2}),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_ = h.acquire(context.Background()) // the one slot
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			for range 2 { // two wait
				wg.Go(func() {
					if err := h.acquire(ctx); err == nil {
						h.release()
					}
				})
			}
			for h.waiting() != 2 {
				time.Sleep(time.Millisecond)
			}
			if _, err := h.Hash(context.Background(), "correct horse"); !errors.Is(err, ErrBusy) {
				t.Errorf("Hash with the queue full = %v; want ErrBusy at once", err)
			}
			if _, _, err := h.Verify(context.Background(), nil, "correct horse"); !errors.Is(err, ErrBusy) {
				t.Errorf("Verify with the queue full = %v; want ErrBusy at once", err)
			}
			cancel()
			wg.Wait()
			h.release()
			if _, err := h.Hash(context.Background(), "correct horse"); err != nil {
				t.Errorf("Hash after the queue drained = %v", err)
			}
		})
	}
}
