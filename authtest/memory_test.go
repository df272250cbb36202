package authtest_test

import (
	"testing"

	"github.com/jwtkit/auth/authstore"
	"github.com/jwtkit/auth/authtest"
	"github.com/jwtkit/auth/memstore"
)

// The suites run against the memory stores here; the stores with a
// database of their own run them in their own modules.

func newMemoryStore(t *testing.T) *memstore.Store {
	t.Helper()
	s, err := memstore.New()
	if err != nil {
		t.Fatalf("memstore.New() = %v; want nil", err)
	}
	return s
}

func TestMemoryRefreshStore(t *testing.T) {
	authtest.TestRefreshStore(t, func(t *testing.T) authstore.RefreshStore { return newMemoryStore(t) })
}

func TestMemoryRevocationStore(t *testing.T) {
	authtest.TestRevocationStore(t, func(t *testing.T) authstore.RevocationStore { return newMemoryStore(t) })
}

func TestMemoryOneTimeStore(t *testing.T) {
	authtest.TestOneTimeStore(t, func(t *testing.T) authstore.OneTimeStore { return newMemoryStore(t) })
}

func TestMemoryThrottle(t *testing.T) {
	authtest.TestThrottle(t, func(t *testing.T, rate authstore.Rate) authstore.Throttle {
		t.Helper()
		th, err := memstore.NewThrottle(rate)
		if err != nil {
			t.Fatalf("memstore.NewThrottle(%+v) = %v; want nil", rate, err)
		}
		return th
	})
}

func TestMemoryKeyStore(t *testing.T) {
	authtest.TestKeyStore(t, func(t *testing.T) authstore.KeyStore { return &memstore.Keys{} })
}
