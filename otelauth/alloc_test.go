//go:build !race

// The race detector makes sync.Pool drop items at random: allocation
// counts hold without it only.

package otelauth_test

import (
	"context"
	"testing"

	"github.com/jwtkit/auth"
)

// TestVerifyAllocs: telemetry adds no allocation to a verification, valid
// or refused.
func TestVerifyAllocs(t *testing.T) {
	plain, withOtel, token := verifyPair(t)
	ctx := context.Background()
	for _, tok := range []string{token, "garbage", token[:len(token)-2] + "xx"} {
		allocs := func(a *auth.Auth) float64 {
			return testing.AllocsPerRun(200, func() { _, _ = a.Verify(ctx, tok) })
		}
		if p, o := allocs(plain), allocs(withOtel); o > p {
			t.Errorf("Verify(%.12q...): %v allocations with telemetry, %v without", tok, o, p)
		}
	}
}
