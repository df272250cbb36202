package sqlstore_test

import (
	"testing"

	"github.com/jwtkit/auth/authstore"
	"github.com/jwtkit/auth/authtest"
)

// TestOneTimeStore runs the conformance suite of the one-time store on
// every setup of suiteSetups.
func TestOneTimeStore(t *testing.T) {
	for _, tt := range suiteSetups {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			authtest.TestOneTimeStore(t, func(t *testing.T) authstore.OneTimeStore { return tt.new(t) })
		})
	}
}
