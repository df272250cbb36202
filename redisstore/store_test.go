package redisstore_test

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/jwtkit/auth/authstore"
	"github.com/jwtkit/auth/authtest"
	"github.com/jwtkit/auth/redisstore"
)

// newStore returns an empty store under a fresh key prefix of c.
func newStore(t testing.TB, c redis.UniversalClient, opts ...redisstore.Option) *redisstore.Store {
	t.Helper()
	opts = append([]redisstore.Option{redisstore.WithKeyPrefix(newPrefix(t, c))}, opts...)
	s, err := redisstore.New(c, opts...)
	if err != nil {
		t.Fatalf("New = %v", err)
	}
	return s
}

func TestRefreshStore(t *testing.T) {
	c := newClient(t)
	authtest.TestRefreshStore(t, func(t *testing.T) authstore.RefreshStore { return newStore(t, c) })
}

// TestCluster runs the same suites through a cluster client, when a Redis
// Cluster is configured.
func TestCluster(t *testing.T) {
	c := newClusterClient(t)
	t.Run("RefreshStore", func(t *testing.T) {
		authtest.TestRefreshStore(t, func(t *testing.T) authstore.RefreshStore { return newStore(t, c) })
	})
	t.Run("RevocationStore", func(t *testing.T) {
		authtest.TestRevocationStore(t, func(t *testing.T) authstore.RevocationStore { return newStore(t, c) })
	})
	t.Run("OneTimeStore", func(t *testing.T) {
		authtest.TestOneTimeStore(t, func(t *testing.T) authstore.OneTimeStore { return newStore(t, c) })
	})
	t.Run("KeyStore", func(t *testing.T) {
		authtest.TestKeyStore(t, func(t *testing.T) authstore.KeyStore { return newStore(t, c) })
	})
	t.Run("Throttle", func(t *testing.T) {
		authtest.TestThrottle(t, func(t *testing.T, rate authstore.Rate) authstore.Throttle { return newThrottle(t, c, rate) })
	})
}
