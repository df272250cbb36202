package memstore

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jwtkit/auth/authstore"
)

// Throttle is the in-memory [authstore.Throttle] of one process. Its memory is
// bounded: keys whose credit is fully restored are dropped, and past
// maxKeys the oldest entries are dropped first.
type Throttle struct {
	rate    authstore.Rate
	maxKeys int

	mu  sync.Mutex           // guards tat
	tat map[string]time.Time // key -> theoretical arrival time
}

// DefaultThrottleKeys bounds the keys a [Throttle] keeps unless
// [WithMaxKeys] says otherwise.
const DefaultThrottleKeys = 100_000

// NewThrottle returns a throttle of rate configured by opts ([WithMaxKeys]).
// It returns an error for a rate that allows no failure or an option out
// of range.
func NewThrottle(rate authstore.Rate, opts ...Option) (*Throttle, error) {
	if err := rate.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", errConfig, err)
	}
	c := defaultConfig()
	if err := c.apply(opts); err != nil {
		return nil, err
	}
	return &Throttle{rate: rate, maxKeys: c.maxKeys, tat: map[string]time.Time{}}, nil
}

var _ authstore.Throttle = (*Throttle)(nil)

// Check implements [authstore.Throttle].
func (m *Throttle) Check(ctx context.Context, key string, now time.Time) (time.Duration, error) {
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

// Fail implements [authstore.Throttle].
func (m *Throttle) Fail(ctx context.Context, key string, now time.Time) (time.Duration, error) {
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

// Take implements [authstore.Throttle].
func (m *Throttle) Take(ctx context.Context, key string, now time.Time) (time.Duration, error) {
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

// Refund implements [authstore.Throttle].
func (m *Throttle) Refund(ctx context.Context, key string, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	tat, ok := m.tat[key]
	if !ok {
		return nil
	}
	if newTAT, keep := m.rate.Refund(tat, now); keep {
		m.tat[key] = newTAT
	} else {
		delete(m.tat, key)
	}
	return nil
}

// Reset implements [authstore.Throttle].
func (m *Throttle) Reset(ctx context.Context, key string) error {
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
func (m *Throttle) shrinkLocked(now time.Time) {
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
