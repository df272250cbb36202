package redisstore_test

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/jwtkit/auth/authstore"
	"github.com/jwtkit/auth/authtest"
	"github.com/jwtkit/auth/redisstore"
)

// newThrottle returns an empty throttle of rate under a fresh key prefix of
// c.
func newThrottle(t testing.TB, c redis.UniversalClient, rate authstore.Rate) *redisstore.Throttle {
	t.Helper()
	th, err := redisstore.NewThrottle(c, rate, redisstore.WithKeyPrefix(newPrefix(t, c)))
	if err != nil {
		t.Fatalf("NewThrottle = %v", err)
	}
	return th
}

func TestThrottle(t *testing.T) {
	c := newClient(t)
	authtest.TestThrottle(t, func(t *testing.T, rate authstore.Rate) authstore.Throttle { return newThrottle(t, c, rate) })
}
