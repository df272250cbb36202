package authstore

import (
	"context"
	"errors"
	"time"
)

// Throttle limits failed attempts per key (an account, a client address):
// at most Limit failures per Window, spread evenly (a generic cell rate
// algorithm: each failure uses Window/Limit of credit, and up to Limit
// failures may come in a burst; see [Rate.GCRA]). Login throttling reserves
// an attempt before checking a password.
// github.com/jwtkit/auth/authtest.TestThrottle runs every clause of this
// contract against an implementation.
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
	// Refund gives back the credit of one attempt that Take reserved for
	// key at now, when it turned out not to be a failure: key's theoretical
	// arrival time moves back one interval, and the record goes when that
	// is no later than now. A key without a record is left alone, so a
	// refund never grants more than the rate. Login reserves an attempt per
	// client address and refunds it on success, so that the address is
	// limited in failures, not in sign-ins.
	Refund(ctx context.Context, key string, now time.Time) error
}

// Refund is the arithmetic of [Throttle.Refund] shared by every store:
// given the key's theoretical arrival time tat, it returns the new one,
// and keep false when the record should go.
func (r Rate) Refund(tat, now time.Time) (newTAT time.Time, keep bool) {
	newTAT = tat.Add(-r.Interval())
	return newTAT, newTAT.After(now)
}

// Rate is a throttle rate: Limit failures per Window.
type Rate struct {
	Limit  int
	Window time.Duration
}

// ErrInvalidRate is returned by [Rate.Validate] for a rate that allows no
// failure.
var ErrInvalidRate = errors.New("authstore: throttle rate must be at least 1 per positive window")

// Validate returns [ErrInvalidRate] unless r allows at least one failure per
// positive window.
func (r Rate) Validate() error {
	if r.Limit < 1 || r.Window <= 0 {
		return ErrInvalidRate
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
