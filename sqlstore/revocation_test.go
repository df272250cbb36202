package sqlstore_test

import (
	"testing"

	"github.com/jwtkit/auth/authstore"
	"github.com/jwtkit/auth/authtest"
)

// TestRevocationStore runs the conformance suite of the revocation store
// on each dialect, with a fresh schema or file per subtest.
func TestRevocationStore(t *testing.T) {
	for _, tt := range stores {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			authtest.TestRevocationStore(t, func(t *testing.T) authstore.RevocationStore { return tt.new(t) })
		})
	}
}
