package memstore

import (
	"time"

	"github.com/jwtkit/auth/internal/testclock"

	"github.com/jwtkit/auth/authstore"
)

// The shared fixtures of the package's tests: one fixed instant, one fake
// clock and one throttle rate.

// memNow is the instant the tests start from.
var memNow = testclock.Instant

// testRate is a throttle rate of 5 failures per 15 minutes: a burst of
// five, then one failure every three minutes.
var testRate = authstore.Rate{Limit: 5, Window: 15 * time.Minute}

// fakeClock is the fake clock of the tests; newFakeClock starts one at
// testclock.Instant.
type fakeClock = testclock.Clock

func newFakeClock() *fakeClock { return testclock.New() }
