package redisstore_test

import (
	"testing"

	"github.com/jwtkit/auth/authstore"
	"github.com/jwtkit/auth/authtest"
)

func TestRevocationStore(t *testing.T) {
	c := newClient(t)
	authtest.TestRevocationStore(t, func(t *testing.T) authstore.RevocationStore { return newStore(t, c) })
}
