package auth

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Throttle limits failed attempts per key (an account, a client address):
// at most Limit failures per Window, spread evenly (a generic cell rate
// algorithm: each failure uses Window/Limit of credit, and up to Limit
// failures may come in a burst). Login throttling consults it before
// checking a password and records each failure.
//
// Every method must be safe for concurrent use; errors are for system
// failures only. Each method touches one key, so a store partitioned by key
// runs it in one partition. Instances that share a throttle store count the
// failures of all of them together.
type Throttle interface {
	// Check returns how long key must wait before its next attempt, or 0
	// when it may try now. It records nothing.
	Check(ctx context.Context, key string, now time.Time) (retryAfter time.Duration, err error)
	// Take is Check and Fail in one atomic step: when key may try now it
	// records a failed attempt at now and returns 0; otherwise it records
	// nothing and returns how long key must wait. Of concurrent attempts,
	// no more pass than the rate allows. Login reserves an attempt with it
	// before any password work and forgets it with Reset on success.
	Take(ctx context.Context, key string, now time.Time) (retryAfter time.Duration, err error)
	// Fail records a failed attempt of key at now and returns how long key
	// must now wait before its next attempt (0 while credit remains).
	Fail(ctx context.Context, key string, now time.Time) (retryAfter time.Duration, err error)
	// Reset forgets key's failures, after a success.
	Reset(ctx context.Context, key string) error
}

// Rate is a throttle rate: Limit failures per Window.
type Rate struct {
	Limit  int
	Window time.Duration
}

// DefaultLoginRate is 5 failed logins per 15 minutes.
var DefaultLoginRate = Rate{Limit: 5, Window: 15 * time.Minute}

// Validate reports an error matching [ErrConfig] unless r allows at least
// one failure per positive window.
func (r Rate) Validate() error {
	if r.Limit < 1 || r.Window <= 0 {
		return fmt.Errorf("%w: throttle rate must be at least 1 per positive window", ErrConfig)
	}
	return nil
}

// Interval returns the credit one failure uses: Window / Limit.
func (r Rate) Interval() time.Duration { return r.Window / time.Duration(r.Limit) }

// GCRA is the throttle arithmetic shared by every [Throttle] store. Given
// the key's theoretical arrival time tat (zero when unknown), it returns the
// new tat after a failure at now, and the wait before the next attempt.
// Stores keep tat per key until it passes; a store that expires keys sets
// their lifetime to tat - now.
func (r Rate) GCRA(tat, now time.Time) (newTAT time.Time, retryAfter time.Duration) {
	if tat.Before(now) {
		tat = now
	}
	newTAT = tat.Add(r.Interval())
	return newTAT, r.Wait(newTAT, now)
}

// Wait returns how long a key whose theoretical arrival time is tat must
// wait at now before its next attempt.
func (r Rate) Wait(tat, now time.Time) time.Duration {
	// One more failure is allowed while it would keep tat within Window of now.
	if d := tat.Add(r.Interval()).Sub(now) - r.Window; d > 0 {
		return d
	}
	return 0
}

// MemoryThrottle is the in-memory [Throttle] of one process. Its memory is
// bounded: keys whose credit is fully restored are dropped, and past
// maxKeys the oldest entries are dropped first.
type MemoryThrottle struct {
	rate    Rate
	maxKeys int

	mu  sync.Mutex           // guards tat
	tat map[string]time.Time // key -> theoretical arrival time
}

// DefaultThrottleKeys bounds the keys a [MemoryThrottle] keeps.
const DefaultThrottleKeys = 100_000

// NewMemoryThrottle returns a throttle of rate keeping at most maxKeys keys
// ([DefaultThrottleKeys] when maxKeys < 1).
func NewMemoryThrottle(rate Rate, maxKeys int) (*MemoryThrottle, error) {
	if err := rate.Validate(); err != nil {
		return nil, err
	}
	if maxKeys < 1 {
		maxKeys = DefaultThrottleKeys
	}
	return &MemoryThrottle{rate: rate, maxKeys: maxKeys, tat: map[string]time.Time{}}, nil
}

var _ Throttle = (*MemoryThrottle)(nil)

// Check implements [Throttle].
func (m *MemoryThrottle) Check(ctx context.Context, key string, now time.Time) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	m.mu.Lock()
	tat, ok := m.tat[key]
	m.mu.Unlock()
	if !ok {
		return 0, nil
	}
	return m.rate.Wait(tat, now), nil
}

// Fail implements [Throttle].
func (m *MemoryThrottle) Fail(ctx context.Context, key string, now time.Time) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	tat, ok := m.tat[key]
	if !ok && len(m.tat) >= m.maxKeys {
		m.shrinkLocked(now)
	}
	newTAT, wait := m.rate.GCRA(tat, now)
	m.tat[key] = newTAT
	return wait, nil
}

// Take implements [Throttle].
func (m *MemoryThrottle) Take(ctx context.Context, key string, now time.Time) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	tat, ok := m.tat[key]
	if ok {
		if wait := m.rate.Wait(tat, now); wait > 0 {
			return wait, nil
		}
	} else if len(m.tat) >= m.maxKeys {
		m.shrinkLocked(now)
	}
	m.tat[key], _ = m.rate.GCRA(tat, now)
	return 0, nil
}

// Reset implements [Throttle].
func (m *MemoryThrottle) Reset(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	delete(m.tat, key)
	m.mu.Unlock()
	return nil
}

// shrinkLocked drops keys whose credit is restored, then, if still full,
// the tenth of keys closest to being restored; m.mu must be held.
func (m *MemoryThrottle) shrinkLocked(now time.Time) {
	for k, tat := range m.tat {
		if !tat.After(now) {
			delete(m.tat, k)
		}
	}
	if len(m.tat) < m.maxKeys {
		return
	}
	// Still full of active keys: drop those with the least debt first.
	cut := now.Add(m.rate.Window / 10)
	for round := 0; len(m.tat) >= m.maxKeys-m.maxKeys/10; round++ {
		for k, tat := range m.tat {
			if round >= 12 || !tat.After(cut) {
				delete(m.tat, k)
				if round >= 12 && len(m.tat) < m.maxKeys-m.maxKeys/10 {
					break
				}
			}
		}
		cut = cut.Add(m.rate.Window / 10)
	}
}
