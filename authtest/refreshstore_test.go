package authtest_test

import (
	"testing"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/authtest"
)

func TestMemoryStore(t *testing.T) {
	authtest.TestRefreshStore(t, func(*testing.T) auth.RefreshStore { return auth.NewMemoryStore() })
}
