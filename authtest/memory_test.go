package authtest_test

import (
	"testing"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/authtest"
)

func TestMemoryRevocationStore(t *testing.T) {
	authtest.TestRevocationStore(t, func(*testing.T) auth.RevocationStore { return auth.NewMemoryRevocationStore(nil) })
}

func TestMemoryThrottle(t *testing.T) {
	authtest.TestThrottle(t, func(t *testing.T, rate auth.Rate) auth.Throttle {
		th, err := auth.NewMemoryThrottle(rate, 0)
		if err != nil {
			t.Fatal(err)
		}
		return th
	})
}
