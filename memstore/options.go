package memstore

import (
	"errors"
	"fmt"
	"time"
)

// Option configures a [Store] in [New] or a [Throttle] in [NewThrottle].
// Each option says which of the two it applies to; the other ignores it.
type Option func(*config) error

type config struct {
	now                func() time.Time
	maxSessionsPerUser int
	maxKeys            int
}

func defaultConfig() config {
	return config{now: time.Now, maxSessionsPerUser: DefaultMaxSessionsPerUser, maxKeys: DefaultThrottleKeys}
}

// errConfig is the class of the errors of [New] and [NewThrottle].
var errConfig = errors.New("memstore: invalid configuration")

func (c *config) apply(opts []Option) error {
	for _, opt := range opts {
		if opt == nil {
			return fmt.Errorf("%w: nil option", errConfig)
		}
		if err := opt(c); err != nil {
			return err
		}
	}
	return nil
}

// WithClock sets the clock by which a [Store] drops revocation entries that
// can no longer matter. Default time.Now. The times of refresh-store
// operations come from their arguments, never from this clock.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return fmt.Errorf("%w: WithClock(nil)", errConfig)
		}
		c.now = now
		return nil
	}
}

// WithMaxSessionsPerUser sets how many sessions a [Store] keeps per user.
// When [Store.CreateSession] would give a user more than n, it first
// deletes the user's oldest (by CreatedAt) revoked or expired sessions,
// then, if the user would still have more than n live ones, the oldest live
// sessions: those sessions end. A deleted session goes with all its tokens.
// Default [DefaultMaxSessionsPerUser] (100); n must be at least 10, as
// [authstore.RefreshStore] requires.
func WithMaxSessionsPerUser(n int) Option {
	return func(c *config) error {
		if n < 10 {
			return fmt.Errorf("%w: WithMaxSessionsPerUser(%d); want at least 10", errConfig, n)
		}
		c.maxSessionsPerUser = n
		return nil
	}
}

// WithMaxKeys sets how many keys a [Throttle] keeps; past it the keys
// closest to a full credit are dropped first. Default
// [DefaultThrottleKeys]; n must be at least 1.
func WithMaxKeys(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("%w: WithMaxKeys(%d); want at least 1", errConfig, n)
		}
		c.maxKeys = n
		return nil
	}
}
