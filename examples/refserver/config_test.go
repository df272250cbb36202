package refserver

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jwtkit/auth"
)

// TestBlame checks that each configuration error of auth.New for an option
// the environment sets is reported under that variable, against the
// library's own errors.
func TestBlame(t *testing.T) {
	t.Parallel()
	key, err := auth.GenerateKey(nil, auth.HS256)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := auth.NewKeySet(key)
	if err != nil {
		t.Fatal(err)
	}
	base := []auth.Option{auth.WithKeys(keys), auth.WithIssuer("iss"), auth.WithAudience("aud")}
	tests := []struct {
		name string
		opt  auth.Option
		want string
	}{
		{"access ttl over a day", auth.WithAccessTTL(25 * time.Hour), "AUTH_ACCESS_TTL"},
		{"zero access ttl", auth.WithAccessTTL(0), "AUTH_ACCESS_TTL"},
		{"refresh ttl past the session", auth.WithRefreshTTL(721 * time.Hour), "AUTH_REFRESH_TTL"},
		{"zero refresh ttl", auth.WithRefreshTTL(0), "AUTH_REFRESH_TTL"},
		{"reuse grace over five minutes", auth.WithReuseGrace(6 * time.Minute), "AUTH_REUSE_GRACE"},
		{"negative reuse grace", auth.WithReuseGrace(-time.Second), "AUTH_REUSE_GRACE"},
		{"empty issuer", auth.WithIssuer(""), "AUTH_ISSUER"},
		{"empty audience", auth.WithAudience(""), "AUTH_AUDIENCE"},
		{"keys twice", auth.WithKeys(keys), "AUTH_ALG"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := auth.New(append(base, tt.opt)...)
			got := blame(err)
			if !errors.Is(got, auth.ErrConfig) || !strings.HasPrefix(got.Error(), tt.want+": ") {
				t.Errorf("blame(%v) = %v; want an auth.ErrConfig beginning with %s", err, got, tt.want)
			}
		})
	}

	// Errors of no option the environment sets pass through as they are.
	other := fmt.Errorf("%w: WithClock: nil clock", auth.ErrConfig)
	for _, err := range []error{nil, errors.New("boom"), other} {
		if got := blame(err); got != err {
			t.Errorf("blame(%v) = %v; want it unchanged", err, got)
		}
	}
}
