// Package testclock is the one fixed instant and the one fake clock of the
// repository's tests.
package testclock

import (
	"sync"
	"time"
)

// Instant is the fixed instant the tests issue, verify and store at.
var Instant = time.Date(2030, 6, 15, 10, 30, 0, 0, time.UTC)

// Now returns Instant, for a clock that never moves.
func Now() time.Time { return Instant }

// Clock is a clock that moves only when told to; safe for concurrent use.
type Clock struct {
	mu  sync.Mutex // guards now
	now time.Time
}

// New returns a clock stopped at Instant.
func New() *Clock { return &Clock{now: Instant} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}
