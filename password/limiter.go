package password

import (
	"context"
	"fmt"
	"sync/atomic"
)

// limiter caps how many hash computations of one hasher run at once and how
// many callers wait for a slot. [Bcrypt] and [Argon2id] each hold one: for
// bcrypt it bounds the CPU spent, for Argon2id also the memory (each
// computation holds its m KiB until it ends).
type limiter struct {
	slots    chan struct{} // one token per running computation
	maxQueue int64         // callers allowed to wait for a slot
	queued   atomic.Int64  // callers waiting for a slot now
}

func newLimiter(concurrency, queue int) limiter {
	return limiter{slots: make(chan struct{}, concurrency), maxQueue: int64(queue)}
}

// acquire waits for a slot or the end of ctx. Past the queue cap it
// refuses at once with [ErrBusy].
func (l *limiter) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: waiting to hash: %w", ErrBusy, err)
	}
	select {
	case l.slots <- struct{}{}:
		return nil
	default:
	}
	if l.queued.Add(1) > l.maxQueue {
		l.queued.Add(-1)
		return fmt.Errorf("%w: too many password checks waiting", ErrBusy)
	}
	defer l.queued.Add(-1)
	select {
	case l.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: waiting to hash: %w", ErrBusy, ctx.Err())
	}
}

// release gives back a slot taken by acquire.
func (l *limiter) release() { <-l.slots }
